// Conclave's NAL-unit-aware SFrame layout for one H.264 frame (crypto-worker/README.md, "H.264"):
// every NAL unit keeps its start code and clear bytes (clearParts.ts); the rest of each NAL unit is
// the plaintext of one SFrame encryption per frame (RFC 9605 §4.4.3), whose output
// `header ‖ ciphertext ‖ tag` is cut back into the NAL units at the same places: the SFrame header
// opens the first encrypted NAL unit, the tag closes the last. Each encrypted part is escaped
// (emulationPrevention.ts) and followed by TRAILER, so no start code can appear and the last byte is
// never zero. The metadata (RFC 9605 AAD) binds every clear byte and where each NAL unit begins and ends.
//
// What must hold: open(seal(frame)) === frame byte for byte; the wire form is an Annex B stream with
// the same NAL units, in order, with the same header bytes; any change to a clear byte, a boundary or
// the ciphertext fails (auth-failed or malformed), never yields other plaintext.
import { concatBytes } from '../sframe/bytes.ts';
import { SFrameError } from '../sframe/errors.ts';
import type { SealedParts } from '../sframe/frame.ts';
import { decodeHeader } from '../sframe/header.ts';
import { splitAnnexB } from './annexB.ts';
import { clearLength } from './clearParts.ts';
import {
  insertEmulationPrevention,
  removeEmulationPrevention,
  trailingZeroRun,
} from './emulationPrevention.ts';

/**
 * Closes every encrypted part. 00 00 03 followed by a byte above 03 never occurs in a conforming NAL
 * unit (§7.4.1), so a plaintext slice cannot pass for an encrypted one; the first byte ends any zero
 * run of the escaped ciphertext before it, the last is not zero.
 */
export const TRAILER = Uint8Array.of(0x80, 0x00, 0x00, 0x03, 0x80);
/** Domain separation of the metadata from other codecs' clear prefixes. */
const METADATA_LABEL = Uint8Array.of(0x48, 0x32, 0x36, 0x34); // "H264"

/** One NAL unit as the metadata describes it. */
interface UnitLayout {
  /** Zero bytes + start code before the NAL unit. */
  lead: number;
  clear: Uint8Array;
  /** Bytes of the NAL unit that are encrypted (plaintext length). */
  encryptedLength: number;
}

function malformed(message: string): SFrameError {
  return new SFrameError('malformed', `H.264: ${message}`);
}

/**
 * The SFrame metadata of a frame: "H264" ‖ u32 n ‖ per NAL unit (u32 lead ‖ u32 clear length ‖
 * u32 encrypted length ‖ clear bytes) ‖ u32 trailing zeros. Lengths first, so it parses one way only.
 */
export function h264Metadata(units: readonly UnitLayout[], trailingZeros: number): Uint8Array {
  let size = METADATA_LABEL.length + 8;
  for (const unit of units) size += 12 + unit.clear.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(METADATA_LABEL);
  let at = METADATA_LABEL.length;
  view.setUint32(at, units.length);
  at += 4;
  for (const unit of units) {
    view.setUint32(at, unit.lead);
    view.setUint32(at + 4, unit.clear.length);
    view.setUint32(at + 8, unit.encryptedLength);
    out.set(unit.clear, at + 12);
    at += 12 + unit.clear.length;
  }
  view.setUint32(at, trailingZeros);
  return out;
}

function startCode(lead: number): Uint8Array {
  const bytes = new Uint8Array(lead);
  bytes[lead - 1] = 1;
  return bytes;
}

export interface SealedH264Frame<T extends SealedParts> {
  frame: Uint8Array;
  sealed: T;
}

/**
 * Encrypts one Annex B frame with `seal` (an SFrame encryption of `plaintext` under `metadata`, e.g.
 * SenderContext.encrypt). Throws SFrameError('malformed') for bytes that are not an Annex B frame
 * or hold nothing to encrypt (then the frame must be dropped, never sent).
 */
export async function sealH264Frame<T extends SealedParts>(
  frame: Uint8Array,
  seal: (metadata: Uint8Array, plaintext: Uint8Array) => Promise<T>,
): Promise<SealedH264Frame<T>> {
  const { units, trailingZeros } = splitAnnexB(frame);
  const layout = units.map(({ lead, start, end }) => {
    const nal = frame.subarray(start, end);
    const clear = clearLength(nal);
    return {
      lead,
      clear: nal.subarray(0, clear),
      encrypted: nal.subarray(clear),
      encryptedLength: end - start - clear,
    };
  });
  const encrypted = layout.filter((unit) => unit.encryptedLength > 0);
  if (encrypted.length === 0) throw malformed('the frame has no NAL unit payload to encrypt');
  const sealed = await seal(
    h264Metadata(layout, trailingZeros),
    concatBytes(...encrypted.map((unit) => unit.encrypted)),
  );
  const sframe = concatBytes(sealed.header, sealed.sealed);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const unit of layout) {
    parts.push(startCode(unit.lead), unit.clear);
    if (unit.encryptedLength === 0) continue;
    const first = unit === encrypted[0];
    const last = unit === encrypted[encrypted.length - 1];
    const end = last ? sframe.length : offset + unit.encryptedLength + (first ? sealed.header.length : 0);
    parts.push(insertEmulationPrevention(sframe.subarray(offset, end), trailingZeroRun(unit.clear)), TRAILER);
    offset = end;
  }
  parts.push(new Uint8Array(trailingZeros));
  return { frame: concatBytes(...parts), sealed };
}

function endsWithTrailer(bytes: Uint8Array): boolean {
  const from = bytes.length - TRAILER.length;
  return from >= 0 && TRAILER.every((byte, i) => bytes[from + i] === byte);
}

/** A wire NAL unit: its clear bytes and, when it has one, its encrypted part with escapes removed. */
interface WireUnit {
  lead: number;
  clear: Uint8Array;
  region: Uint8Array | undefined;
}

function readWireUnits(frame: Uint8Array): { units: WireUnit[]; trailingZeros: number } {
  const { units, trailingZeros } = splitAnnexB(frame);
  const wire = units.map(({ lead, start, end }) => {
    const nal = frame.subarray(start, end);
    const clear = nal.subarray(0, clearLength(nal));
    const rest = nal.subarray(clear.length);
    if (rest.length === 0) return { lead, clear, region: undefined };
    if (rest.length <= TRAILER.length || !endsWithTrailer(rest)) {
      throw malformed('a NAL unit with bytes beyond its clear part lacks the encrypted-part trailer');
    }
    const region = removeEmulationPrevention(
      rest.subarray(0, rest.length - TRAILER.length),
      trailingZeroRun(clear),
    );
    return { lead, clear, region };
  });
  return { units: wire, trailingZeros };
}

/**
 * Decrypts one frame in Conclave's H.264 layout with `open` (an SFrame decryption of `sframe` under
 * `metadata`, e.g. ReceiverKeyRing.decrypt, returning the plaintext). `tagLength` is the suite's Nt.
 * Throws SFrameError('malformed') for a frame not in the layout; `open`'s errors pass through.
 */
export async function openH264Frame(
  frame: Uint8Array,
  tagLength: number,
  open: (metadata: Uint8Array, sframe: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const { units, trailingZeros } = readWireUnits(frame);
  const regions = units.flatMap((unit) => (unit.region === undefined ? [] : [unit.region]));
  if (regions.length === 0) throw malformed('the frame has no encrypted NAL unit');
  const sframe = concatBytes(...regions);
  const headerLength = decodeHeader(sframe).length;
  const layout: UnitLayout[] = units.map(({ lead, clear, region }) => {
    if (region === undefined) return { lead, clear, encryptedLength: 0 };
    const first = region === regions[0] ? headerLength : 0;
    const last = region === regions[regions.length - 1] ? tagLength : 0;
    const encryptedLength = region.length - first - last;
    if (encryptedLength < 1)
      throw malformed('an encrypted NAL unit part is too short for its share of the frame');
    return { lead, clear, encryptedLength };
  });
  const plaintext = await open(h264Metadata(layout, trailingZeros), sframe);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const unit of layout) {
    parts.push(startCode(unit.lead), unit.clear, plaintext.subarray(offset, offset + unit.encryptedLength));
    offset += unit.encryptedLength;
  }
  if (offset !== plaintext.length) throw malformed('the plaintext does not fill the NAL units');
  parts.push(new Uint8Array(trailingZeros));
  return concatBytes(...parts);
}
