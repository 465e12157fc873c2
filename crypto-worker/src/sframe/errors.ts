// Typed failures of the SFrame layer. Every rejection carries one `reason`, so callers (the frame
// transform, the status reporter, tests) can switch on it without parsing messages.

/** Why an SFrame operation refused to proceed. */
export type SFrameErrorReason =
  /** Bytes that cannot be an SFrame header or ciphertext (RFC 9605 §4.3). */
  | 'malformed'
  /** No key installed for the frame's KID (receiver) or the stream's KID (sender). */
  | 'missing-key'
  /** The AEAD tag did not verify: wrong key, or header/metadata/ciphertext altered (RFC 9605 §4.4.4). */
  | 'auth-failed'
  /** A CTR already accepted for this KID, or older than the anti-replay window (RFC 9605 §9.3). */
  | 'replay'
  /** The sender's CTR space for this key is used up; it refuses to wrap (RFC 9605 §7.4, §9.1). */
  | 'counter-exhausted'
  /** Not one of the RFC 9605 §4.5 cipher suites. */
  | 'unsupported-suite'
  /** A caller passed a value outside its domain (KID/CTR beyond 64 bits, wrong key length). */
  | 'invalid-argument'
  /** A frame authenticated under a KID that belongs to a different sender than the stream's. */
  | 'wrong-sender';

export class SFrameError extends Error {
  override readonly name = 'SFrameError';
  readonly reason: SFrameErrorReason;

  constructor(reason: SFrameErrorReason, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

export function isSFrameError(value: unknown): value is SFrameError {
  return value instanceof SFrameError;
}
