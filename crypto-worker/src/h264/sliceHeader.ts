// The start of an H.264 slice header (ITU-T H.264 §7.3.3): first_mb_in_slice, slice_type and
// pic_parameter_set_id, three Exp-Golomb codes (§9.1). Receivers' RTP depacketizers read them from
// the packets before any frame transform runs (libwebrtc drops a slice whose header does not parse,
// and starts a frame at first_mb_in_slice = 0), so Conclave leaves the bytes that hold them clear.
import { SFrameError } from '../sframe/errors.ts';

export interface SliceHeaderStart {
  firstMbInSlice: number;
  sliceType: number;
  picParameterSetId: number;
  /**
   * NAL unit payload bytes (after the one-byte NAL header, counted as they stand, emulation
   * prevention bytes included) up to and including the one that holds the last bit of the three codes.
   */
  length: number;
}

/** §7.4.3: slice_type 0-9; pic_parameter_set_id 0-255; a picture has at most 139 264 macroblocks (Table A-1). */
const MAX_SLICE_TYPE = 9;
const MAX_PPS_ID = 255;
const MAX_FIRST_MB = 139_264;
/** ue(v) of a 32-bit value has at most 31 leading zero bits (§9.1). */
const MAX_LEADING_ZEROS = 31;

function malformed(message: string): SFrameError {
  return new SFrameError('malformed', `H.264 slice header: ${message}`);
}

/** Reads RBSP bits (§7.4.1: emulation prevention bytes skipped) from a NAL unit's escaped payload. */
class RbspBitReader {
  readonly #bytes: Uint8Array;
  #byte = -1;
  #bit = 8;
  #zeros = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Index of the byte the last bit came from. */
  get position(): number {
    return this.#byte;
  }

  #nextByte(): void {
    let index = this.#byte + 1;
    if (this.#zeros >= 2 && this.#bytes[index] === 0x03) {
      index++;
      this.#zeros = 0;
    }
    const value = this.#bytes[index];
    if (value === undefined) throw malformed('cut off');
    this.#zeros = value === 0 ? this.#zeros + 1 : 0;
    this.#byte = index;
    this.#bit = 0;
  }

  bit(): number {
    if (this.#bit === 8) this.#nextByte();
    const value = ((this.#bytes[this.#byte] ?? 0) >> (7 - this.#bit)) & 1;
    this.#bit++;
    return value;
  }

  /** §9.1 ue(v). */
  unsignedExpGolomb(): number {
    let leadingZeros = 0;
    while (this.bit() === 0) {
      if (++leadingZeros > MAX_LEADING_ZEROS) throw malformed('an Exp-Golomb code longer than 32 bits');
    }
    let suffix = 0;
    for (let i = 0; i < leadingZeros; i++) suffix = suffix * 2 + this.bit();
    return 2 ** leadingZeros - 1 + suffix;
  }
}

/**
 * Parses the three codes from `payload` (the NAL unit without its header byte). Throws
 * SFrameError('malformed') when they are cut off or out of range.
 */
export function parseSliceHeaderStart(payload: Uint8Array): SliceHeaderStart {
  const reader = new RbspBitReader(payload);
  const firstMbInSlice = reader.unsignedExpGolomb();
  const sliceType = reader.unsignedExpGolomb();
  const picParameterSetId = reader.unsignedExpGolomb();
  if (firstMbInSlice > MAX_FIRST_MB) throw malformed(`first_mb_in_slice ${firstMbInSlice} is too large`);
  if (sliceType > MAX_SLICE_TYPE) throw malformed(`slice_type ${sliceType} is not 0-9`);
  if (picParameterSetId > MAX_PPS_ID)
    throw malformed(`pic_parameter_set_id ${picParameterSetId} is not 0-255`);
  return { firstMbInSlice, sliceType, picParameterSetId, length: reader.position + 1 };
}
