// The Conclave server as its own process (`node --import tsx server/src/main.ts`), so that its CPU
// and memory, and its mediasoup workers', are measured apart from the load generator's.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isErrorLine, stopChild } from './childProcesses.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const START_TIMEOUT_MS = 30_000;
/** Output that is no log record but expected: the start banner, blank lines, npm's config notice. */
const SERVER_EXPECTED_LINES = /Conclave is running|^\s*$|Unknown user config/;

export interface ServerProcessOptions {
  /** CONCLAVE_* settings over the load run's defaults. */
  env?: Record<string, string>;
}

export class ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #dataDir: string;
  readonly #errorLines: string[];

  private constructor(child: ChildProcess, url: string, dataDir: string, errorLines: string[]) {
    this.#child = child;
    this.pid = child.pid!;
    this.url = url;
    this.#dataDir = dataDir;
    this.#errorLines = errorLines;
  }

  /** Starts the server on a free loopback port; resolves once it listens. */
  static async start({ env = {} }: ServerProcessOptions = {}): Promise<ServerProcess> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-load-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? dataDir,
        CONCLAVE_HOST: '127.0.0.1',
        CONCLAVE_PORT: '0',
        CONCLAVE_TLS: 'off',
        CONCLAVE_OPEN_ROOMS: 'true',
        CONCLAVE_DATA_DIR: dataDir,
        CONCLAVE_LOG_LEVEL: 'warn',
        // Apart from the integration tests' (42000-42999) and end-to-end tests' (40000-43999) ranges.
        CONCLAVE_RTC_MIN_PORT: '50000',
        CONCLAVE_RTC_MAX_PORT: '59999',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const errorLines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server did not start within 30 s')),
        START_TIMEOUT_MS,
      );
      const onLine = (line: string) => {
        const running = /Conclave is running: open (\S+)/.exec(line);
        if (running !== null) {
          clearTimeout(timer);
          resolve(running[1]!);
        }
        if (isErrorLine(line, SERVER_EXPECTED_LINES)) errorLines.push(line);
      };
      for (const stream of [child.stdout!, child.stderr!]) {
        let buffered = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        });
      }
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited during start (${code ?? signal}): ${errorLines.join('\n')}`));
      });
    }).catch((error: unknown) => {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw error;
    });
    return new ServerProcess(child, url, dataDir, errorLines);
  }

  /** Error-level lines the server has logged so far (pino JSON, or anything on stderr that is not JSON). */
  get errorLines(): readonly string[] {
    return this.#errorLines;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** SIGTERM (the server closes its rooms and workers), SIGKILL after 10 s; removes the data dir. */
  async stop(): Promise<void> {
    await stopChild(this.#child);
    fs.rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
