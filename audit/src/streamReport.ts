// What the verifier reports about one RTP stream (one SSRC): where its codec came from, its packets
// and sequence gaps, its frames and their verdicts, every violation (up to a limit, all counted) and
// what each KID it carried tells. Types only: StreamAudit (streamAudit.ts) fills them in.
//
// What must hold: a report is plain data (numbers, strings, bigints for KIDs and CTRs), so
// verifyReportToJson can print it and a test can compare it.
import type { MlsReading } from './mlsReadings.ts';
import type { FrameViolationCode } from './sframeFrameInspector.ts';

/** Why a frame or packet of a stream failed. */
export type StreamViolationCode =
  | FrameViolationCode
  /** A frame that passed the SFrame checks but reads as a plaintext VP8 picture. */
  | 'vp8-plaintext'
  /** A frame that passed the SFrame checks but reads as a plaintext VP9 key (or intra-only) frame. */
  | 'vp9-plaintext'
  /** A (KID, CTR) pair sealing a second frame: nonce reuse, or a replayed frame. */
  | 'ctr-reuse'
  /** A sequence number seen again with different bytes: the later packet could not be checked. */
  | 'sequence-reuse'
  /** A packet whose payload type is not the one the map gives its SSRC: not checked. */
  | 'unexpected-payload-type'
  /** A VP8 payload descriptor or H.264 payload (RFC 6184) that does not parse. */
  | 'malformed-payload';

/** One failed frame or packet, named by its capture record numbers and RTP sequence numbers. */
export interface StreamViolation {
  code: StreamViolationCode;
  message: string;
  /** Capture numbers of the packets involved (a frame's packets, in order). */
  packets: number[];
  /** RTP sequence numbers of the first and last of them. */
  sequenceNumbers: [number, number];
  timestamp: number;
  kid?: bigint;
  ctr?: bigint;
  /** When the frame reads as a plaintext VP8 picture or H.264 NAL unit: what it parses as. */
  plaintext?: string;
}

/** What the frames sealed under one KID tell: counts, CTR range, and the KID's MLS readings. */
export interface KidReport {
  kid: bigint;
  /** KID mod 16: the low bits of the MLS epoch. */
  epochLowBits: bigint;
  mls: MlsReading[];
  frames: number;
  keyframes: number;
  ctr: { first: bigint; min: bigint; max: bigint };
  /** Frames whose CTR was below one already seen under this KID. */
  outOfOrder: number;
  reusedCtrs: number;
}

/** A run of sequence numbers that never arrived. */
export interface SequenceGap {
  /** First and last missing sequence numbers (16-bit, so `to` may be below `from` across a wrap). */
  from: number;
  to: number;
  count: number;
}

/** Everything the verifier found in one RTP stream (SSRC). */
export interface StreamReport {
  ssrc: number;
  /** Where the codec came from. */
  mappedBy: 'map' | 'payload-type' | 'none';
  codec: string | undefined;
  kind: 'audio' | 'video' | undefined;
  source: string | undefined;
  participant: string | undefined;
  payloadTypes: number[];
  verifiable: boolean;
  /** Why frames of this stream were not checked. */
  unverifiedReason: string | undefined;
  packets: number;
  /** Capture numbers of the stream's first and last packet. */
  firstPacket: number;
  lastPacket: number;
  /** Packets with no payload (padding, bandwidth probes). */
  paddingPackets: number;
  /** Packets seen again byte for byte (not checked twice). */
  duplicatePackets: number;
  /** Packets not checked: unverifiable codec or unexpected payload type. */
  uncheckedPackets: number;
  /** Packets of VP8 or H.264 frames that never completed (loss, or the capture's first and last frame). */
  packetsInIncompleteFrames: number;
  sequence: { first: number; last: number; missing: number; gaps: SequenceGap[] };
  frames: number;
  okFrames: number;
  keyframes: number;
  violationCount: number;
  violations: StreamViolation[];
  kids: KidReport[];
  /** The distinct low 4 bits of MLS epochs seen in KIDs (sorted). */
  epochLowBits: bigint[];
}
