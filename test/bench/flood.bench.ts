// Signaling round trip under a megabyte-message flood (issue 13, "Key service hygiene").
//
// The real server runs in its own process (test/bench/load/serverProcess.ts). A bystander in another
// room keeps one signaling socket and asks `getRouterRtpCapabilities` every PROBE_INTERVAL_MS,
// timing each answer; first with nobody else on the server (quiet), then while FLOODERS ordinary
// participants (valid sessions, from their own loopback addresses) each send a MESSAGE_BYTES message
// every 50 ms on signaling and on the key service (see flood/flooder.ts, a separate process).
//
// Two floods, one after the other, each by fresh participants from fresh addresses: `both` (text
// megabyte requests on signaling and binary ones on /keys) and `keys` (binary on /keys only, the
// MLS-sized messages the key service must accept up to its GroupInfo cap).
// Metrics (flood.*): quiet_rtt_ms.{p50,p95,max}, rtt_ms.{p50,p95,max} and keys_rtt_ms.{…} (the
// bystander's round trip without a flood, and during each), probe_failures (probes unanswered
// within 5 s, or refused), and per flood (flood_…, keys_flood_…): sent_mb (what the flooders
// managed to hand to their sockets), acks (answers they got), disconnects (times the server
// dropped a flooding socket) and refused_connects.
//
// Options (environment): CONCLAVE_FLOOD_SECONDS (default 8), CONCLAVE_FLOODERS (default 4),
// CONCLAVE_FLOOD_BYTES (default 1000000).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { noteMachineLoad } from './machine.ts';
import type { Benchmark, Metric } from './metric.ts';
import { ApiClient, deviceAddress } from './load/apiClient.ts';
import { ServerProcess } from './load/serverProcess.ts';
import { percentile } from './load/stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROBE_INTERVAL_MS = 20;
const QUIET_SECONDS = 3;
const PROBE_TIMEOUT_MS = 5_000;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, not ${raw}`);
  return n;
}

interface Probes {
  rtts: number[];
  failures: number;
}

/** Times the bystander's round trip every PROBE_INTERVAL_MS for `seconds`. */
async function probe(socket: Socket, seconds: number): Promise<Probes> {
  const result: Probes = { rtts: [], failures: 0 };
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const started = performance.now();
    try {
      const ack = (await socket
        .timeout(PROBE_TIMEOUT_MS)
        .emitWithAck('request', { method: 'getRouterRtpCapabilities', data: {} })) as { ok: boolean };
      if (ack.ok) result.rtts.push(performance.now() - started);
      else result.failures += 1;
    } catch {
      result.failures += 1;
    }
    const wait = PROBE_INTERVAL_MS - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return result;
}

function connect(url: string, token: string, address: string): Promise<Socket> {
  const socket = io(`${url}/signaling`, {
    auth: { token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    localAddress: address,
  } as Parameters<typeof io>[1]);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** A new room's guest invite, asked for from `address`. */
async function newRoomInvite(url: string, address: string): Promise<string> {
  return (await new ApiClient(url, address).createRoom()).guestInvite;
}

/** A participant's session token, asked for from its own device address. */
async function session(url: string, address: string, invite: string): Promise<string> {
  return (await new ApiClient(url, address).createSession(invite, 'Flood')).session;
}

function runFlooders(
  url: string,
  sessions: { token: string; address: string }[],
  seconds: number,
  bytes: number,
  targets: 'both' | 'keys',
): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/bench/flood/flooder.ts',
      url,
      JSON.stringify(sessions),
      String(seconds),
      String(bytes),
      targets,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (out += c));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`the flooder exited with ${code}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

function summary(prefix: string, probes: Probes): Metric[] {
  return [
    { metric: `${prefix}.p50`, value: percentile(probes.rtts, 50), unit: 'ms' },
    { metric: `${prefix}.p95`, value: percentile(probes.rtts, 95), unit: 'ms' },
    { metric: `${prefix}.max`, value: Math.max(...probes.rtts), unit: 'ms' },
  ];
}

const bench: Benchmark = {
  name: "Flood: another user's signaling round trip while participants send megabyte messages",
  reproduce:
    'npm run bench -- flood (CONCLAVE_FLOOD_SECONDS=8 CONCLAVE_FLOODERS=4 CONCLAVE_FLOOD_BYTES=1000000); ' +
    'alone on the machine: the flooders, the server and the probe share its cores',
  async run() {
    const seconds = envNumber('CONCLAVE_FLOOD_SECONDS', 8);
    const flooders = envNumber('CONCLAVE_FLOODERS', 4);
    const bytes = envNumber('CONCLAVE_FLOOD_BYTES', 1_000_000);
    noteMachineLoad('before the flood run');
    const server = await ServerProcess.start({ env: { CONCLAVE_WORKERS: '1' } });
    try {
      const bystanderAddress = deviceAddress(0);
      const quietInvite = await newRoomInvite(server.url, bystanderAddress);
      const token = await session(server.url, bystanderAddress, quietInvite);
      const bystander = await connect(server.url, token, bystanderAddress);
      const quiet = await probe(bystander, QUIET_SECONDS);
      const floods: Metric[] = [];
      let failures = quiet.failures;
      for (const [index, targets] of (['both', 'keys'] as const).entries()) {
        const invite = await newRoomInvite(server.url, deviceAddress(1 + index * 100));
        const sessions = [];
        for (let i = 0; i < flooders; i++) {
          const address = deviceAddress(2 + index * 100 + i);
          sessions.push({ token: await session(server.url, address, invite), address });
        }
        const flood = runFlooders(server.url, sessions, seconds + 2, bytes, targets);
        await new Promise((r) => setTimeout(r, 1_500)); // the flooders' sockets connect
        const loud = await probe(bystander, seconds);
        const counts = await flood;
        failures += loud.failures;
        const name = targets === 'both' ? 'flood' : 'keys_flood';
        console.error(
          `# ${targets}: ${flooders} flooders × ${targets === 'both' ? 2 : 1} sockets × ${bytes} B every 50 ms; ` +
            `${loud.rtts.length} probes`,
        );
        floods.push(
          ...summary(targets === 'both' ? 'flood.rtt_ms' : 'flood.keys_rtt_ms', loud),
          { metric: `flood.${name}_sent_mb`, value: (counts['sentBytes'] ?? 0) / 1e6, unit: 'MB' },
          { metric: `flood.${name}_acks`, value: counts['acks'] ?? 0, unit: 'count' },
          { metric: `flood.${name}_disconnects`, value: counts['disconnects'] ?? 0, unit: 'count' },
          { metric: `flood.${name}_refused_connects`, value: counts['refusedConnects'] ?? 0, unit: 'count' },
        );
      }
      bystander.close();
      return [
        ...summary('flood.quiet_rtt_ms', quiet),
        ...floods,
        { metric: 'flood.probe_failures', value: failures, unit: 'count' },
      ];
    } finally {
      await server.stop();
    }
  },
};
export default bench;
