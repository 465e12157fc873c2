// Typed failures of the audit parsers. Bytes captured off the wire are untrusted: every way they can
// be malformed is one `reason`, so a verifier records it and goes on with the next packet.

/** The layer whose rules the input broke. */
export type AuditLayer = 'rtp' | 'vp8' | 'h264' | 'vp9' | 'opus';

export type MalformedReason =
  /** Shorter than a field the bytes themselves announce (RFC 3550 §5.1, RFC 7741 §4.2). */
  | 'truncated'
  /** RTP version other than 2 (RFC 3550 §5.1). */
  | 'bad-version'
  /** Padding count of zero or longer than the packet (RFC 3550 §5.1). */
  | 'bad-padding'
  /** A header extension element that overruns its block (RFC 3550 §5.3.1, RFC 8285 §4). */
  | 'bad-extension'
  /** A payload descriptor followed by no codec data (RFC 7741 §4.2). */
  | 'empty-payload'
  /** A packet handed to the depacketizer of another SSRC (a caller's routing mistake). */
  | 'wrong-ssrc';

export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError';
  readonly layer: AuditLayer;
  readonly reason: MalformedReason;

  constructor(layer: AuditLayer, reason: MalformedReason, message: string) {
    super(`${layer} ${reason}: ${message}`);
    this.layer = layer;
    this.reason = reason;
  }
}

export function isMalformedPacketError(value: unknown): value is MalformedPacketError {
  return value instanceof MalformedPacketError;
}
