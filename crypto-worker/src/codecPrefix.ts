// The clear prefix: the first bytes of an encoded frame that stay readable for the SFU. They are
// not encrypted but are authenticated, as SFrame metadata (RFC 9605 §4.4.3 aad = header ‖ metadata).
//
//   VP8 key frame  10 bytes: frame tag (3) + start code (3) + dimensions (4), RFC 6386 §9.1
//   VP8 delta       3 bytes: frame tag; mediasoup reads the key-frame bit from its first byte
//   VP9, AV1, Opus  0 bytes: VP9/AV1 layer info lives in the RTP payload / dependency descriptor
//
// H.264 has no single prefix: its clear bytes sit in every NAL unit (h264/h264Frame.ts), and
// clearPrefixLength refuses it so that no caller can send H.264 through the prefix path by mistake.
import { SFrameError } from './sframe/errors.ts';

export const SUPPORTED_CODECS = ['vp8', 'vp9', 'av1', 'h264', 'opus'] as const;
export type SupportedCodec = (typeof SUPPORTED_CODECS)[number];

const VP8_KEY_FRAME_PREFIX = 10;
const VP8_DELTA_FRAME_PREFIX = 3;

export function isSupportedCodec(value: unknown): value is SupportedCodec {
  return typeof value === 'string' && (SUPPORTED_CODECS as readonly string[]).includes(value);
}

/** RFC 6386 §9.1: bit 0 of the VP8 frame tag is 0 for a key frame. */
export function isVp8KeyFrame(frame: Uint8Array): boolean {
  const first = frame[0];
  return first !== undefined && (first & 0x01) === 0;
}

/**
 * Length of the clear prefix. Computed from the bytes themselves (never from RTP metadata), so sender
 * and receiver always agree. Throws SFrameError('malformed') for a frame shorter than its prefix.
 */
export function clearPrefixLength(codec: SupportedCodec, frame: Uint8Array): number {
  if (codec === 'h264')
    throw new SFrameError('invalid-argument', 'H.264 frames use the NAL unit layout, not a prefix');
  if (codec !== 'vp8') return 0;
  const length = isVp8KeyFrame(frame) ? VP8_KEY_FRAME_PREFIX : VP8_DELTA_FRAME_PREFIX;
  if (frame.length < length) throw new SFrameError('malformed', 'VP8 frame is shorter than its clear prefix');
  return length;
}

/**
 * The codec of an encoded frame: from the frame's own metadata (`mimeType`, e.g. "video/VP8") when
 * the browser provides it, else the codec named when the transform was attached. `undefined` means
 * a codec we cannot identify (or must not send): the frame is dropped.
 */
export function frameCodec(
  mimeType: string | undefined,
  fallback: SupportedCodec | undefined,
): SupportedCodec | undefined {
  if (mimeType === undefined || mimeType === '') return fallback;
  const name = mimeType.toLowerCase().split('/').pop();
  return isSupportedCodec(name) ? name : undefined;
}
