// The root of Conclave's error taxonomy (after LiveKit's room/errors.ts): every error a package
// throws on purpose is a ReasonedError whose `code` is a member of that package's closed union, so
// callers switch on codes (the compiler checks the cases) and never match message text.
// A package's own class narrows the union: KeyServiceError, ConclaveError (server), ApiError and
// RequestError (web), CryptoWorkerError, the audit's input errors (PcapFormatError, StreamMapError,
// MalformedPacketError, UsageError). SFrameError keeps its own `reason` union, the field the worker
// passes across its message boundary and the audit reads. Each subclass names itself
// with a field (`override readonly name = 'X'`), not from `new.target.name`, which a minifier renames.

export class ReasonedError<Code extends string = string> extends Error {
  /** A stable, machine-readable reason; part of the package's public contract. */
  readonly code: Code;

  /**
   * @param code the reason, from the package's code union
   * @param message a sentence for people; never carries a secret
   * @param options `cause`: the error this one explains (kept for logs, never sent to clients)
   */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReasonedError';
    this.code = code;
  }
}

/**
 * Marks a switch as exhaustive: the compiler rejects the call if a case is missing.
 * @throws Error at run time only if a value outside the type arrives (a bug or a hostile peer)
 */
export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
