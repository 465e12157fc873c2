// What the SFU offers: codecs, transport limits and simulcast layers.
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

/** Camera simulcast: three spatial layers, lowest first (matches the client's encodings). */
export const CAMERA_SIMULCAST_LAYERS = 3;

export const WEBRTC_TRANSPORT_LIMITS = {
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 3_000_000,
  maxSctpMessageSize: 262_144,
};

/** Tile heights (CSS pixels × devicePixelRatio) at which a consumer moves up a simulcast layer. */
export const LAYER_FOR_HEIGHT = [
  { maxHeight: 200, spatialLayer: 0 },
  { maxHeight: 400, spatialLayer: 1 },
  { maxHeight: Infinity, spatialLayer: 2 },
] as const;
