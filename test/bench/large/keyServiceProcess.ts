// The standalone key service (`npm run key-service`, server/src/cli/keyService.ts) as its own
// process, so that its CPU is measured apart from the generator's, with a token secret the bench
// shares: the bench mints the session tokens itself, as the main server would for each joiner.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isErrorLine, stopChild } from '../load/childProcesses.ts';
import { TokenAuthority } from '@conclave/server/tokens';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const START_TIMEOUT_MS = 30_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class KeyServiceProcess {
  /** The '/keys' namespace URL. */
  readonly url: string;
  readonly pid: number;
  readonly tokens: TokenAuthority;
  /** The token secret (base64url), for generator threads that mint their own sessions. */
  readonly secret: string;
  /** Error-level log lines (pino JSON), and anything else on stderr. */
  readonly errorLines: string[] = [];
  readonly #child: ChildProcess;
  readonly #dataDir: string;

  private constructor(
    child: ChildProcess,
    url: string,
    tokens: TokenAuthority,
    secret: string,
    dataDir: string,
  ) {
    this.#child = child;
    this.pid = child.pid!;
    this.url = url;
    this.tokens = tokens;
    this.secret = secret;
    this.#dataDir = dataDir;
  }

  /** Starts it on a free loopback port; resolves once it listens. */
  static async start(env: Record<string, string> = {}): Promise<KeyServiceProcess> {
    const secret = randomBytes(32);
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-large-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli/keyService.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? dataDir,
        CONCLAVE_HOST: '127.0.0.1',
        CONCLAVE_KEY_SERVICE_PORT: String(port),
        CONCLAVE_TLS: 'off',
        CONCLAVE_DATA_DIR: dataDir,
        CONCLAVE_TOKEN_SECRET: secret.toString('base64url'),
        CONCLAVE_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tokens = new TokenAuthority(new Uint8Array(secret), { inviteSeconds: 3600, sessionSeconds: 3600 });
    const service = new KeyServiceProcess(
      child,
      `http://127.0.0.1:${port}/keys`,
      tokens,
      secret.toString('base64url'),
      dataDir,
    );
    try {
      await service.#listening(port);
    } catch (error) {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    return service;
  }

  /** Collects error lines; resolves once the port accepts connections (it logs nothing at 'warn'). */
  async #listening(port: number): Promise<void> {
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (isErrorLine(line)) this.errorLines.push(line);
      });
    }
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!(await accepts(port))) {
      if (this.#child.exitCode !== null || performance.now() > deadline) {
        throw new Error(`the key service did not start: ${this.errorLines.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, SIGKILL after 10 s; removes its data directory. */
  async stop(): Promise<void> {
    await stopChild(this.#child);
    fs.rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
