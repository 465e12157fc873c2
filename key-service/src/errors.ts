// Errors the key service sends in acknowledgements; the client raises the same class from them.
import { ReasonedError } from '@conclave/common/errors';
import type { KeyServiceErrorCode, WireError } from './protocol.ts';

/**
 * An error of the key service or of its client, with a code from a closed set. Callers switch on
 * `code`, never on the message.
 *
 * @example
 * ```ts
 * try {
 *   await client.start();
 * } catch (error) {
 *   if (error instanceof KeyServiceError && error.code === 'locked') showLocked();
 * }
 * ```
 */
export class KeyServiceError extends ReasonedError<KeyServiceErrorCode> {
  override readonly name = 'KeyServiceError';
  /** With 'stale-epoch': the room's current epoch, so the sender can catch up and retry. */
  readonly epoch: number | undefined;

  constructor(code: KeyServiceErrorCode, message: string, epoch?: number) {
    super(code, message);
    this.epoch = epoch;
  }

  toWire(): WireError {
    return this.epoch === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, epoch: this.epoch };
  }
}

/** Anything thrown, as a client may see it: internals never leak. */
export function toWireError(error: unknown): WireError {
  if (error instanceof KeyServiceError) return error.toWire();
  return { code: 'internal', message: 'internal key service error' };
}
