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
  // Cluster mode only (docs/cluster.md): another node owns the room (the error names it), or this
  // node's meeting for the room is out of date. A cluster store that cannot be reached: 'unavailable'.
  'wrong-node',
  'stale-generation',
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

/** Cluster mode: a session refused at this node's door; `owner` (public) names the room's owner. */
export class ClusterDoorError extends ConclaveError {
  override readonly name: string = 'ClusterDoorError';
  readonly owner: string | undefined;
  constructor(code: 'wrong-node' | 'stale-generation' | 'unavailable', message: string, owner?: string) {
    super(code, message, code === 'wrong-node' ? 421 : 503);
    this.owner = owner;
  }
}

/** Turns anything thrown into the `{ code, message }` a client may see; internals never leak. */
export function toWireError(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof ConclaveError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'internal server error' };
}
