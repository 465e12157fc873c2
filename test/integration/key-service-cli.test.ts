// The standalone key service (`npm run key-service`, server/src/cli/keyService.ts), spawned as an
// operator runs it: a bad configuration and a port in use end it with one sentence and exit code 2
// (no stack trace); a good one listens, logs through the server's redacting logger (JSON lines
// tagged with the key-service component), and serves real MLS members with the server's session
// tokens, signed with the same secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenAuthority } from '@conclave/server/tokens';
import { KeyClient } from '@conclave/key-service/client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'server/src/cli/keyService.ts');
const ROOM = 'cli-room';

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

const runs: Run[] = [];
const clients: KeyClient[] = [];

function run(env: Record<string, string>): Run {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-keysvc-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', CONCLAVE_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
  runs.push(r);
  return r;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of runs.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await r.exited;
  }
});

describe('npm run key-service', () => {
  it('refuses a bad configuration with a sentence and exit code 2', async () => {
    const r = run({ CONCLAVE_PORT: 'not-a-port' });
    expect(await r.exited).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration:\n {2}- CONCLAVE_PORT: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 30_000);

  it('names CONCLAVE_KEY_SERVICE_PORT when its port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run({ CONCLAVE_KEY_SERVICE_PORT: String(port) });
      expect(await r.exited).toBe(2);
      expect(r.stderr).toContain(`CONCLAVE_KEY_SERVICE_PORT: port ${port} on 127.0.0.1 is in use`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 30_000);

  it('serves members with the server’s session tokens and logs through the redacting logger', async () => {
    const secret = new Uint8Array(randomBytes(32));
    const port = await freePort();
    const r = run({
      CONCLAVE_KEY_SERVICE_PORT: String(port),
      CONCLAVE_TOKEN_SECRET: Buffer.from(secret).toString('base64url'),
      CONCLAVE_LOG_LEVEL: 'debug',
    });
    await until(() => r.stdout.includes('key service listening'), 'the key service to listen');
    const tokens = new TokenAuthority(secret, { inviteSeconds: 600, sessionSeconds: 600 });
    const member = (userId: string, host: boolean) => {
      const c = new KeyClient({
        url: `http://127.0.0.1:${port}/keys`,
        userId,
        token: () => tokens.mintSession({ room: ROOM, sub: userId, name: userId, host }),
        requestTimeoutMs: 5000,
      });
      clients.push(c);
      return c;
    };
    await member('alice-cli-1', true).start();
    const bob = await member('bob-cli-01', false).start();
    expect(bob.epoch).toBe(1n);
    await until(() => clients[0]!.epoch === 1n, 'alice to follow bob’s join');
    expect(clients[0]!.current?.securityCode).toBe(bob.securityCode);

    // A session signed with another secret is refused at the handshake.
    const other = new TokenAuthority(new Uint8Array(32).fill(9), { inviteSeconds: 600, sessionSeconds: 600 });
    const eve = new KeyClient({
      url: `http://127.0.0.1:${port}/keys`,
      userId: 'eve-cli-001',
      token: () => other.mintSession({ room: ROOM, sub: 'eve-cli-001', name: 'eve', host: true }),
      socketOptions: { reconnection: false },
    });
    clients.push(eve);
    await expect(eve.start()).rejects.toMatchObject({ name: 'KeyServiceError', code: 'unauthorized' });

    await until(() => r.stdout.includes('commit accepted'), 'the commit to be logged');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const listening = lines.find((l) => l['msg'] === 'key service listening');
    expect(listening).toMatchObject({ service: 'conclave', component: 'key-service', port });
    expect(lines.every((l) => l['component'] === 'key-service')).toBe(true);
    expect(r.stdout).not.toContain(Buffer.from(secret).toString('base64url'));

    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  }, 60_000);
});
