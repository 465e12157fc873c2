// Placement and the commit fence wired into the live server and key service (cluster mode), on a
// real redis-server and real mediasoup workers: two server instances in this process share one
// Redis and one token secret. The committers under test are raw socket.io + raw ts-mls
// (test/support/mlsAttacker.ts), so no KeyClient check can hide what the key service lets through.
import {
  createCommit,
  createGroupInfoWithExternalPubAndRatchetTree,
  encodeMlsMessage,
  type ClientState,
} from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { newUserId } from '../../server/src/auth/tokens.ts';
import { MlsAttacker, type KeyServiceAnswer } from '../support/mlsAttacker.ts';
import { startRtpFlow } from '../support/rtpFlow.ts';
import { until, useCluster } from './cluster.harness.ts';
import { serverFixture } from './support/serverFixture.ts';
import { TestClient, type TestServer } from './support/testServer.ts';

const cluster = useCluster();
const fixture = serverFixture();
const ROOM = 'fenced-room';
/** Both nodes verify each other's session tokens, as a cluster's nodes do. */
const TOKEN_SECRET = 'cluster-fence-wiring-test-secret-0123456789abcdef';

interface NodeTiming {
  heartbeatMs: number;
  ttlMs: number;
}
/** A TTL well above the event-loop stalls of MLS work in this process (a node must stay healthy). */
const TIMING: NodeTiming = { heartbeatMs: 100, ttlMs: 1_500 };

function startNode(name: string, rtcMinPort: number, timing: NodeTiming = TIMING): Promise<TestServer> {
  return fixture.start({
    CONCLAVE_REDIS_URL: cluster.redis.url,
    CONCLAVE_NODE_NAME: name,
    CONCLAVE_CLUSTER_HEARTBEAT_MS: String(timing.heartbeatMs),
    CONCLAVE_CLUSTER_TTL_MS: String(timing.ttlMs),
    CONCLAVE_CLUSTER_PREFIX: 'test:',
    CONCLAVE_TOKEN_SECRET: TOKEN_SECRET,
    CONCLAVE_RTC_MIN_PORT: String(rtcMinPort),
    CONCLAVE_RTC_MAX_PORT: String(rtcMinPort + 999),
  });
}

/** A participant of raw pieces on `node`: signaling connected (so /keys admits it), and MLS. */
async function rawMember(node: TestServer, room: string, name: string): Promise<MlsAttacker> {
  const userId = newUserId();
  const token = await fixture.session(room, name, userId);
  await fixture.connect({ token }, { via: node.url });
  const mls = await MlsAttacker.connect(`${node.url}/keys`, token, userId);
  fixture.onTeardown(() => mls.close());
  return mls;
}

/** One empty commit (with a path) from the member's state, as bytes to send and send again. */
async function prepareCommit(member: MlsAttacker): Promise<{
  payload: { commit: Uint8Array; groupInfo: Uint8Array };
  newState: ClientState;
}> {
  if (member.state === undefined) throw new Error('not a member');
  const result = await createCommit(
    { state: member.state, cipherSuite: member.impl },
    { wireAsPublicMessage: true, extraProposals: [] },
  );
  const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(result.newState, [], member.impl);
  return {
    payload: {
      commit: encodeMlsMessage(result.commit),
      groupInfo: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo }),
    },
    newState: result.newState,
  };
}

function refusalOf(answer: KeyServiceAnswer): string | undefined {
  return answer.ok ? undefined : answer.error?.code;
}

async function metricsText(node: TestServer): Promise<string> {
  return (await fetch(`${node.url}/metrics`)).text();
}

/** The handshake refusal's data, or a failure if the handshake was admitted. */
async function refusedData(attempt: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e as { data?: Record<string, unknown> },
  );
  if (error?.data === undefined) throw new Error('the handshake was admitted');
  return error.data;
}

const fenceCounts = (node: TestServer) => node.server.cluster!.fence.counts;

describe('placement at the door', () => {
  it('admits a room only on its owner: the other node refuses both handshakes, naming the owner', async () => {
    const a = await startNode('node-a', 42000);
    const b = await startNode('node-b', 43000);
    // Equal loads: placement takes the first node by name, whichever node the first join reached.
    const alice = await fixture.member(ROOM, 'Alice', { via: a.url });
    expect(await cluster.admin().hgetall(`test:room:${ROOM}`)).toEqual({
      owner: 'node-a',
      generation: '1',
    });

    const userId = newUserId();
    const token = await fixture.session(ROOM, 'Bob', userId);
    const onSignaling = await refusedData(TestClient.connect(b.url, { token }));
    expect(onSignaling).toEqual({
      code: 'wrong-node',
      message: 'this meeting is held by node node-a; connect there',
      owner: 'node-a',
    });
    const onKeys = await refusedData(fixture.socket('/keys', { auth: { token }, via: b.url }));
    expect(onKeys).toMatchObject({ code: 'wrong-node', owner: 'node-a' });
    expect(b.server.rooms.rooms.size).toBe(0);
    expect(b.server.keys.snapshot(ROOM)).toBeUndefined();

    // The client asks again, at the owner: the same session works there.
    await fixture.connect({ token }, { via: a.url });
    const keys = fixture.keyClient(token, userId, { via: a.url });
    await keys.start();
    await expect.poll(() => alice.keys.current?.members.length).toBe(2);
    expect(await metricsText(b)).toMatch(/^conclave_cluster_joins_refused_total\{reason="wrong-node"\} 2$/m);
    expect(await metricsText(a)).toMatch(/^conclave_cluster_joins_refused_total\{reason="wrong-node"\} 0$/m);
  });
});

describe('the commit fence in the key service', () => {
  it('a paused owner whose room re-homed cannot commit; one commit per epoch across both nodes', async () => {
    const a = await startNode('node-a', 42000);
    const b = await startNode('node-b', 43000);
    await fixture.member(ROOM, 'Alice', { via: a.url });
    const bob = await rawMember(a, ROOM, 'Bob');
    expect(refusalOf(await bob.join())).toBeUndefined();
    const before = await a.server.cluster!.fence.record(ROOM);
    expect(before).toMatchObject({ owner: 'node-a', generation: 1, epoch: Number(bob.epoch) });

    // Node A stops heartbeating (a paused process): its entry expires and a join at B re-homes R.
    await a.server.cluster!.registry.stop();
    await until(async () => (await cluster.admin().exists('test:node:node-a')) === 0);
    // Partitioned from the registry, A still owns R in the directory: it must stop by itself.
    expect(a.server.cluster!.healthy()).toBe(false);
    const partitioned = await prepareCommit(bob).then(({ payload }) => bob.request('commit', payload));
    expect(refusalOf(partitioned)).toBe('unavailable');
    expect(await a.server.cluster!.fence.record(ROOM)).toEqual(before);
    const late = await fixture.session(ROOM, 'Frank');
    expect(await refusedData(TestClient.connect(a.url, { token: late }))).toMatchObject({
      code: 'unavailable',
    });
    const carol = await fixture.member(ROOM, 'Carol', { via: b.url });
    expect(await cluster.admin().hgetall(`test:room:${ROOM}`)).toEqual({
      owner: 'node-b',
      generation: '2',
    });
    // B continued the recorded group: Carol's external join built on the recorded epoch.
    const rehomed = await b.server.cluster!.fence.record(ROOM);
    expect(rehomed).toMatchObject({ owner: 'node-b', generation: 2, epoch: before!.epoch + 1 });
    const onB = b.server.keys.snapshot(ROOM);
    expect(onB?.epoch).toBe(rehomed!.epoch);
    const dave = await rawMember(b, ROOM, 'Dave');
    expect(refusalOf(await dave.join())).toBeUndefined();
    await until(() => carol.keys.current?.epoch === dave.epoch);

    // A comes back, healthy again, still holding its old meeting at generation 1.
    await a.server.cluster!.registry.start();
    await until(() => a.server.cluster!.healthy());
    const recordBefore = await b.server.cluster!.fence.record(ROOM);
    const groupOnB = b.server.keys.snapshot(ROOM);
    const [fromA, fromB] = await Promise.all([
      prepareCommit(bob).then(({ payload }) => bob.request('commit', payload)),
      prepareCommit(dave).then(({ payload }) => dave.request('commit', payload)),
    ]);
    expect(refusalOf(fromA)).toBe('fenced');
    expect(refusalOf(fromB)).toBeUndefined();
    // Refused again without asking Redis: the room takes no more commits on A.
    const again = await prepareCommit(bob).then(({ payload }) => bob.request('commit', payload));
    expect(refusalOf(again)).toBe('fenced');
    expect(fenceCounts(a).fenced).toBe(1);

    // B's group moved by exactly B's commit; A's changed nothing there.
    const recordAfter = await b.server.cluster!.fence.record(ROOM);
    expect(recordAfter).toMatchObject({ owner: 'node-b', generation: 2, epoch: recordBefore!.epoch + 1 });
    expect(b.server.keys.snapshot(ROOM)?.epoch).toBe(recordAfter!.epoch);
    expect(b.server.keys.snapshot(ROOM)?.members).toEqual(groupOnB?.members);
    // Every epoch since the group began (epoch 0, published) has exactly one accepted commit.
    expect(fenceCounts(a).accepted + fenceCounts(b).accepted).toBe(recordAfter!.epoch);
    expect(await metricsText(a)).toMatch(/^conclave_cluster_commits_refused_total\{reason="fenced"\} 1$/m);

    // A refuses new sessions for R now, naming B; one already open learns 'fenced' on its commit.
    const token = await fixture.session(ROOM, 'Erin');
    expect(await refusedData(TestClient.connect(a.url, { token }))).toMatchObject({
      code: 'wrong-node',
      owner: 'node-b',
    });
  });

  it('a room re-homed away and back: the stale meeting is fenced and refused until it has ended', async () => {
    const a = await startNode('node-a', 42000);
    const b = await startNode('node-b', 43000);
    const alice = await fixture.member(ROOM, 'Alice', { via: a.url });
    const bobId = newUserId();
    const bobToken = await fixture.session(ROOM, 'Bob', bobId);
    const bobSignaling = await fixture.connect({ token: bobToken }, { via: a.url });
    const bob = await MlsAttacker.connect(`${a.url}/keys`, bobToken, bobId);
    fixture.onTeardown(() => bob.close());
    expect(refusalOf(await bob.join())).toBeUndefined();

    // A pauses, R goes to B (generation 2), B leaves the cluster, A comes back: R returns to A at
    // generation 3 while A still holds its meeting of generation 1.
    await a.server.cluster!.registry.stop();
    await until(async () => (await cluster.admin().exists('test:node:node-a')) === 0);
    await fixture.connect({ token: await fixture.session(ROOM, 'Carol') }, { via: b.url });
    await b.server.cluster!.close();
    await a.server.cluster!.registry.start();
    await until(() => a.server.cluster!.healthy());
    const token = await fixture.session(ROOM, 'Dave');
    expect(await refusedData(TestClient.connect(a.url, { token }))).toMatchObject({
      code: 'stale-generation',
    });
    expect(await cluster.admin().hgetall(`test:room:${ROOM}`)).toEqual({
      owner: 'node-a',
      generation: '3',
    });
    const stale = await prepareCommit(bob).then(({ payload }) => bob.request('commit', payload));
    expect(refusalOf(stale)).toBe('fenced');

    // Once that meeting has ended here, the room is A's again at generation 3.
    alice.keys.close();
    alice.signaling.close();
    bob.close();
    bobSignaling.close();
    await until(() => a.server.rooms.rooms.size === 0 && a.server.keys.snapshot(ROOM) === undefined);
    await fixture.connect({ token }, { via: a.url });
    expect(await metricsText(a)).toMatch(
      /^conclave_cluster_joins_refused_total\{reason="stale-generation"\} 1$/m,
    );
  });

  it('with Redis paused mid-meeting: commits are refused as retryable, media flows, and all resumes', async () => {
    // A TTL longer than the pause: the node stays healthy, so the fence call is made and times out.
    const a = await startNode('node-a', 42000, { heartbeatMs: 200, ttlMs: 4_000 });
    await fixture.member(ROOM, 'Alice', { via: a.url });
    const bob = await rawMember(a, ROOM, 'Bob');
    expect(refusalOf(await bob.join())).toBeUndefined();
    const epoch = a.server.keys.snapshot(ROOM)!.epoch!;
    const flow = await startRtpFlow(a.server.rooms.rooms.get(ROOM)!.router);
    fixture.onTeardown(() => flow.stop());
    const token = await fixture.session(ROOM, 'Carol');

    const first = await prepareCommit(bob);
    cluster.redis.pause();
    try {
      flow.startWindow();
      expect(refusalOf(await bob.request('commit', first.payload))).toBe('unavailable');
      expect(a.server.keys.snapshot(ROOM)?.epoch).toBe(epoch);
      expect(await refusedData(TestClient.connect(a.url, { token }))).toMatchObject({
        code: 'unavailable',
      });
      const media = await flow.report();
      expect(media.received).toBeGreaterThan(40);
      expect(media.maxGapMs).toBeLessThan(500);
    } finally {
      cluster.redis.resume();
    }

    // The timed-out call ran once Redis resumed: the record holds the commit nobody received.
    await until(async () => (await a.server.cluster!.fence.record(ROOM))?.epoch === epoch + 1);
    // Retried as is, it is taken without a second fence call, and relayed now.
    const accepted = fenceCounts(a).accepted;
    expect(refusalOf(await bob.request('commit', first.payload))).toBeUndefined();
    bob.state = first.newState;
    expect(a.server.keys.snapshot(ROOM)?.epoch).toBe(epoch + 1);
    expect(fenceCounts(a).accepted).toBe(accepted);

    // Again, but the client sends another commit after the outage: the unanswered one is withdrawn.
    const lost = await prepareCommit(bob);
    cluster.redis.pause();
    try {
      expect(refusalOf(await bob.request('commit', lost.payload))).toBe('unavailable');
    } finally {
      cluster.redis.resume();
    }
    await until(async () => (await a.server.cluster!.fence.record(ROOM))?.epoch === epoch + 2);
    const next = await prepareCommit(bob);
    expect(refusalOf(await bob.request('commit', next.payload))).toBeUndefined();
    const record = await a.server.cluster!.fence.record(ROOM);
    expect(record?.epoch).toBe(epoch + 2);
    expect(Buffer.from(record!.groupInfo).equals(Buffer.from(next.payload.groupInfo))).toBe(true);
    expect(a.server.keys.snapshot(ROOM)?.epoch).toBe(epoch + 2);

    // Joins work again.
    await fixture.connect({ token }, { via: a.url });
  });

  it('a malformed directory entry or commit record is a clear refusal, not a crash', async () => {
    const a = await startNode('node-a', 42000);
    const admin = cluster.admin();
    await fixture.member(ROOM, 'Alice', { via: a.url });
    const bob = await rawMember(a, ROOM, 'Bob');
    expect(refusalOf(await bob.join())).toBeUndefined();

    await admin.hset(`test:commit:${ROOM}`, 'epoch', 'many');
    const answer = await prepareCommit(bob).then(({ payload }) => bob.request('commit', payload));
    expect(answer.error).toMatchObject({ code: 'invalid-state' });
    expect(answer.error?.message).toMatch(/record of this room is malformed/);

    await admin.hset('test:room:broken-room', { owner: 'node-a', generation: 'x' });
    const data = await refusedData(
      TestClient.connect(a.url, { token: await fixture.session('broken-room', 'Carol') }),
    );
    expect(data).toMatchObject({ code: 'unavailable' });
    expect(data['message']).toMatch(/directory entry for this meeting is malformed/);

    await admin.hset('test:commit:junk-room', {
      epoch: '3',
      generation: '1',
      owner: 'node-a',
      groupInfo: 'not a group info',
    });
    const dave = await rawMember(a, 'junk-room', 'Dave');
    const sync = (await dave.request('sync', {})) as KeyServiceAnswer;
    expect(sync.error).toMatchObject({ code: 'invalid-state' });
    expect(sync.error?.message).toMatch(/recorded GroupInfo does not read/);

    // The server is still serving the healthy room.
    expect(((await bob.request('sync', {})) as KeyServiceAnswer).ok).toBe(true);
  });
});
