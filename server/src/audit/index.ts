// Verifying at the SFU that forwarded media is SFrame ciphertext: RTP parsing and frame reassembly.
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
