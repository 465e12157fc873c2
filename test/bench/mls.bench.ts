// MLS rekey costs for groups of 10, 50 and 200 members, both cipher suites.
//
// Metric names: mls.<what>@<N>.<suite>, suite ∈ {x25519, xwing}:
// - commit_remove_ms: one member creates the commit removing another (ts-mls createCommit, median of 3);
// - process_commit_ms: one member processes that commit (median over the sampled members);
// - rekey_all_ms: from the start of the commit until every member holds the new epoch key =
//   commit creation + the real key service checking and fanning it out over socket.io to N-2
//   connected members (time until the last one received it) + the slowest sampled member's
//   processing (each member processes on its own device, in parallel);
// - rekey_bytes: bytes through the key service for the rekey: commit + GroupInfo in, commit × recipients out.
//
// The group is grown once per suite to 200 by external joins (as a meeting fills up); only the last
// few joiners before each size keep their state to be measured, which keeps the bench to minutes.
import { memberCapabilities } from '@conclave/key-service/capabilities';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import {
  createCommit,
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroupExternal,
  nobleCryptoProvider,
  processPublicMessage,
  type CiphersuiteImpl,
  type ClientState,
  type GroupInfo,
  type PublicMessage,
} from 'ts-mls';
import { TokenAuthority } from '@conclave/server/tokens';
import { attachKeyService } from '@conclave/key-service/server';
import { DEFAULT_MLS_SUITE, PQ_MLS_SUITE, type MlsSuiteName } from '@conclave/key-service/client';
import { median, type Benchmark, type Metric } from './metric.ts';

const SIZES = [10, 50, 200];
const SAMPLED = 3; // members keeping state before each size: 1 committer + 2 processors
const ROOM = 'bench-room';
const enc = new TextEncoder();

const userId = (i: number) => `bench-${String(i).padStart(4, '0')}`;
const encodeInfo = (groupInfo: GroupInfo) =>
  encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo });

async function keyPackage(i: number, impl: CiphersuiteImpl) {
  return generateKeyPackage(
    { credentialType: 'basic', identity: enc.encode(userId(i)) },
    memberCapabilities(),
    defaultLifetime,
    [],
    impl,
  );
}

async function startService() {
  const http = createServer();
  const io = new Server(http, { maxHttpBufferSize: 4 * 1024 * 1024 });
  const tokens = new TokenAuthority(new Uint8Array(randomBytes(32)), {
    inviteSeconds: 600,
    sessionSeconds: 600,
  });
  const service = attachKeyService(io, {
    authenticate: (t) => tokens.verifySession(t),
    limits: { maxMembersPerRoom: 1000 },
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/keys`;
  const sockets: Socket[] = [];
  return {
    async socket(user: string): Promise<Socket> {
      const token = await tokens.mintSession({ host: true, room: ROOM, sub: user, name: user });
      const s = connect(url, { transports: ['websocket'], auth: { token }, reconnection: false });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      return s;
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await service.close();
      await new Promise<void>((r) => io.close(() => r()));
    },
  };
}

async function ack(socket: Socket, event: string, payload: unknown): Promise<unknown> {
  const a = (await socket.timeout(30_000).emitWithAck(event, payload)) as {
    ok: boolean;
    result?: unknown;
    error?: unknown;
  };
  if (!a.ok) throw new Error(`${event} refused: ${JSON.stringify(a.error)}`);
  return a.result;
}

async function measure(
  n: number,
  tag: string,
  impl: CiphersuiteImpl,
  groupInfo: GroupInfo,
  committer: ClientState,
  processors: ClientState[],
): Promise<Metric[]> {
  const removed = { proposalType: 'remove' as const, remove: { removed: 1 } };
  const commitTimes: number[] = [];
  let result: Awaited<ReturnType<typeof createCommit>> | undefined;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    result = await createCommit(
      { state: committer, cipherSuite: impl },
      { wireAsPublicMessage: true, extraProposals: [removed] },
    );
    commitTimes.push(performance.now() - t0);
  }
  if (result === undefined || result.commit.wireformat !== 'mls_public_message') throw new Error('no commit');
  const publicMessage: PublicMessage = result.commit.publicMessage;
  const processTimes: number[] = [];
  for (const state of processors) {
    const t0 = performance.now();
    await processPublicMessage(state, publicMessage, emptyPskIndex, impl);
    processTimes.push(performance.now() - t0);
  }
  const commitBytes = encodeMlsMessage(result.commit);
  const nextInfo = encodeInfo(await createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], impl));

  // Through the real key service: the committer is the last member; leaf 1 is the one removed.
  const service = await startService();
  try {
    const committerSocket = await service.socket(userId(n - 1));
    await ack(committerSocket, 'publish', { groupInfo: encodeInfo(groupInfo) });
    const recipients: Socket[] = [];
    for (let i = 0; i < n - 1; i++) if (i !== 1) recipients.push(await service.socket(userId(i)));
    let received = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((r) => (done = r));
    for (const s of recipients) {
      s.once('commit', () => {
        if (++received === recipients.length) done();
      });
    }
    const t0 = performance.now();
    await ack(committerSocket, 'commit', { commit: commitBytes, groupInfo: nextInfo });
    await all;
    const relayMs = performance.now() - t0;
    const commitMs = median(commitTimes);
    return [
      { metric: `mls.commit_remove_ms@${n}.${tag}`, value: commitMs, unit: 'ms' },
      { metric: `mls.process_commit_ms@${n}.${tag}`, value: median(processTimes), unit: 'ms' },
      {
        metric: `mls.rekey_all_ms@${n}.${tag}`,
        value: commitMs + relayMs + Math.max(...processTimes),
        unit: 'ms',
      },
      {
        metric: `mls.rekey_bytes@${n}.${tag}`,
        value: commitBytes.byteLength * (1 + recipients.length) + nextInfo.byteLength,
        unit: 'bytes',
      },
    ];
  } finally {
    await service.close();
  }
}

async function runSuite(suite: MlsSuiteName, tag: string): Promise<Metric[]> {
  const cs = getCiphersuiteFromName(suite);
  // Measured with the default (WebCrypto) provider, as in browsers; the group is grown with the
  // faster synchronous noble provider (same wire format, same states).
  const impl = await getCiphersuiteImpl(cs);
  const builder = await getCiphersuiteImpl(cs, nobleCryptoProvider);
  const first = await keyPackage(0, builder);
  const creator = await createGroup(
    enc.encode('bench-group'),
    first.publicPackage,
    first.privatePackage,
    [],
    builder,
  );
  let info = await createGroupInfoWithExternalPubAndRatchetTree(creator, [], builder);
  let live: ClientState[] = [];
  const metrics: Metric[] = [];
  const max = Math.max(...SIZES);
  for (let i = 1; i < max; i++) {
    const kp = await keyPackage(i, builder);
    const { publicMessage, newState } = await joinGroupExternal(
      info,
      kp.publicPackage,
      kp.privatePackage,
      false,
      builder,
    );
    live = await Promise.all(
      live.map(async (s) => (await processPublicMessage(s, publicMessage, emptyPskIndex, builder)).newState),
    );
    info = await createGroupInfoWithExternalPubAndRatchetTree(newState, [], builder);
    const size = i + 1;
    const nextSize = SIZES.find((s) => s >= size) ?? max;
    if (nextSize - size < SAMPLED) live.push(newState);
    if (SIZES.includes(size)) {
      metrics.push(...(await measure(size, tag, impl, info, newState, live.slice(0, -1))));
      live = [];
    }
  }
  return metrics;
}

const bench: Benchmark = {
  name: 'MLS rekey (ts-mls) through the key service',
  reproduce: 'npm run bench -- mls',
  async run() {
    return [...(await runSuite(DEFAULT_MLS_SUITE, 'x25519')), ...(await runSuite(PQ_MLS_SUITE, 'xwing'))];
  },
};
export default bench;
