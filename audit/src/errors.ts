// Typed failures of the audit's RTP and payload parsers. Bytes captured off the wire are untrusted:
// every way they can be malformed is one `code`, so a verifier records it and goes on with the next
// packet. Part of Conclave's error taxonomy (@conclave/common/errors): the other audit errors are
// PcapFormatError (pcap.ts), StreamMapError (streamMap.ts) and the CLI's UsageError.
//
// What must hold: the codes are a closed union, and a message never quotes more than the bytes'
// structure (offsets and lengths), so it can go to a terminal as it is.
import { ReasonedError } from '@conclave/common/errors';

/** The layer whose rules the input broke. */
export type AuditLayer = 'rtp' | 'vp8' | 'h264' | 'vp9' | 'opus';

/** Which rule malformed bytes broke: the `code` of a MalformedPacketError. */
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

/**
 * Bytes that break the rules of an RTP packet or a codec's payload format.
 * `code` says which rule, `layer` whose; the message reads `<layer> <code>: <what>`.
 * @example
 * try { parseRtpPacket(bytes) } catch (e) { if (e instanceof MalformedPacketError && e.code === 'truncated') … }
 */
export class MalformedPacketError extends ReasonedError<MalformedReason> {
  override readonly name = 'MalformedPacketError';
  /** The layer whose rules the bytes broke. */
  readonly layer: AuditLayer;

  /**
   * @param layer the layer whose rules the bytes broke
   * @param code which rule
   * @param message what was found, for people
   */
  constructor(layer: AuditLayer, code: MalformedReason, message: string) {
    super(code, `${layer} ${code}: ${message}`);
    this.layer = layer;
  }
}

/** Whether `value` is a MalformedPacketError (of this copy of the module). */
export function isMalformedPacketError(value: unknown): value is MalformedPacketError {
  return value instanceof MalformedPacketError;
}
