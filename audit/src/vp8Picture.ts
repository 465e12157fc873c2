// Does a VP8 frame read as a plaintext picture? The frame header of RFC 6386 §9 (§19.1 uncompressed
// data chunk, §19.2 frame header read with the boolean decoder of §7.3) up to the quantizer indices
// and refresh flags, and the token partition layout of §9.5.
//
// Why this tells plaintext from Conclave ciphertext (docs/ARCHITECTURE.md, "Media path"): after the
// clear prefix a Conclave frame holds an SFrame header whose first bit is X, set whenever the KID is
// 8 or more (RFC 9605 §4.3); Conclave video KIDs are at least 32 (context ≥ 1 above S ≥ 1 and E = 4
// bits, RFC 9605 §5.2). The boolean decoder reads a first bit at probability 128 as exactly that bit,
// so every Conclave ciphertext frame decodes with color_space = 1 (reserved, §9.2) when it is a key
// frame, and segmentation_enabled = 1 when it is a delta frame. A frame that decodes with that bit 0
// and a consistent header and partition layout is what an encoder wrote: plaintext.
//
// What this cannot see: a plaintext delta frame that uses segmentation (libvpx's cyclic refresh)
// starts with a 1 like ciphertext, and its header parses no differently from random bytes. Such
// frames are left to the KID policy and the CTR tracker.

const KEY_FRAME_HEADER_LENGTH = 10;
const DELTA_FRAME_HEADER_LENGTH = 3;
/** RFC 6386 §9.1: the start code of every key frame. */
const START_CODE = [0x9d, 0x01, 0x2a] as const;

/** The fields of a VP8 frame header (RFC 6386 §9) that tell a picture from ciphertext. */
export interface Vp8PictureHeader {
  keyframe: boolean;
  /** §9.1: version (0-3), show_frame, first_part_size. */
  version: number;
  showFrame: boolean;
  firstPartitionSize: number;
  /** §9.1, key frames: 14-bit dimensions and 2-bit scaling. */
  width: number | undefined;
  height: number | undefined;
  /** §9.2, key frames: 0 (YUV BT.601) or 1 (reserved). */
  colorSpace: number | undefined;
  segmentationEnabled: boolean;
  filterType: number;
  loopFilterLevel: number;
  sharpness: number;
  /** §9.5: 1, 2, 4 or 8 DCT token partitions. */
  tokenPartitions: number;
  /** §9.6: the base quantizer index. */
  yAcQi: number;
}

/** Why bytes do not parse as a VP8 frame header. */
export type Vp8PictureFailure =
  | 'truncated'
  | 'bad-version'
  | 'bad-start-code'
  | 'bad-dimensions'
  | 'bad-first-partition-size'
  | 'reserved-color-space'
  | 'header-overruns-partition'
  | 'bad-partition-layout';

/** The result of parsing a VP8 frame header. */
export type Vp8PictureParse = ({ ok: true } & Vp8PictureHeader) | { ok: false; failure: Vp8PictureFailure };

/** RFC 6386 §7.3: the boolean entropy decoder, over one partition. */
class BoolDecoder {
  readonly #data: Uint8Array;
  #position: number;
  #value: number;
  #range = 255;
  #bitCount = 0;
  /** Set once a bit needed bytes beyond the partition. */
  overrun = false;

  constructor(data: Uint8Array) {
    this.#data = data;
    this.#value = (this.#byte(0) << 8) | this.#byte(1);
    this.#position = 2;
  }

  #byte(position: number): number {
    const byte = this.#data[position];
    if (byte === undefined) {
      this.overrun = true;
      return 0;
    }
    return byte;
  }

  /** §7.3 decode_bool: one bool whose probability of being 0 is prob/256. */
  bool(prob: number): number {
    const split = 1 + (((this.#range - 1) * prob) >> 8);
    const bigSplit = split << 8;
    let bit: number;
    if (this.#value >= bigSplit) {
      bit = 1;
      this.#range -= split;
      this.#value -= bigSplit;
    } else {
      bit = 0;
      this.#range = split;
    }
    while (this.#range < 128) {
      this.#value <<= 1;
      this.#range <<= 1;
      if (++this.#bitCount === 8) {
        this.#bitCount = 0;
        this.#value |= this.#byte(this.#position++);
      }
    }
    return bit;
  }

  /** §19.2 L(n): an unsigned n-bit literal, most significant bit first, each at probability 128. */
  literal(bits: number): number {
    let value = 0;
    for (let i = 0; i < bits; i++) value = (value << 1) | this.bool(128);
    return value;
  }

  /** A flag, and when it is set an n-bit magnitude and a sign bit (§9.3, §9.6). */
  optionalSigned(bits: number): void {
    if (this.literal(1) === 1) this.literal(bits + 1);
  }
}

/**
 * Parses a VP8 frame's header as RFC 6386 defines it. `{ ok: false }` names the first rule the bytes
 * break; never throws.
 */
export function parseVp8PictureHeader(frame: Uint8Array): Vp8PictureParse {
  const fail = (failure: Vp8PictureFailure) => ({ ok: false, failure }) as const;
  if (frame.length < DELTA_FRAME_HEADER_LENGTH) return fail('truncated');
  // §9.1: a 3-byte little-endian frame tag.
  const tag = (frame[0] ?? 0) | ((frame[1] ?? 0) << 8) | ((frame[2] ?? 0) << 16);
  const keyframe = (tag & 1) === 0;
  const version = (tag >> 1) & 0x07;
  const showFrame = ((tag >> 4) & 1) === 1;
  const firstPartitionSize = tag >>> 5;
  if (version > 3) return fail('bad-version');
  let headerLength = DELTA_FRAME_HEADER_LENGTH;
  let width: number | undefined;
  let height: number | undefined;
  if (keyframe) {
    if (frame.length < KEY_FRAME_HEADER_LENGTH) return fail('truncated');
    if (!START_CODE.every((byte, i) => frame[3 + i] === byte)) return fail('bad-start-code');
    width = ((frame[6] ?? 0) | ((frame[7] ?? 0) << 8)) & 0x3fff;
    height = ((frame[8] ?? 0) | ((frame[9] ?? 0) << 8)) & 0x3fff;
    if (width === 0 || height === 0) return fail('bad-dimensions');
    headerLength = KEY_FRAME_HEADER_LENGTH;
  }
  const partitionStart = headerLength + firstPartitionSize;
  if (firstPartitionSize < 2 || partitionStart > frame.length) return fail('bad-first-partition-size');

  const bool = new BoolDecoder(frame.subarray(headerLength, partitionStart));
  let colorSpace: number | undefined;
  if (keyframe) {
    colorSpace = bool.literal(1);
    if (colorSpace !== 0) return fail('reserved-color-space');
    bool.literal(1); // clamping_type
  }
  // §9.3 segmentation.
  const segmentationEnabled = bool.literal(1) === 1;
  if (segmentationEnabled) {
    const updateMap = bool.literal(1) === 1;
    const updateData = bool.literal(1) === 1;
    if (updateData) {
      bool.literal(1); // segment_feature_mode
      for (let i = 0; i < 4; i++) bool.optionalSigned(7); // quantizer
      for (let i = 0; i < 4; i++) bool.optionalSigned(6); // loop filter
    }
    if (updateMap) for (let i = 0; i < 3; i++) if (bool.literal(1) === 1) bool.literal(8);
  }
  // §9.4 loop filter.
  const filterType = bool.literal(1);
  const loopFilterLevel = bool.literal(6);
  const sharpness = bool.literal(3);
  if (bool.literal(1) === 1 && bool.literal(1) === 1) {
    for (let i = 0; i < 8; i++) bool.optionalSigned(6); // ref_frame and mb_mode deltas
  }
  // §9.5 token partitions, §9.6 quantizer indices.
  const tokenPartitions = 1 << bool.literal(2);
  const yAcQi = bool.literal(7);
  for (let i = 0; i < 5; i++) bool.optionalSigned(4);
  // §9.7-9.8 refresh flags.
  if (keyframe) {
    bool.literal(1); // refresh_entropy_probs
  } else {
    const refreshGolden = bool.literal(1) === 1;
    const refreshAlternate = bool.literal(1) === 1;
    if (!refreshGolden) bool.literal(2);
    if (!refreshAlternate) bool.literal(2);
    bool.literal(4); // sign biases, refresh_entropy_probs, refresh_last
  }
  if (bool.overrun) return fail('header-overruns-partition');

  // §9.5: after the first partition, 3-byte little-endian sizes of every token partition but the
  // last, then the partitions; the last takes the rest and is not empty.
  const sizesLength = 3 * (tokenPartitions - 1);
  let offset = partitionStart + sizesLength;
  if (offset > frame.length) return fail('bad-partition-layout');
  for (let i = 0; i < tokenPartitions - 1; i++) {
    const at = partitionStart + 3 * i;
    offset += (frame[at] ?? 0) | ((frame[at + 1] ?? 0) << 8) | ((frame[at + 2] ?? 0) << 16);
  }
  if (offset >= frame.length) return fail('bad-partition-layout');

  return {
    ok: true,
    keyframe,
    version,
    showFrame,
    firstPartitionSize,
    width,
    height,
    colorSpace,
    segmentationEnabled,
    filterType,
    loopFilterLevel,
    sharpness,
    tokenPartitions,
    yAcQi,
  };
}

/**
 * The header of a frame that reads as a plaintext VP8 picture (see the top of this file), or
 * `undefined`. A Conclave ciphertext frame never does.
 */
export function vp8PlaintextPicture(frame: Uint8Array): Vp8PictureHeader | undefined {
  const parsed = parseVp8PictureHeader(frame);
  if (!parsed.ok) return undefined;
  // Key frames already required color_space = 0; the delta frame's first bit is segmentation_enabled.
  if (!parsed.keyframe && parsed.segmentationEnabled) return undefined;
  const { ok: _ok, ...header } = parsed;
  return header;
}

/** One line for a report: "VP8 key frame 64×48, first partition 517 bytes, 1 token partition, q 4". */
export function describeVp8Picture(header: Vp8PictureHeader): string {
  const kind = header.keyframe ? `VP8 key frame ${header.width}×${header.height}` : 'VP8 delta frame';
  const partitions = `${header.tokenPartitions} token partition${header.tokenPartitions === 1 ? '' : 's'}`;
  return `${kind}, first partition ${header.firstPartitionSize} bytes, ${partitions}, q ${header.yAcQi}`;
}
