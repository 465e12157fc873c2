// The auditor's CLI (`npm run audit`) as an auditor runs it on the e2e server's host, with the
// server's environment; used by the specs that capture a live meeting and verify the capture.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2E_DATA_DIR, E2E_PORT, E2E_TOKEN_SECRET } from './env.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'server/src/cli/audit.ts');
export const AUDIT_OUT_DIR = path.join(ROOT, 'test/e2e/.artifacts/audit');

export interface AuditRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function audit(args: string[]): Promise<AuditRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          CONCLAVE_PORT: String(E2E_PORT),
          CONCLAVE_DATA_DIR: E2E_DATA_DIR,
          CONCLAVE_TOKEN_SECRET: E2E_TOKEN_SECRET,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
