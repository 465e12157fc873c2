// Emulation prevention (ITU-T H.264 §7.4.1, emulation_prevention_three_byte): inside a NAL unit no
// 00 00 00, 00 00 01 or 00 00 02 may appear, so a 03 is inserted after any two zero bytes that a
// byte ≤ 03 follows. Conclave applies it to SFrame ciphertext so that encrypted bytes can never form
// a start code, and removes it again before decrypting.
//
// `leadingZeros` carries the zero run of the clear bytes just before (0-2): a region that follows a
// clear "… 00 00" must escape its first byte as if the run had begun inside it.
import { SFrameError } from '../sframe/errors.ts';

const EMULATION_PREVENTION_BYTE = 0x03;

/**
 * Whether `bytes`, after `leadingZeros` zero bytes, holds two zero bytes followed by a byte ≤ 03
 * anywhere: the only places escaping changes anything. Jumps from zero byte to zero byte, so random
 * ciphertext (one zero in 256 bytes, one such place in 4 MiB) costs a few µs per 60 KB.
 */
function needsEscapes(bytes: Uint8Array, leadingZeros: number): boolean {
  const carried = Math.min(leadingZeros, 2);
  if (carried === 2 && bytes.length > 0 && (bytes[0] ?? 0) <= EMULATION_PREVENTION_BYTE) return true;
  if (carried >= 1 && bytes[0] === 0 && (bytes[1] ?? 4) <= EMULATION_PREVENTION_BYTE) return true;
  let i = bytes.indexOf(0);
  while (i !== -1 && i + 2 < bytes.length) {
    if (bytes[i + 1] === 0 && (bytes[i + 2] ?? 4) <= EMULATION_PREVENTION_BYTE) return true;
    i = bytes.indexOf(0, i + 1);
  }
  return false;
}

/** Escapes `bytes` (§7.4.1). The result never holds 00 00 0x (x ≤ 2) and holds 00 00 03 only before x ≤ 03. */
export function insertEmulationPrevention(bytes: Uint8Array, leadingZeros = 0): Uint8Array {
  // Nearly every frame of ciphertext needs no escape at all: then its bytes are the result.
  if (!needsEscapes(bytes, leadingZeros)) return bytes;
  // At most one inserted byte per two input bytes, plus one if the carried run ends at the start.
  const out = new Uint8Array(bytes.length + Math.ceil(bytes.length / 2) + 1);
  let length = 0;
  let zeros = Math.min(leadingZeros, 2);
  for (const byte of bytes) {
    if (zeros >= 2 && byte <= EMULATION_PREVENTION_BYTE) {
      out[length++] = EMULATION_PREVENTION_BYTE;
      zeros = 0;
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

/**
 * Undoes insertEmulationPrevention. Strict, so that one wire form maps to one plaintext form: throws
 * SFrameError('malformed') for 00 00 0x (x ≤ 2), and for an 03 after two zeros that is last or is
 * followed by a byte above 03 (the escaper never writes either).
 */
export function removeEmulationPrevention(bytes: Uint8Array, leadingZeros = 0): Uint8Array {
  // No 00 00 0x (x ≤ 03) anywhere: nothing to remove and nothing to refuse.
  if (!needsEscapes(bytes, leadingZeros)) return bytes;
  const out = new Uint8Array(bytes.length);
  let length = 0;
  let zeros = Math.min(leadingZeros, 2);
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i++] ?? 0;
    if (zeros >= 2) {
      if (byte < EMULATION_PREVENTION_BYTE) {
        throw new SFrameError('malformed', 'H.264: a start code (00 00 0x) inside an escaped region');
      }
      if (byte === EMULATION_PREVENTION_BYTE) {
        const next = bytes[i];
        if (next === undefined || next > EMULATION_PREVENTION_BYTE) {
          throw new SFrameError(
            'malformed',
            'H.264: an emulation prevention byte before nothing or a byte > 03',
          );
        }
        zeros = 0;
        continue;
      }
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

/** Zero bytes at the end of `bytes`, up to 2: the run an escaper must carry into what follows. */
export function trailingZeroRun(bytes: Uint8Array): number {
  const last = bytes.length - 1;
  if (bytes[last] !== 0) return 0;
  return bytes[last - 1] === 0 ? 2 : 1;
}
