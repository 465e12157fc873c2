// A real coturn (Debian's `coturn` package) for tests, configured as docs/turn.md tells an operator:
// the REST-API shared secret (use-auth-secret, static-auth-secret), listening on loopback and on the
// machine's own address, relaying to an SFU on this machine (allow-loopback-peers), no TLS here.
//
// API:
//   startCoturn(): Promise<Coturn>
//   Coturn: { urls: string[]; secret: string; log(): string; close(): Promise<void> }
//
// What must hold: the turnserver process and its files end with close(), which is idempotent.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TURNSERVER = process.env['CONCLAVE_TURNSERVER'] ?? '/usr/bin/turnserver';

/** Relay ports, apart from the SFU's ranges (40000-49999 is the default; tests use 42000-43999). */
const RELAY_PORTS = { min: 44000, max: 44999 };

export interface Coturn {
  /** turn: URLs on the machine's address and on loopback (UDP). */
  urls: string[];
  secret: string;
  /** What coturn has logged so far (allocations, refusals). */
  log(): string;
  close(): Promise<void>;
}

export function machineAddress(): string {
  const address = Object.values(os.networkInterfaces())
    .flatMap((a) => a ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal);
  if (address === undefined) throw new Error('this machine has no non-loopback IPv4 address');
  return address.address;
}

export async function startCoturn(): Promise<Coturn> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-coturn-'));
  const secret = randomBytes(24).toString('base64url');
  const ip = machineAddress();
  const port = await freeUdpPort();
  const logFile = path.join(dir, 'turn.log');
  const config = [
    `listening-port=${port}`,
    'listening-ip=127.0.0.1',
    `listening-ip=${ip}`,
    `min-port=${RELAY_PORTS.min}`,
    `max-port=${RELAY_PORTS.max}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=conclave.test',
    'allow-loopback-peers',
    'no-tls',
    'no-dtls',
    'no-cli',
    'fingerprint',
    'verbose',
    'simple-log',
    `log-file=${logFile}`,
    `pidfile=${path.join(dir, 'turn.pid')}`,
  ].join('\n');
  const configFile = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(configFile, `${config}\n`, { mode: 0o600 });
  const turnserver = spawn(TURNSERVER, ['-c', configFile], { stdio: 'ignore' });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (turnserver.exitCode === null) {
      const exited = new Promise((resolve) => turnserver.once('exit', resolve));
      turnserver.kill();
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(ip, port, () => turnserver.exitCode !== null);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    urls: [`turn:${ip}:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=udp`],
    secret,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    close,
  };
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** coturn listens on TCP as well as UDP on its port: a TCP connect says it is up. */
async function waitForTcp(host: string, port: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (died()) throw new Error(`turnserver exited at start (is coturn installed? ${TURNSERVER})`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`turnserver did not listen on ${host}:${port} within 10 s`);
}
