// What the SFU offers: codecs and transport bitrates. Simulcast layers are the client's choice
// (web/src/lib/meeting/simulcast.ts); the server only forwards the layer a consumer asks for.
import type { types } from 'mediasoup';

/**
 * Opus for audio; VP8, VP9 and H.264 for video, in that order of preference: a client sends the
 * first one its browser shares with the router unless it asks for another
 * (web/src/lib/meeting/videoCodec.ts). H.264 frames are encrypted NAL unit by NAL unit
 * (crypto-worker/README.md, "H.264"): packetization-mode 1 (single NAL, STAP-A, FU-A; RFC 6184),
 * Constrained Baseline level 3.1, what every WebRTC browser encodes.
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
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
];

export const WEBRTC_TRANSPORT_LIMITS = {
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 3_000_000,
};
