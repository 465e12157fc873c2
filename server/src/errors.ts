// Error taxonomy shared by the server's modules (after mediasoup's): each carries a stable
// machine-readable `code` that signaling acknowledgements and HTTP responses pass on.

import { ReasonedError } from '@conclave/common/errors';

/** Every code a server error carries: signaling acks and `fatal` events, and HTTP error bodies. */
export const ERROR_CODES = [
  'bad-request',
  'unauthorized',
  'token-expired',
  'token-invalid',
  'wrong-room',
  'not-found',
  'invalid-state',
  'forbidden',
  'invite-revoked',
  'invite-exhausted',
  'rate-limited',
  'too-many-connections',
  'room-full',
  'unavailable',
  'server-full',
  'not-admitted',
  'locked',
  'removed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ConclaveError extends ReasonedError<ErrorCode> {
  override readonly name: string = 'ConclaveError';
  readonly status: number;

  constructor(code: ErrorCode, message: string, status = 400) {
    super(code, message);
    this.status = status;
  }
}

export class InvalidStateError extends ConclaveError {
  override readonly name: string = 'InvalidStateError';
  constructor(message: string) {
    super('invalid-state', message, 409);
  }
}

/** Turns anything thrown into the `{ code, message }` a client may see; internals never leak. */
export function toWireError(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof ConclaveError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'internal server error' };
}
