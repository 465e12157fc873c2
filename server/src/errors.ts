// Error taxonomy shared by the server's modules (after mediasoup's): each carries a stable
// machine-readable `code` that signaling acknowledgements and HTTP responses pass on.

export type ErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'token-expired'
  | 'token-invalid'
  | 'wrong-room'
  | 'not-found'
  | 'invalid-state'
  | 'forbidden'
  | 'invite-revoked'
  | 'invite-exhausted'
  | 'rate-limited'
  | 'too-many-connections'
  | 'room-full'
  | 'unavailable'
  | 'server-full'
  | 'not-admitted'
  | 'locked'
  | 'removed'
  | 'internal';

export class ConclaveError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, status = 400) {
    super(message);
    this.name = 'ConclaveError';
    this.code = code;
    this.status = status;
  }
}

export class InvalidStateError extends ConclaveError {
  constructor(message: string) {
    super('invalid-state', message, 409);
    this.name = 'InvalidStateError';
  }
}

/** Turns anything thrown into the `{ code, message }` a client may see; internals never leak. */
export function toWireError(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof ConclaveError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'internal server error' };
}

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
