// Verifying at the SFU that forwarded media is SFrame ciphertext: RTP parsing, frame reassembly,
// and key-free checks of each frame's layout and counters. Used by the test tap on the SFU
// (test/support/sfuTap.ts) and meant for the capture verifier (`npm run audit`). Nothing here holds
// or derives a key: only the SFrame header codec, suite table and KID layout are imported.
export {
  MalformedPacketError,
  isMalformedPacketError,
  type AuditLayer,
  type MalformedReason,
} from './errors.ts';
export type { AuditCodec, MediaFrame } from './mediaFrame.ts';
export {
  ONE_BYTE_EXTENSION_PROFILE,
  TWO_BYTE_EXTENSION_PROFILE,
  parseRtpPacket,
  type RtpExtensionElement,
  type RtpHeaderExtension,
  type RtpPacket,
} from './rtp.ts';
export {
  Vp8Depacketizer,
  isVp8KeyFrame,
  parseVp8PayloadDescriptor,
  type Vp8DepacketizerOptions,
  type Vp8DepacketizerStats,
  type Vp8Frame,
  type Vp8PayloadDescriptor,
} from './vp8Depacketizer.ts';
export { opusFrameFromPacket } from './opus.ts';
export {
  conclavePrefixLength,
  inspectSFrameFrame,
  type FrameInspection,
  type FrameViolation,
  type FrameViolationCode,
  type InspectOptions,
  type MlsKidReport,
  type SFrameFrameInfo,
} from './sframeFrameInspector.ts';
export { SFrameStreamTracker, type KidStats, type NonceReuse } from './sframeStreamTracker.ts';
