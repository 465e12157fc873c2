// H.264 Annex B byte streams (ITU-T H.264 §B.1, §B.2): how an encoder hands over one frame, as NAL
// units each preceded by a start code (zero bytes, then 00 00 01), with optional zero bytes after the
// last. Splitting keeps every byte's place, so a frame can be rebuilt exactly from its parts.
import { SFrameError } from '../sframe/errors.ts';

/** One NAL unit of a frame: `lead` zero-and-start-code bytes before it, then `start..end` (exclusive). */
export interface AnnexBNalUnit {
  /** Bytes of leading zeros plus the 00 00 01 start code before the NAL unit (≥ 3). */
  lead: number;
  start: number;
  end: number;
}

export interface AnnexBFrame {
  units: AnnexBNalUnit[];
  /** Zero bytes after the last NAL unit (trailing_zero_8bits, §B.1). */
  trailingZeros: number;
}

/** §7.4.1: nal_unit_type is the low five bits of the NAL unit header byte. */
export function nalUnitType(header: number): number {
  return header & 0x1f;
}

function malformed(message: string): SFrameError {
  return new SFrameError('malformed', `H.264 Annex B: ${message}`);
}

/** Counts zero bytes from `at`. */
function zerosFrom(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i - at;
}

/**
 * §B.2: the end of a NAL unit starting at `from` is the next 00 00 00 or 00 00 01 (or the end of the
 * bytes). Jumps from zero byte to zero byte, so long payloads cost one `indexOf` per zero.
 */
function nalUnitEnd(bytes: Uint8Array, from: number): number {
  let i = bytes.indexOf(0, from);
  while (i !== -1 && i + 2 < bytes.length) {
    if (bytes[i + 1] === 0 && (bytes[i + 2] ?? 2) <= 1) return i;
    i = bytes.indexOf(0, i + 1);
  }
  return bytes.length;
}

/**
 * Splits one frame into its NAL units. Throws SFrameError('malformed') for bytes that are not an
 * Annex B stream: no start code first, an empty NAL unit, a forbidden_zero_bit of 1 (§7.4.1), or
 * zero bytes followed by anything but a start code or the end.
 */
export function splitAnnexB(bytes: Uint8Array): AnnexBFrame {
  const units: AnnexBNalUnit[] = [];
  let at = 0;
  for (;;) {
    const zeros = zerosFrom(bytes, at);
    if (at + zeros === bytes.length && units.length > 0) return { units, trailingZeros: zeros };
    if (zeros < 2 || bytes[at + zeros] !== 1) {
      throw malformed(
        units.length === 0 ? 'the frame does not begin with a start code' : 'zero bytes inside a NAL unit',
      );
    }
    const start = at + zeros + 1;
    const end = nalUnitEnd(bytes, start);
    if (end === start) throw malformed('an empty NAL unit');
    if (((bytes[start] ?? 0) & 0x80) !== 0) throw malformed('forbidden_zero_bit is set');
    units.push({ lead: start - at, start, end });
    if (end === bytes.length) return { units, trailingZeros: 0 };
    at = end;
  }
}
