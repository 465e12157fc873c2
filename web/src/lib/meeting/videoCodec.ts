// Which codec our camera and screen are sent with. The router offers VP8, VP9 and H.264
// (server/src/media/mediasoupConfig.ts); mediasoup-client's device holds the ones this browser
// shares with it, in the router's order. By default the first is used (VP8 in every current
// browser). A meeting link may ask for another with `codec=vp9` or `codec=h264` in its fragment
// (`/r/<room>#t=<token>&codec=h264`): for devices whose encoder prefers H.264, and for tests. A
// codec the browser and router do not share is ignored, never forced.
//
// mediasoup 3.12 forwards VP9 as one stream and refuses VP9 simulcast ("not supported for
// simulcast"), so a VP9 sender sends its top layer only (found by test/e2e/codecs.spec.ts).
import type { types } from 'mediasoup-client';

export const VIDEO_CODECS = ['vp8', 'vp9', 'h264'] as const;
export type VideoCodecName = (typeof VIDEO_CODECS)[number];

/** The codec a link's fragment asks for, if it names one of VIDEO_CODECS. */
export function videoCodecFromHash(hash: string): VideoCodecName | undefined {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get('codec')?.toLowerCase();
  return (VIDEO_CODECS as readonly string[]).includes(value ?? '') ? (value as VideoCodecName) : undefined;
}

function isVideoCodec(codec: types.RtpCodecCapability, name?: string): boolean {
  const mimeType = codec.mimeType.toLowerCase();
  return (
    codec.kind === 'video' && mimeType !== 'video/rtx' && (name === undefined || mimeType === `video/${name}`)
  );
}

/**
 * The device codec to send video with: `preferred` when the browser and router share it, else the
 * first video codec they share (mediasoup-client's own default); `undefined` when they share none.
 */
export function chooseVideoCodec(
  codecs: readonly types.RtpCodecCapability[],
  preferred: VideoCodecName | undefined,
): types.RtpCodecCapability | undefined {
  return (
    (preferred === undefined ? undefined : codecs.find((codec) => isVideoCodec(codec, preferred))) ??
    codecs.find((codec) => isVideoCodec(codec))
  );
}

/** The encodings to send with `codec`: simulcast layers, or only the top one for VP9 (see above). */
export function encodingsForCodec(
  encodings: RTCRtpEncodingParameters[],
  codec: types.RtpCodecCapability | undefined,
): RTCRtpEncodingParameters[] {
  if (codec?.mimeType.toLowerCase() !== 'video/vp9' || encodings.length <= 1) return encodings;
  return encodings.slice(-1);
}
