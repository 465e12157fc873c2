// The auditor's CLI as a library (`@conclave/audit/cli`): the entry point on a server's host
// (server/src/cli/audit.ts) runs it with the server's CaptureAccess.
//
// What must hold: nothing here imports the server; the server's side comes in as CaptureAccess.
export { runAuditCli, type AuditCliTools } from './main.ts';
export { type CaptureAccess, type CaptureGrant } from './captureCommand.ts';
export { UsageError, type UsageErrorCode } from './usageError.ts';
