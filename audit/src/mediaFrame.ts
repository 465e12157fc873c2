// A whole encoded frame put back together from the RTP packets that carried it: what a sender's
// frame transform (SFrame encryption) saw as one unit, and what the inspector checks.

/** Codecs whose frames the audit can reassemble and inspect. */
export type AuditCodec = 'vp8' | 'vp9' | 'h264' | 'opus';

/** One reassembled frame of one SSRC, with the sequence numbers of the packets that carried it. */
export interface MediaFrame {
  codec: AuditCodec;
  ssrc: number;
  /** RTP timestamp shared by the frame's packets. */
  timestamp: number;
  /** 16-bit sequence numbers of the frame's first and last packet. */
  firstSequenceNumber: number;
  lastSequenceNumber: number;
  packetCount: number;
  /** The frame as the encoder (or, with SFrame, the sender's transform) produced it. */
  data: Uint8Array;
}
