// What the SFU offers: codecs and transport bitrates. Simulcast layers are the client's choice
// (web/src/lib/meeting/simulcast.ts); the server only forwards the layer a consumer asks for.
import type { types } from 'mediasoup';

/**
 * Opus for audio; VP8 and VP9 for video. H.264 is deliberately absent: SFrame over H.264 needs
 * NAL-unit-aware encryption that Conclave does not implement yet (ARCHITECTURE.md, media path).
 */
export const MEDIA_CODECS: types.RtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, usedtx: 1 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP9',
    clockRate: 90000,
    parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 },
  },
];

export const WEBRTC_TRANSPORT_LIMITS = {
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 3_000_000,
};
