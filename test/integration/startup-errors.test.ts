// `npm start`'s entry (server/src/main.ts, run as npm start runs it) when it cannot listen: the
// port is taken by a real listener, or CONCLAVE_HOST is not this machine's. The process ends with
// exit code 2 and one sentence naming the setting, and no stack trace.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const cleanup: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the server's entry with `env`; resolves when it exits (or rejects after 30 s). */
function runMain(env: Record<string, string>): Promise<Exit> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-startup-'));
  cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'server/src/main.ts'],
      {
        cwd: REPO,
        timeout: 30_000,
        env: { ...process.env, CONCLAVE_DATA_DIR: dataDir, CONCLAVE_WORKERS: '1', ...env },
      },
      (error, stdout, stderr) => {
        if (error !== null && error.killed) reject(new Error(`still running after 30 s: ${stderr}`));
        else resolve({ code: child.exitCode, stdout, stderr });
      },
    );
  });
}

async function occupiedPort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => listener.close(() => resolve())));
  return (listener.address() as net.AddressInfo).port;
}

function expectNoStackTrace(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/node:internal|Error: listen/);
}

describe('npm start when it cannot listen', () => {
  it('says CONCLAVE_PORT is in use, and exits with 2', async () => {
    const port = await occupiedPort();
    const exit = await runMain({ CONCLAVE_PORT: String(port), CONCLAVE_HOST: '127.0.0.1' });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(
      `cannot start: CONCLAVE_PORT=${port}: port ${port} on 127.0.0.1 is already in use (by another program, or another Conclave); stop it, or set CONCLAVE_PORT to a free port`,
    );
    expectNoStackTrace(exit.stderr + exit.stdout);
    expect(exit.stdout).not.toContain('Conclave is running');
  });

  it('says CONCLAVE_HOST is not an address of this machine, and exits with 2', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
    const exit = await runMain({ CONCLAVE_PORT: '0', CONCLAVE_HOST: '192.0.2.1' });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('cannot start: CONCLAVE_HOST=192.0.2.1 is not an address of this machine');
    expectNoStackTrace(exit.stderr + exit.stdout);
  });
});
