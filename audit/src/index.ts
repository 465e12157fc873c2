// @conclave/audit: verifying at the SFU that forwarded media is SFrame ciphertext. RTP parsing,
// frame reassembly, and key-free checks of each frame's layout and counters. Used by the test tap
// on the SFU (test/support/sfuTap.ts) and by the capture verifier (`npm run audit -- verify`, over
// pcap files). The capture protocol is `@conclave/audit/capture-protocol`, the CLI
// `@conclave/audit/cli`.
//
// What must hold: nothing here holds or derives a key, and nothing imports the server. Only the
// key-free SFrame wire helpers (`@conclave/crypto-worker/sframe/wire`: header codec, suite table,
// KID layout), the H.264 parsers (`@conclave/crypto-worker/h264/parse`), @conclave/common and zod
// are imported; test/unit/audit/keyFree.test.ts holds the import graph to that.
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
  H264Depacketizer,
  parseH264Payload,
  type H264DepacketizerStats,
  type H264Frame,
} from './h264Depacketizer.ts';
export { CONCLAVE_H264_TRAILER, checkH264Layout, type H264Layout } from './h264Layout.ts';
export {
  Vp9Depacketizer,
  parseVp9PayloadDescriptor,
  type Vp9Frame,
  type Vp9PayloadDescriptor,
} from './vp9Depacketizer.ts';
export { describeVp9Picture, vp9PlaintextPicture, type Vp9PlaintextPicture } from './vp9Picture.ts';
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
export {
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  PcapFormatError,
  PcapWriter,
  readPcap,
  writePcap,
  type PcapCapture,
  type PcapFormatReason,
  type PcapSkipReason,
  type PcapUdpPacket,
  type PcapWriterOptions,
  type UdpDatagram,
  type UdpEndpoint,
} from './pcap.ts';
export {
  describeVp8Picture,
  parseVp8PictureHeader,
  vp8PlaintextPicture,
  type Vp8PictureHeader,
  type Vp8PictureParse,
} from './vp8Picture.ts';
export {
  StreamMapError,
  parsePayloadTypeMap,
  parseStreamMap,
  streamMapSchema,
  type StreamMapEntry,
  type StreamMapErrorCode,
} from './streamMap.ts';
export { datagramKind, type DatagramKind } from './datagramKind.ts';
export { MAX_INDEX_BITS, MIN_INDEX_BITS, mlsReadings, type MlsReading } from './mlsReadings.ts';
export type {
  KidReport,
  SequenceGap,
  StreamReport,
  StreamViolation,
  StreamViolationCode,
} from './streamReport.ts';
export { verifyCapture, type CapturedDatagram, type VerifyOptions } from './verify.ts';
export { verifyReportToJson, type VerifyReport } from './verifyReport.ts';
