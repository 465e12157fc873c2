// A mistake the auditor's CLI reports in one line on stderr and exit status 2, never a stack trace:
// a bad command line, a file it cannot read or write, a server that refuses or cannot be reached.
//
// What must hold: the message is a sentence for the person at the terminal and carries no secret
// (an audit token is never quoted); `code` is what a caller switches on.
import { ReasonedError } from '@conclave/common/errors';

/** Why the auditor's CLI stopped. */
export type UsageErrorCode =
  /** The command line itself: an unknown command or option, a missing or bad value. */
  | 'bad-command-line'
  /** A capture or stream map file that cannot be read. */
  | 'unreadable-file'
  /** An output file that cannot be written. */
  | 'unwritable-file'
  /** A capture file that is not pcap, or breaks the format. */
  | 'bad-capture-file'
  /** No stream map was given or found beside the capture. */
  | 'no-stream-map'
  /** A stream map or `--pt` spec that cannot be used. */
  | 'bad-stream-map'
  /** The server's environment (CONCLAVE_*) does not configure a server. */
  | 'bad-server-config'
  /** The server answered the capture request with a refusal. */
  | 'server-refused'
  /** The server could not be reached. */
  | 'server-unreachable'
  /** The capture's connection broke off before the server ended it. */
  | 'capture-broken';

/**
 * A mistake the CLI reports as `audit: <message>` and exit status 2.
 * @example throw new UsageError('bad-command-line', 'verify takes exactly one capture file', true)
 */
export class UsageError extends ReasonedError<UsageErrorCode> {
  override readonly name = 'UsageError';
  /** Print the usage text after the message (a mistake in the command line itself). */
  readonly showUsage: boolean;

  /**
   * @param code why the CLI stopped
   * @param message one line for the terminal
   * @param showUsage print the command's usage text after it
   */
  constructor(code: UsageErrorCode, message: string, showUsage = false) {
    super(code, message);
    this.showUsage = showUsage;
  }
}
