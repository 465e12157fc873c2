// Which bytes of an H.264 NAL unit stay clear under Conclave's SFrame layout (crypto-worker/README.md,
// "H.264"). Computed from the NAL unit's own clear bytes only, so a sender (on the plaintext) and a
// receiver (on the wire form) always agree, and an SFU can read every NAL unit's type.
//
//   parameter sets (SPS 7, PPS 8, SPS extension 13, subset SPS 15)  the whole NAL unit
//   slices (non-IDR 1, IDR 5)      header byte + the bytes holding first_mb_in_slice, slice_type,
//                                  pic_parameter_set_id (sliceHeader.ts)
//   unspecified (0, 24-31)         refused: RTP reads 24-31 as STAP/MTAP/FU packets (RFC 6184 §5.2)
//   anything else (SEI, AUD, …)    the header byte
import { SFrameError } from '../sframe/errors.ts';
import { nalUnitType } from './annexB.ts';
import { parseSliceHeaderStart } from './sliceHeader.ts';

/** §7.4.1 Table 7-1. */
export const NAL_UNIT_TYPES = {
  slice: 1,
  idrSlice: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  accessUnitDelimiter: 9,
  spsExtension: 13,
  subsetSps: 15,
} as const;

const PARAMETER_SETS: ReadonlySet<number> = new Set([
  NAL_UNIT_TYPES.sps,
  NAL_UNIT_TYPES.pps,
  NAL_UNIT_TYPES.spsExtension,
  NAL_UNIT_TYPES.subsetSps,
]);

/** Parameter sets carry coding parameters (profile, level, picture size), no picture content. */
export function isParameterSet(type: number): boolean {
  return PARAMETER_SETS.has(type);
}

export function isSlice(type: number): boolean {
  return type === NAL_UNIT_TYPES.slice || type === NAL_UNIT_TYPES.idrSlice;
}

/** Types H.264 leaves unspecified; 24-31 collide with RFC 6184's aggregation and fragmentation units. */
export function isUnspecified(type: number): boolean {
  return type === 0 || type >= 24;
}

/**
 * How many leading bytes of `nal` (header byte included) stay clear. Throws SFrameError('malformed')
 * for an unspecified type or a slice whose header start does not parse.
 */
export function clearLength(nal: Uint8Array): number {
  const type = nalUnitType(nal[0] ?? 0);
  if (isUnspecified(type)) throw new SFrameError('malformed', `H.264: NAL unit type ${type} is not sent`);
  if (isParameterSet(type)) return nal.length;
  if (isSlice(type)) return 1 + parseSliceHeaderStart(nal.subarray(1)).length;
  return 1;
}
