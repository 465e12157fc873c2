// A listening socket that could not be opened at start-up, said as one sentence that names the
// setting to change (CONCLAVE_PORT, CONCLAVE_HOST, or the standalone key service's
// CONCLAVE_KEY_SERVICE_PORT), instead of Node's stack trace. What must hold: only the failures of
// listen(2) that an operator causes and can fix are explained; anything else stays an error with
// its stack, because it is a bug.
import { ReasonedError } from '@conclave/common/errors';

export type ListenErrorCode = 'port-in-use' | 'port-forbidden' | 'address-unavailable';

/** The environment variables that chose the address a listener failed on. */
export interface ListenSettings {
  /** e.g. 'CONCLAVE_PORT' */
  portVariable: string;
  /** e.g. 'CONCLAVE_HOST' */
  hostVariable: string;
}

export class ListenError extends ReasonedError<ListenErrorCode> {
  override readonly name = 'ListenError';
}

/**
 * What a failed `server.listen()` means to the operator.
 * @param error what `listen` emitted (a Node system error with `code`, `address` and `port`)
 * @param settings the variables that chose the address, named in the sentence
 * @returns a ListenError whose message is the sentence, or undefined if `error` is not a listen failure
 * @example
 * server.once('error', (e) => reject(describeListenError(e, { portVariable: 'CONCLAVE_PORT', hostVariable: 'CONCLAVE_HOST' }) ?? e));
 */
export function describeListenError(error: unknown, settings: ListenSettings): ListenError | undefined {
  if (!isSystemError(error) || error.syscall !== 'listen') return undefined;
  const port = String(error.port ?? '');
  const where = `${settings.portVariable}=${port}: port ${port} on ${error.address ?? 'this host'}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError(
        'port-in-use',
        `cannot start: ${where} is already in use (by another program, or another Conclave); stop it, or set ${settings.portVariable} to a free port`,
        { cause: error },
      );
    case 'EACCES':
      return new ListenError(
        'port-forbidden',
        `cannot start: ${where} needs privileges this process does not have (ports below 1024 do); set ${settings.portVariable} to 1024 or above, or grant the capability (setcap cap_net_bind_service)`,
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(
        'address-unavailable',
        `cannot start: ${settings.hostVariable}=${error.address ?? ''} is not an address of this machine; set ${settings.hostVariable} to one of its addresses (or 0.0.0.0 for all)`,
        { cause: error },
      );
    default:
      return undefined;
  }
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
}

function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as SystemError).code === 'string';
}
