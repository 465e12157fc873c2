// Conclave's H.264 layout (crypto-worker/README.md, "H.264") as an auditor checks it, without a key:
// each NAL unit keeps its header byte; parameter sets (types 7, 8, 13, 15) stay whole; a slice
// (1, 5) keeps the bytes of its first three header fields; every other byte of a NAL unit is
// escaped SFrame ciphertext ending in the trailer 80 00 00 03 80. The SFrame header opens the first
// encrypted part and the tag closes the last.
//
// Why a plaintext slice is always caught: the trailer holds 00 00 03 followed by a byte above 03,
// which H.264 §7.4.1 forbids inside any NAL unit, so a conforming encoder's slice never ends with it.
//
// Written out here from the README, not taken from the crypto worker, so the audit checks the worker
// instead of sharing its mistakes; only key-free parsers are imported (Annex B splitting, emulation
// prevention, the slice header's Exp-Golomb codes).
import {
  splitAnnexB,
  removeEmulationPrevention,
  trailingZeroRun,
  parseSliceHeaderStart,
} from '@conclave/crypto-worker/h264/parse';
import { SFrameError } from '@conclave/crypto-worker/sframe/wire';

/** The bytes that close every encrypted NAL unit Conclave sends (crypto-worker/README.md, "H.264"). */
export const CONCLAVE_H264_TRAILER = [0x80, 0x00, 0x00, 0x03, 0x80] as const;
const PARAMETER_SETS = new Set([7, 8, 13, 15]);
const NAL_TYPE_NAMES: Record<number, string> = {
  1: 'slice',
  5: 'IDR slice',
  6: 'SEI',
  7: 'SPS',
  8: 'PPS',
  9: 'access unit delimiter',
};

/** Why an H.264 frame is not in Conclave's layout. */
export type H264LayoutViolation =
  | { code: 'bad-nal-unit'; message: string }
  /** A NAL unit with bytes beyond its clear part but no trailer: what an encoder wrote, in the clear. */
  | { code: 'h264-plaintext'; message: string; plaintext: string };

/** The verdict on an H.264 frame's layout; when ok, `sframe` is its SFrame part put back together. */
export type H264Layout =
  | { ok: true; keyframe: boolean; sframe: Uint8Array; encryptedNalUnits: number }
  | ({ ok: false; keyframe: boolean } & H264LayoutViolation);

function nalName(type: number): string {
  return `${NAL_TYPE_NAMES[type] ?? 'NAL unit'} (type ${type})`;
}

function endsWithTrailer(bytes: Uint8Array): boolean {
  const from = bytes.length - CONCLAVE_H264_TRAILER.length;
  return from >= 0 && CONCLAVE_H264_TRAILER.every((byte, i) => bytes[from + i] === byte);
}

/** Clear bytes of one NAL unit, or why it cannot be one of Conclave's. */
function clearBytes(nal: Uint8Array, type: number): number | string {
  if ((nal[0] ?? 0) & 0x80) return 'forbidden_zero_bit is set';
  if (type === 0 || type >= 24) return `type ${type} is unspecified in H.264; Conclave never sends it`;
  if (PARAMETER_SETS.has(type)) return nal.length;
  if (type !== 1 && type !== 5) return 1;
  try {
    return 1 + parseSliceHeaderStart(nal.subarray(1)).length;
  } catch (error) {
    if (error instanceof SFrameError) return `slice header: ${error.message}`;
    throw error;
  }
}

function describeSlice(nal: Uint8Array, type: number): string {
  try {
    const start = parseSliceHeaderStart(nal.subarray(1));
    return `${nalName(type)} of ${nal.length} bytes, first_mb_in_slice ${start.firstMbInSlice}, slice_type ${start.sliceType}`;
  } catch {
    return `${nalName(type)} of ${nal.length} bytes`;
  }
}

/**
 * Checks one frame's NAL units (Annex B bytes, as the H.264 depacketizer emits them) against the
 * layout and returns the SFrame part (`header ‖ ciphertext ‖ tag`) for the SFrame checks. Never throws.
 */
export function checkH264Layout(annexB: Uint8Array): H264Layout {
  let units;
  try {
    units = splitAnnexB(annexB).units.map(({ start, end }) => annexB.subarray(start, end));
  } catch (error) {
    if (!(error instanceof SFrameError)) throw error;
    return { ok: false, keyframe: false, code: 'bad-nal-unit', message: error.message };
  }
  const types = units.map((nal) => (nal[0] ?? 0) & 0x1f);
  const keyframe = types.some((type) => type === 5 || type === 7);
  const regions: Uint8Array[] = [];
  // A plaintext slice (picture data) is what to report; another plaintext NAL unit only without one.
  let plaintextOther: H264Layout | undefined;
  for (const nal of units) {
    const type = (nal[0] ?? 0) & 0x1f;
    const clear = clearBytes(nal, type);
    if (typeof clear === 'string')
      return { ok: false, keyframe, code: 'bad-nal-unit', message: `${nalName(type)}: ${clear}` };
    const rest = nal.subarray(clear);
    if (rest.length === 0) continue;
    if (rest.length <= CONCLAVE_H264_TRAILER.length || !endsWithTrailer(rest)) {
      const slice = type === 1 || type === 5;
      const plaintext = slice ? describeSlice(nal, type) : `${nalName(type)} of ${nal.length} bytes`;
      const found: H264Layout = {
        ok: false,
        keyframe,
        code: 'h264-plaintext',
        message: `a plaintext ${plaintext}: its bytes after the clear part do not end in Conclave's trailer`,
        plaintext,
      };
      if (slice) return found;
      plaintextOther ??= found;
      continue;
    }
    try {
      regions.push(
        removeEmulationPrevention(
          rest.subarray(0, rest.length - CONCLAVE_H264_TRAILER.length),
          trailingZeroRun(nal.subarray(0, clear)),
        ),
      );
    } catch (error) {
      if (!(error instanceof SFrameError)) throw error;
      return { ok: false, keyframe, code: 'bad-nal-unit', message: `${nalName(type)}: ${error.message}` };
    }
  }
  if (plaintextOther !== undefined) return plaintextOther;
  const size = regions.reduce((n, r) => n + r.length, 0);
  const sframe = new Uint8Array(size);
  let at = 0;
  for (const region of regions) {
    sframe.set(region, at);
    at += region.length;
  }
  return { ok: true, keyframe, sframe, encryptedNalUnits: regions.length };
}
