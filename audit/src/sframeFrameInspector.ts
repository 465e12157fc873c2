// Checks, without any key, that one reassembled media frame has Conclave's wire layout
// (docs/ARCHITECTURE.md, "Media path"):
//
//   clear prefix ‖ SFrame header (RFC 9605 §4.3) ‖ ciphertext ‖ tag (Nt bytes, RFC 9605 §4.5)
//
//   clear prefix: VP8 key frame 10 bytes (frame tag, start code 9d 01 2a, dimensions; RFC 6386 §9.1),
//                 VP8 delta frame 3 bytes (frame tag), VP9 and Opus 0 bytes.
//
// H.264 frames carry their clear bytes in every NAL unit instead (h264Layout.ts); the SFrame part
// is put back together from the NAL units first, then checked the same way.
//
// and that its KID can be a Conclave KID for the frame's kind of stream (RFC 9605 §5.2 with E = 4 and
// the stream contexts of crypto-worker/src/sframe/mlsKid.ts: mic 0, camera 1, screen 2).
//
// The prefix lengths are written out here from the architecture, not taken from the crypto worker, so
// the audit checks the worker instead of sharing its mistakes. Only key-free parts of the SFrame
// library are imported: the header codec, the suite table and the KID layout.
import {
  SFrameError,
  decodeHeader,
  MLS_EPOCH_BITS,
  STREAM_CONTEXTS,
  parseMlsKid,
  AES_128_GCM_SHA256_128,
  cipherSuite,
} from '@conclave/crypto-worker/sframe/wire';
import { checkH264Layout } from './h264Layout.ts';
import type { AuditCodec } from './mediaFrame.ts';
import { MAX_INDEX_BITS, MIN_INDEX_BITS } from './mlsReadings.ts';

const VP8_KEY_FRAME_PREFIX = 10;
const VP8_DELTA_FRAME_PREFIX = 3;
/** RFC 6386 §9.1: the start code in bytes 3-5 of every VP8 key frame. */
const VP8_START_CODE = [0x9d, 0x01, 0x2a] as const;

/** Why a frame is not in Conclave's SFrame layout. */
export type FrameViolationCode =
  /** A frame of no bytes. */
  | 'empty-frame'
  /** Shorter than its codec's clear prefix. */
  | 'truncated-prefix'
  /** A VP8 key frame whose prefix lacks the start code: neither VP8 nor Conclave's layout. */
  | 'bad-codec-prefix'
  /** No SFrame header after the prefix, or one that is cut off. */
  | 'no-sframe-header'
  /** Ciphertext ‖ tag shorter than the suite's tag. */
  | 'too-short'
  /** A KID that no Conclave sender would use for this kind of stream (plaintext reads as one). */
  | 'kid-outside-policy'
  /** H.264: a NAL unit Conclave never sends (unspecified type, unparsable slice header, bad escapes). */
  | 'bad-nal-unit'
  /** H.264: a NAL unit in the clear (no encrypted part where one must be), e.g. a plaintext IDR slice. */
  | 'h264-plaintext';

/** A frame that failed inspection: why, and what could be read of it. */
export interface FrameViolation {
  code: FrameViolationCode;
  message: string;
  keyframe: boolean;
  prefixLength: number;
  /** The header read after the prefix, when one could be read. */
  kid?: bigint;
  ctr?: bigint;
  /** What a plaintext frame parses as. */
  plaintext?: string;
}

/** A KID's MLS parts (RFC 9605 §5.2), when the index width S was given. */
export interface MlsKidReport {
  context: bigint;
  index: bigint;
  epochLowBits: bigint;
}

/** What inspection read from a frame in Conclave's layout. */
export interface SFrameFrameInfo {
  kid: bigint;
  ctr: bigint;
  keyframe: boolean;
  prefixLength: number;
  headerLength: number;
  /** Ciphertext ‖ tag. */
  payloadLength: number;
  /** KID mod 2^E: the low bits of the MLS epoch, whatever S is. */
  epochLowBits: bigint;
  mls: MlsKidReport | undefined;
}

/** The result of inspectSFrameFrame: the frame's SFrame parts, or its violation. */
export type FrameInspection = ({ ok: true } & SFrameFrameInfo) | { ok: false; violation: FrameViolation };

/** How strictly inspectSFrameFrame judges a frame. */
export interface InspectOptions {
  /** RFC 9605 cipher suite the sender uses, for its tag length Nt. Default 4 (AES_128_GCM_SHA256_128). */
  suite?: number;
  /**
   * 'conclave-mls' (default): the KID must fit RFC 9605 §5.2 with E = 4, some S in 1-32 (or
   * `indexBits` when given) and the context of the frame's stream kind: audio for Opus, camera or
   * screen for VP8. 'none': any KID.
   */
  kidPolicy?: 'conclave-mls' | 'none';
  /** S, when the caller knows the group (tests): the policy is exact and reports the MLS parts. */
  indexBits?: number;
}

/** Whether the codec's frames carry video contexts (camera, screen) or the audio context. */
const CONTEXTS_OF: Record<AuditCodec, readonly bigint[]> = {
  opus: [STREAM_CONTEXTS.mic],
  vp8: [STREAM_CONTEXTS.camera, STREAM_CONTEXTS.screen],
  vp9: [STREAM_CONTEXTS.camera, STREAM_CONTEXTS.screen],
  h264: [STREAM_CONTEXTS.camera, STREAM_CONTEXTS.screen],
};

/** The clear prefix length for this frame (see the layout above); H.264 has none (h264Layout.ts). */
export function conclavePrefixLength(codec: AuditCodec, frame: Uint8Array): number {
  if (codec !== 'vp8') return 0;
  return isKeyFrame(codec, frame) ? VP8_KEY_FRAME_PREFIX : VP8_DELTA_FRAME_PREFIX;
}

function isKeyFrame(codec: AuditCodec, frame: Uint8Array): boolean {
  // RFC 6386 §9.1: bit 0 of the frame tag is 0 for a key frame. Opus has no key frames.
  return codec === 'vp8' && frame.length > 0 && ((frame[0] ?? 1) & 0x01) === 0;
}

function kidFitsPolicy(kid: bigint, codec: AuditCodec, indexBits: number | undefined): boolean {
  const allowed = CONTEXTS_OF[codec];
  const widths =
    indexBits === undefined
      ? Array.from({ length: MAX_INDEX_BITS - MIN_INDEX_BITS + 1 }, (_, i) => MIN_INDEX_BITS + i)
      : [indexBits];
  return widths.some((s) => allowed.includes(parseMlsKid(kid, s, MLS_EPOCH_BITS).context));
}

/**
 * Inspects one whole frame (after depacketizing). Never throws for any bytes; throws
 * SFrameError('unsupported-suite' | 'invalid-argument') only for bad options.
 * @param frame the frame as the depacketizer put it back together
 * @param codec its codec, which fixes the clear prefix and the KID contexts allowed
 * @param options the senders' suite, the KID policy, and S when known
 * @returns the frame's SFrame parts when it is in Conclave's layout, otherwise the violation
 * @throws SFrameError for a suite that is no RFC 9605 suite, or an S outside 0-64
 * @example if (!inspectSFrameFrame(frame.data, 'vp8').ok) report(frame)
 */
export function inspectSFrameFrame(
  frame: Uint8Array,
  codec: AuditCodec,
  { suite = AES_128_GCM_SHA256_128, kidPolicy = 'conclave-mls', indexBits }: InspectOptions = {},
): FrameInspection {
  const tagLength = cipherSuite(suite).nt;
  if (indexBits !== undefined) parseMlsKid(0n, indexBits); // validates S before any frame is judged
  const h264 = codec === 'h264' && frame.length > 0 ? checkH264Layout(frame) : undefined;
  const keyframe = h264?.keyframe ?? isKeyFrame(codec, frame);
  const prefixLength = conclavePrefixLength(codec, frame);
  const violation = (
    code: FrameViolationCode,
    message: string,
    header?: { kid: bigint; ctr: bigint } | { plaintext: string },
  ) => ({ ok: false, violation: { code, message, keyframe, prefixLength, ...header } }) as const;

  if (frame.length === 0) return violation('empty-frame', 'the frame has no bytes');
  if (h264 !== undefined && !h264.ok) {
    return violation(
      h264.code,
      h264.message,
      h264.code === 'h264-plaintext' ? { plaintext: h264.plaintext } : undefined,
    );
  }
  if (frame.length < prefixLength) {
    return violation(
      'truncated-prefix',
      `${frame.length} bytes is shorter than the ${prefixLength}-byte clear prefix`,
    );
  }
  if (codec === 'vp8' && keyframe && !VP8_START_CODE.every((byte, i) => frame[3 + i] === byte)) {
    return violation('bad-codec-prefix', 'VP8 key frame without the start code 9d 01 2a in bytes 3-5');
  }
  const rest = h264?.ok === true ? h264.sframe : frame.subarray(prefixLength);
  if (rest.length === 0) return violation('no-sframe-header', 'nothing follows the clear prefix');
  let header;
  try {
    header = decodeHeader(rest);
  } catch (error) {
    if (error instanceof SFrameError && error.reason === 'malformed') {
      return violation('no-sframe-header', `the SFrame header is cut off (${error.message})`);
    }
    throw error;
  }
  const { kid, ctr, length: headerLength } = header;
  const payloadLength = rest.length - headerLength;
  if (payloadLength < tagLength) {
    return violation(
      'too-short',
      `${payloadLength} bytes after the header is shorter than the ${tagLength}-byte tag of suite ${suite}`,
      { kid, ctr },
    );
  }
  if (kidPolicy === 'conclave-mls' && !kidFitsPolicy(kid, codec, indexBits)) {
    const contexts = CONTEXTS_OF[codec].join(' or ');
    return violation(
      'kid-outside-policy',
      `KID ${kid} has no MLS context ${contexts} for a ${codec} stream` +
        (indexBits === undefined ? ' under any S' : ` with S = ${indexBits}`),
      { kid, ctr },
    );
  }
  const epochMask = (1n << BigInt(MLS_EPOCH_BITS)) - 1n;
  return {
    ok: true,
    kid,
    ctr,
    keyframe,
    prefixLength,
    headerLength,
    payloadLength,
    epochLowBits: kid & epochMask,
    mls: indexBits === undefined ? undefined : parseMlsKid(kid, indexBits, MLS_EPOCH_BITS),
  };
}
