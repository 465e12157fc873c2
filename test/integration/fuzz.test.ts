// Fuzzing signaling and the key service of a real server (real mediasoup worker) from authenticated
// sockets: thousands of random events and payloads (random names, known requests with wrong shapes,
// huge strings, deep nesting, binary, corrupted MLS messages, raw socket.io garbage). Meanwhile
// another room carries a real RTP flow through the SFU. Afterwards: the server answered every
// request it owed an answer with a well-formed error (never 'internal'), logged no error, kept the
// other room's media flowing throughout, answers health checks, lets fresh clients join, negotiate
// and form an MLS group, forgot every fuzz room and peer, and its heap did not grow beyond a bound.
//
// The seed is printed; FUZZ_SEED=<seed> reruns the same sequence.
import { KeyClient } from '@conclave/key-service/client';
import { io, type Socket } from 'socket.io-client';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, expect, it } from 'vitest';
import { SIGNALING_NAMESPACE } from '../../server/src/ConclaveServer.ts';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { createLogger } from '../../server/src/logger.ts';
import { requestSchemas } from '../../server/src/signaling/protocol.ts';
import { FuzzValues } from '../support/fuzzValues.ts';
import { prng } from '../support/prng.ts';
import { RTP_FLOW_INTERVAL_MS, startRtpFlow } from '../support/rtpFlow.ts';
import {
  TestClient,
  opusParameters,
  startTestServer,
  vp8SimulcastParameters,
  waitUntil,
  type Participant,
  type TestServer,
} from './support/testServer.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 0x1_0000_0000);
const EVENTS_PER_NAMESPACE = 3000;
const SOCKETS_PER_NAMESPACE = 6;
const CONCURRENCY = 40;
/**
 * Requests owed an answer that must get one, per namespace: the rest die with the socket a raw
 * packet or an oversized payload closed while they were in flight, and how many are in flight
 * then depends on timing. Measured (3000 events): signaling 1593-1657 answers alone (seeds 1111,
 * 2222, 3333), 1439 in CI; /keys 1750-1801. A server that closed the socket on every bad request
 * would answer fewer than the 15 % valid ones.
 */
const MIN_ANSWERS = EVENTS_PER_NAMESPACE / 3;
/**
 * Heap growth allowed over the whole run, after garbage collection and every fuzz socket gone.
 * Measured: 4.0-4.3 MiB (seeds 12345, 777, 4242; in-process caches of socket.io, mediasoup and
 * the code loaded on the way). The run sends over 100 MB of payloads, so a leak of what it sends
 * would be far above this, as would per-event state kept for a closed socket.
 */
const MAX_HEAP_GROWTH_BYTES = 16 * 1024 * 1024;
/**
 * The slowest a bystander's packet may take through the SFU while the fuzz runs. Measured: 16 ms
 * on an idle machine, 330 ms with a load average near 18 on 2 cores (other test runs). A stalled
 * SFU holds packets for as long as the stall: the bound is far above scheduling noise.
 */
const MAX_MEDIA_LATENCY_MS = 1000;

const SIGNALING_CODES = new Set([
  'bad-request',
  'not-found',
  'invalid-state',
  'forbidden',
  'rate-limited',
  'room-full',
  'server-full',
  // A fuzzed renewal's token is never a valid session.
  'token-invalid',
]);
const KEYS_CODES = new Set([
  'bad-request',
  'too-large',
  'forbidden',
  'not-member',
  'stale-epoch',
  'invalid-state',
  'rate-limited',
  'unauthorized',
]);

const DISCONNECTED = Symbol('disconnected');
const TIMED_OUT = Symbol('timed out');

let ts: TestServer | undefined;
afterAll(async () => {
  await ts?.close();
});

/** `global.gc`, without restarting Node with --expose-gc. */
function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Emits with an acknowledgement; resolves with the answer, or why there is none. */
function ask(socket: Socket, event: string, payload: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const done = (result: unknown) => {
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      resolve(result);
    };
    const onDisconnect = () => done(DISCONNECTED);
    // Far above any answer's time on a loaded machine: only a request never answered reaches it.
    const timer = setTimeout(() => done(TIMED_OUT), 20_000);
    socket.once('disconnect', onDisconnect);
    socket.emit(event, payload, done);
  });
}

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** What the fuzzer saw, for the assertions and the report. */
class Tally {
  answers = 0;
  ok = 0;
  errors = new Map<string, number>();
  disconnected = 0;
  timedOut = 0;
  malformed: unknown[] = [];
  fireAndForget = 0;
  reconnects = 0;

  record(answer: unknown, codes: Set<string>): void {
    if (answer === DISCONNECTED) return void (this.disconnected += 1);
    if (answer === TIMED_OUT) return void (this.timedOut += 1);
    this.answers += 1;
    const a = answer as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
    if (a?.ok === true) return void (this.ok += 1);
    const code = a?.error?.code;
    if (
      a?.ok !== false ||
      typeof code !== 'string' ||
      !codes.has(code) ||
      typeof a.error?.message !== 'string'
    ) {
      this.malformed.push(answer);
      return;
    }
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

/** A pool of authenticated sockets on one namespace; a socket the server closed is replaced. */
class SocketPool {
  readonly #sockets: (Socket | undefined)[] = [];
  readonly #opening = new Map<number, Promise<Socket>>();
  readonly #open: (index: number) => Promise<Socket>;
  readonly #tally: Tally;

  constructor(size: number, open: (index: number) => Promise<Socket>, tally: Tally) {
    this.#sockets.length = size;
    this.#open = open;
    this.#tally = tally;
  }

  async get(index: number): Promise<Socket> {
    const existing = this.#sockets[index];
    if (existing?.connected === true) return existing;
    // Several events may want the same closed socket at once: open one replacement for all.
    let opening = this.#opening.get(index);
    if (opening === undefined) {
      existing?.close();
      if (existing !== undefined) this.#tally.reconnects += 1;
      opening = this.#open(index).then((socket) => {
        this.#sockets[index] = socket;
        return socket;
      });
      opening.finally(() => this.#opening.delete(index)).catch(() => {});
      this.#opening.set(index, opening);
    }
    return opening;
  }

  closeAll(): void {
    for (const socket of this.#sockets) socket?.close();
  }
}

interface KnownIds {
  transports: string[];
  producers: string[];
}

/** Joins as a client would and produces a microphone; the ids that exist, as far as that went. */
async function joinAndProduce(socket: Socket): Promise<KnownIds> {
  const request = async (method: string, data: unknown) =>
    (await ask(socket, 'request', { method, data })) as { result?: Record<string, unknown> } | symbol;
  const result = (answer: unknown) => (answer as { result?: Record<string, unknown> }).result;
  const caps = result(await request('getRouterRtpCapabilities', {}));
  const transportId = result(await request('createTransport', { direction: 'send' }))?.['id'];
  await request('join', { rtpCapabilities: caps?.['rtpCapabilities'] });
  const producerId = result(
    await request('produce', { transportId, kind: 'audio', rtpParameters: opusParameters(), source: 'mic' }),
  )?.['producerId'];
  return {
    transports: typeof transportId === 'string' ? [transportId] : [],
    producers: typeof producerId === 'string' ? [producerId] : [],
  };
}

/** Known requests with valid shapes, using ids that exist where the fuzzer knows some. */
function signalingTemplates(ids: KnownIds, f: FuzzValues) {
  const transportId = ids.transports.length > 0 && f.chance(0.7) ? f.pick(ids.transports) : 'no-such-id';
  const producerId = ids.producers.length > 0 && f.chance(0.7) ? f.pick(ids.producers) : 'no-such-id';
  return {
    getRouterRtpCapabilities: {},
    createTransport: { direction: f.pick(['send', 'recv']) },
    connectTransport: {
      transportId,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    },
    restartIce: { transportId },
    join: { rtpCapabilities: { codecs: [], headerExtensions: [] } },
    produce: {
      transportId,
      kind: f.pick(['audio', 'video']),
      rtpParameters: f.chance(0.5) ? opusParameters() : vp8SimulcastParameters(),
      source: f.pick(['mic', 'camera', 'screen']),
    },
    closeProducer: { producerId },
    pauseProducer: { producerId },
    resumeProducer: { producerId },
    resumeConsumer: { consumerId: 'no-such-consumer' },
    // The known producers are microphones (pushed, refused here) or none: nothing to consume.
    consume: { producerId },
    pauseConsumer: { consumerId: 'no-such-consumer' },
    closeConsumer: { consumerId: 'no-such-consumer' },
    setConsumerPreferredLayers: { consumerId: 'no-such-consumer', spatialLayer: 1 },
    leave: {},
    reportMediaFailure: { direction: f.pick(['send', 'recv']) },
    // Host-only. Malformed here, so that a fuzzer who happens to host the group cannot end the room
    // the test watches; the host check itself is tested in lobby-server.test.ts.
    muteParticipant: { peerId: f.pick(['no-such-peer', 'x']) },
    endMeeting: { everyone: true },
    resetInvite: f.pick([{}, { room: 'x' }]),
    // A renewal with a token that is not a session for this socket: refused, nothing changes.
    renew: { token: f.pick(['not-a-token', 'a.b.c', 'x'.repeat(100)]) },
    // Refused on this server (plain transports are off), whatever they carry.
    createPlainTransport: { direction: f.pick(['send', 'recv']) },
    connectPlainTransport: {
      transportId: 'no-such-transport',
      ip: f.pick(['127.0.0.1', '10.0.0.1']),
      port: f.pick([1, 5004, 65535]),
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: 'A'.repeat(36) + 'AA==' },
    },
  } satisfies Record<keyof typeof requestSchemas, unknown>;
}

function signalingEvent(f: FuzzValues, ids: KnownIds) {
  const templates = signalingTemplates(ids, f);
  const method = f.pick(Object.keys(templates)) as keyof typeof templates;
  // 'leave' ends the peer: rare, so sockets live long enough to build up state.
  const valid = {
    method: method === 'leave' && f.chance(0.9) ? 'getRouterRtpCapabilities' : method,
    data: templates[method],
  };
  const roll = f.int(100);
  if (roll < 15) return { event: 'request', payload: valid, ack: true };
  if (roll < 55)
    return {
      event: 'request',
      payload: f.mutate(f.chance(0.5) ? valid : { ...valid, data: f.mutate(valid.data) }),
      ack: true,
    };
  if (roll < 65) return { event: 'request', payload: f.any(), ack: true };
  if (roll < 67)
    return {
      event: 'request',
      payload: { method: 'join', data: { rtpCapabilities: { codecs: [{ mimeType: f.hugeString() }] } } },
      ack: true,
    };
  if (roll < 75) return { event: 'request', payload: { method, data: f.deep(1 + f.int(1500)) }, ack: true };
  if (roll < 80) return { event: 'request', payload: f.bytes(2048), ack: true };
  if (roll < 88) return { event: f.string(), payload: f.any(), ack: false };
  if (roll < 95) return { event: 'request', payload: f.mutate(valid), ack: false };
  return { event: 'raw', payload: undefined, ack: false };
}

function keysEvent(f: FuzzValues, realGroupInfo: Uint8Array) {
  const bytes = () => (f.chance(0.5) ? f.corrupt(realGroupInfo) : f.bytes(f.chance(0.02) ? 300_000 : 1024));
  const templates: Record<string, unknown> = {
    sync: {},
    publish: { groupInfo: f.chance(0.2) ? realGroupInfo : bytes() },
    commit: { commit: bytes(), groupInfo: bytes() },
    proposal: { message: bytes() },
    app: { message: bytes() },
    welcome: { to: newUserId(), message: bytes() },
    renew: { token: f.pick(['not-a-token', 'a.b.c', 'x'.repeat(100)]) },
  };
  const name = f.pick(Object.keys(templates));
  const roll = f.int(100);
  if (roll < 45) return { event: name, payload: templates[name], ack: true };
  if (roll < 70) return { event: name, payload: f.mutate(templates[name]), ack: true };
  if (roll < 78) return { event: name, payload: f.any(), ack: true };
  if (roll < 80) return { event: name, payload: { groupInfo: f.hugeString() }, ack: true };
  if (roll < 86) return { event: name, payload: f.deep(1 + f.int(1500)), ack: true };
  if (roll < 95) return { event: f.string(), payload: f.any(), ack: false };
  return { event: 'raw', payload: undefined, ack: false };
}

/** Raw socket.io packets, past the client library: bad types, bad JSON, absurd nesting. */
function rawPacket(f: FuzzValues, namespace: string): string {
  return f.pick([
    `42${namespace},${'['.repeat(100_000)}`,
    `42${namespace},["request",${'['.repeat(5000)}${']'.repeat(5000)}]`,
    `4${f.string()}`,
    `43${namespace},${f.int(1000)}[{"ok":true}]`,
    `41${namespace},`,
    `45${namespace},-1-["request",{"_placeholder":true,"num":7}]`,
    `${f.int(10)}${f.string()}`,
    `42${namespace},${JSON.stringify(['request', { method: 'join', data: {} }])}`,
  ]);
}

async function waitUntilAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function run(
  f: FuzzValues,
  pool: SocketPool,
  size: number,
  namespace: string,
  next: (f: FuzzValues, index: number) => { event: string; payload: unknown; ack: boolean },
  tally: Tally,
  codes: Set<string>,
): Promise<void> {
  const started = performance.now();
  for (let sent = 0; sent < EVENTS_PER_NAMESPACE; sent += CONCURRENCY) {
    if (sent % 600 === 0 && process.env['FUZZ_VERBOSE'] !== undefined)
      console.warn(`${namespace}: ${sent} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const index = f.int(size);
        const socket = await pool.get(index);
        const { event, payload, ack } = next(f, index);
        if (event === 'raw') {
          socket.io.engine.write(rawPacket(f, namespace));
          tally.fireAndForget += 1;
        } else if (
          !ack ||
          [
            'connect',
            'connect_error',
            'disconnect',
            'disconnecting',
            'newListener',
            'removeListener',
          ].includes(event)
        ) {
          if (
            ![
              'connect',
              'connect_error',
              'disconnect',
              'disconnecting',
              'newListener',
              'removeListener',
            ].includes(event)
          )
            socket.emit(event, payload);
          tally.fireAndForget += 1;
        } else {
          tally.record(await ask(socket, event, payload), codes);
        }
      }),
    );
  }
}

it('survives thousands of random events on signaling and /keys; other media flows, fresh clients work, memory is bounded', async () => {
  console.warn(
    `fuzz seed ${SEED} (rerun: FUZZ_SEED=${SEED} npx vitest run --project integration test/integration/fuzz.test.ts)`,
  );
  const f = new FuzzValues(prng(SEED));
  const logLines: string[] = [];
  const t = (ts = await startTestServer(
    // Rate and connection limits have their own test (limits.test.ts); here every event must reach
    // the parsers, and sockets the server closes are replaced at once.
    {
      CONCLAVE_SIGNALING_RATE: '100000',
      CONCLAVE_KEYS_RATE: '100000',
      CONCLAVE_MAX_CONNECTIONS_PER_IP: '0',
    },
    { logger: createLogger('warn', { write: (line: string) => void logLines.push(line) }) },
  ));
  const gc = collectGarbage();

  // The bystander room: one peer, and RTP through its router from a producer to a consumer.
  const bystander = await TestClient.connect(t.url, { token: await t.session('media-room') });
  await bystander.join();
  const mediaRoom = t.server.rooms.rooms.get('media-room');
  if (mediaRoom === undefined) throw new Error('no media room');
  const flow = await startRtpFlow(mediaRoom.router);
  await waitUntilAsync(async () => (await flow.report()).received > 10, 'media flowing');

  // A real MLS group in one fuzzed room, so corrupted real messages reach the MLS checks.
  // Every /keys socket here is a participant's (the key service admits no other); their signaling
  // sockets are closed with the fuzzers'.
  const participants: Participant[] = [];
  const participant = async (room: string) => {
    const p = await t.participant(room);
    participants.push(p);
    return p;
  };
  const { token: ownerToken, userId: ownerId } = await participant('fuzz-room-0');
  const owner = new KeyClient({ url: `${t.url}/keys`, token: () => ownerToken, userId: ownerId });
  await owner.start();
  const probe = await connect(`${t.url}/keys`, (await participant('fuzz-room-0')).token);
  const synced = (await ask(probe, 'sync', {})) as { result: { groupInfo: Uint8Array } };
  const realGroupInfo = new Uint8Array(synced.result.groupInfo);
  probe.close();
  const ownerEpoch = owner.current?.epoch;

  const heapBefore = heapAfterGc(gc);
  const rooms = (index: number) => `fuzz-room-${index % 3}`;
  const signalingTally = new Tally();
  const keysTally = new Tally();
  const ids: KnownIds[] = Array.from({ length: SOCKETS_PER_NAMESPACE }, () => ({
    transports: [],
    producers: [],
  }));
  const signalingPool = new SocketPool(
    SOCKETS_PER_NAMESPACE,
    async (index) => {
      const socket = await connect(`${t.url}${SIGNALING_NAMESPACE}`, await t.session(rooms(index)));
      // Half the sockets join properly first, so requests on real transports and producers happen.
      if (index % 2 === 0) ids[index] = await joinAndProduce(socket);
      return socket;
    },
    signalingTally,
  );
  // A reopened /keys socket comes back under the same session.
  const keysSessions = new Map<number, Promise<string>>();
  const keysSession = (index: number) => {
    let token = keysSessions.get(index);
    if (token === undefined) {
      token = participant(rooms(index)).then((p) => p.token);
      keysSessions.set(index, token);
    }
    return token;
  };
  const keysPool = new SocketPool(
    SOCKETS_PER_NAMESPACE,
    async (index) => connect(`${t.url}/keys`, await keysSession(index)),
    keysTally,
  );

  flow.startWindow();
  const started = performance.now();
  await Promise.all([
    run(
      f,
      signalingPool,
      SOCKETS_PER_NAMESPACE,
      SIGNALING_NAMESPACE,
      (g, i) => signalingEvent(g, ids[i] as KnownIds),
      signalingTally,
      SIGNALING_CODES,
    ),
    run(
      f,
      keysPool,
      SOCKETS_PER_NAMESPACE,
      '/keys',
      (g) => keysEvent(g, realGroupInfo),
      keysTally,
      KEYS_CODES,
    ),
  ]);
  const media = await flow.report();
  const seconds = (performance.now() - started) / 1000;
  console.warn(
    `fuzzed for ${seconds.toFixed(1)} s:`,
    JSON.stringify({
      signaling: { ...signalingTally, errors: Object.fromEntries(signalingTally.errors) },
      keys: { ...keysTally, errors: Object.fromEntries(keysTally.errors) },
      media,
    }),
  );

  // Every request owed an answer got a well-formed one, unless its socket was closed under it.
  const errors = logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
  for (const tally of [signalingTally, keysTally]) {
    expect(tally.malformed, errors.join('')).toEqual([]);
    expect(tally.timedOut).toBe(0);
    expect(tally.answers).toBeGreaterThan(MIN_ANSWERS);
    expect(tally.errors.size).toBeGreaterThan(2);
  }
  // Nothing fell through to 'internal' or an error log.
  expect(errors).toEqual([]);

  // The other room's media never stopped: every packet (one each 20 ms) came through, none took
  // longer than MAX_MEDIA_LATENCY_MS through the SFU.
  expect(media.sent - media.received).toBeLessThanOrEqual(2); // the last ones may be in flight
  // The flow ran the whole time (its thread sends less often than every 20 ms on a loaded machine).
  expect(media.sent).toBeGreaterThan(seconds * (100 / RTP_FLOW_INTERVAL_MS));
  expect(media.maxLatencyMs).toBeLessThan(MAX_MEDIA_LATENCY_MS);
  expect(owner.current?.epoch).toBe(ownerEpoch);

  // The server is healthy.
  expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

  // It forgets the fuzzers: their rooms and peers go with their sockets.
  signalingPool.closeAll();
  keysPool.closeAll();
  owner.close();
  for (const p of participants) p.signaling.close();
  await waitUntil(
    () => [...t.server.rooms.rooms.keys()].join() === 'media-room',
    15_000,
    'fuzz rooms closed',
  );
  await waitUntil(() => t.server.keys.stats().rooms === 0, 15_000, 'key rooms closed');
  expect(mediaRoom.peers.size).toBe(1);

  // Fresh clients join, negotiate and form an MLS group as if nothing happened.
  const people = await Promise.all(
    ['Alice', 'Bob'].map(async (name) => {
      const userId = newUserId();
      return {
        userId,
        token: await t.server.tokens.mintSession({ host: true, room: 'after-room', sub: userId, name }),
      };
    }),
  );
  const alice = await TestClient.connect(t.url, { token: people[0]?.token });
  const bob = await TestClient.connect(t.url, { token: people[1]?.token });
  try {
    const joined = await alice.join();
    await bob.join();
    await alice.ok('produce', {
      transportId: joined.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    await bob.waitFor('newConsumer');
    // Alice's and Bob's key clients: the same sessions as their signaling sockets.
    const keyClients = people.map(
      ({ userId, token }) => new KeyClient({ url: `${t.url}/keys`, token: () => token, userId }),
    );
    try {
      for (const client of keyClients) await client.start();
      await expect.poll(() => keyClients[0]?.current?.members.length, { timeout: 15_000 }).toBe(2);
      expect(keyClients[1]?.current?.securityCode).toBe(keyClients[0]?.current?.securityCode);
    } finally {
      for (const client of keyClients) client.close();
    }
  } finally {
    alice.close();
    bob.close();
  }
  await waitUntil(
    () => [...t.server.rooms.rooms.keys()].join() === 'media-room',
    15_000,
    'after-room closed',
  );

  // Memory: what the fuzz left behind on the heap after collection is bounded.
  await flow.stop();
  bystander.close();
  await waitUntil(
    () => t.server.rooms.rooms.size === 0 && t.server.io.engine.clientsCount === 0,
    5000,
    'all closed',
  );
  const growth = heapAfterGc(gc) - heapBefore;
  console.warn(`heap growth after the run: ${(growth / 1024 / 1024).toFixed(1)} MiB`);
  expect(growth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
}, 120_000);
