// The auditor's CLI: `npm run audit -- <command>`. `capture` records what the SFU forwards in a live
// room (captureCommand.ts); `verify` checks, without any key, that every media frame in such a
// capture is SFrame ciphertext in Conclave's layout (verifyCommand.ts).
//
// What must hold: exit status 0 when every frame passed (verify) or the capture was written
// (capture); 1 when any frame did not pass, or no RTP arrived; 2 for a usage error or a file that
// cannot be read. Errors are one line on stderr (`audit: …`), never a stack trace.
import { CAPTURE_USAGE, capture, type CaptureAccess } from './captureCommand.ts';
import { UsageError } from './usageError.ts';
import { VERIFY_USAGE, verify } from './verifyCommand.ts';

/** What the CLI needs from outside the audit: the server's side of `capture`. */
export interface AuditCliTools {
  /** How `capture` reaches the server (server/src/cli/auditCaptureAccess.ts on a server's host). */
  captureAccess: CaptureAccess;
}

async function dispatch(argv: string[], tools: AuditCliTools): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return verify(rest);
    case 'capture':
      return capture(rest, tools.captureAccess);
    case 'help':
    case '--help':
    case '-h':
      console.log(`${CAPTURE_USAGE}\n\n${VERIFY_USAGE}`);
      return 0;
    case undefined:
      throw new UsageError('bad-command-line', 'no command (capture or verify)', true);
    default:
      throw new UsageError('bad-command-line', `unknown command ${JSON.stringify(command)}`, true);
  }
}

/**
 * Runs the auditor's CLI. Errors are printed as one line on stderr (with the usage text after a
 * mistake in the command line) and come back as exit status 2.
 * @param argv the arguments after `npm run audit --`, e.g. `['verify', 'room.pcap', '--json']`
 * @param tools the server's side of `capture`
 * @returns the exit status: 0 passed or written, 1 failed or nothing arrived, 2 usage or file error
 * @example process.exitCode = await runAuditCli(process.argv.slice(2), { captureAccess })
 */
export async function runAuditCli(argv: string[], tools: AuditCliTools): Promise<number> {
  try {
    return await dispatch(argv, tools);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`audit: ${error.message}`);
      if (error.showUsage) console.error(argv[0] === 'capture' ? CAPTURE_USAGE : VERIFY_USAGE);
    } else {
      console.error(`audit: internal error: ${(error as Error).message}`);
    }
    return 2;
  }
}
