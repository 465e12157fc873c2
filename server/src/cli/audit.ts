// `npm run audit -- <capture|verify> …`: the auditor's CLI (@conclave/audit/cli) as it runs on a
// Conclave server's host, with the server's side of `capture` (auditCaptureAccess.ts). Everything
// the auditor runs lives in audit/; this entry only adds what the server's environment holds.
//
// What must hold: a failure is one line on stderr and exit status 2 at once (as before the audit
// had its own workspace); otherwise the exit status is the CLI's and output is flushed first.
import { runAuditCli } from '@conclave/audit/cli';
import { serverCaptureAccess } from './auditCaptureAccess.ts';

const status = await runAuditCli(process.argv.slice(2), { captureAccess: serverCaptureAccess });
if (status === 2) process.exit(2);
process.exitCode = status;
