// Server-side faults, against a real server, real mediasoup workers and the real key service with
// real MLS clients: a media worker killed during a meeting, and a client whose network vanishes
// without a goodbye.
import { describe, expect, it } from 'vitest';
import { newUserId } from '../../server/src/auth/tokens.ts';
import type { Notification } from '../../server/src/signaling/protocol.ts';
import { VanishingNetwork } from '../support/vanishingNetwork.ts';
import { inSync } from './key-service.harness.ts';
import { serverFixture, type Member } from './support/serverFixture.ts';
import { opusParameters, vp8SimulcastParameters, waitUntil, type TestClient } from './support/testServer.ts';

const fixture = serverFixture();
const server = () => fixture.ts;

/** A signaling client of `userId` (to come back as them) through `via`: the server itself, or
 *  a network that can vanish. */
const connectSignaling = (room: string, userId: string, name: string, via?: string) =>
  fixture.signaling(room, name, { userId, via });

/** Joins as the browser does: signaling (transports, join) and the MLS group, in parallel. */
const joinMeeting = (room: string, name: string, via?: string): Promise<Member> =>
  fixture.member(room, name, { via, keysDuringJoin: true, requestTimeoutMs: 5000 });

async function produce(client: TestClient, transportId: string, source: 'mic' | 'camera'): Promise<string> {
  const { producerId } = await client.ok('produce', {
    transportId,
    kind: source === 'mic' ? 'audio' : 'video',
    rtpParameters: source === 'mic' ? opusParameters() : vp8SimulcastParameters(),
    source,
  });
  return producerId;
}

type Of<T extends Notification['type']> = Extract<Notification, { type: T }>;

function consumersOf(client: TestClient, producerIds: string[]): Array<Of<'newConsumer'>> {
  return client.notifications.filter(
    (n): n is Of<'newConsumer'> => n.type === 'newConsumer' && producerIds.includes(n.data.producerId),
  );
}

function closedConsumers(client: TestClient): string[] {
  return client.notifications
    .filter((n): n is Of<'consumerClosed'> => n.type === 'consumerClosed')
    .map((n) => n.data.consumerId);
}

async function readyz(): Promise<number> {
  return (await fetch(`${server().url}/readyz`)).status;
}

describe('a mediasoup worker killed during a meeting', () => {
  it('is replaced; its room’s peers are told, rejoin at once, and media and MLS carry on', async () => {
    const ts = await fixture.start({ CONCLAVE_WORKERS: '1' });
    const room = 'worker-crash-room';
    const alice = await joinMeeting(room, 'Alice');
    const bob = await joinMeeting(room, 'Bob');
    await inSync([alice.keys, bob.keys], 1n);
    await produce(alice.signaling, alice.sendTransportId, 'mic');
    const removed: string[] = [];
    for (const m of [alice, bob]) m.keys.on('removed', () => removed.push(m.name));

    const [dead] = ts.server.pool.workers;
    process.kill(dead!.pid, 'SIGKILL');

    // Both are told why, and disconnected: the room cannot go on without its router.
    for (const m of [alice, bob]) {
      const closed = await m.signaling.waitFor('roomClosed');
      expect(closed.data.reason).toBe('media-server-restarted');
      await waitUntil(() => !m.signaling.socket.connected, 5000, `${m.name} disconnected`);
    }

    // They rejoin at once, whether or not the replacement worker is up yet: the room is recreated
    // on it, and media flows again.
    const alice2 = await connectSignaling(room, alice.userId, 'Alice');
    const bob2 = await connectSignaling(room, bob.userId, 'Bob');
    const [a2] = await Promise.all([alice2.join(), bob2.join()]);
    const producerId = await produce(alice2, a2.sendTransportId, 'mic');
    await waitUntil(() => consumersOf(bob2, [producerId]).length === 1, 5000, "Bob's consumer");
    await bob2.ok('resumeConsumer', { consumerId: consumersOf(bob2, [producerId])[0]!.data.consumerId });

    const workers = ts.server.pool.workers;
    expect(workers).toHaveLength(1);
    expect(workers[0]!.pid).not.toBe(dead!.pid);
    expect(workers[0]!.died).toBe(false);
    expect(await readyz()).toBe(200);
    const recreated = ts.server.rooms.rooms.get(room)!;
    expect([...recreated.peers.values()].map((p) => p.userId).sort()).toEqual(
      [alice.userId, bob.userId].sort(),
    );

    // The MLS group does not depend on the media server: nobody was removed, no epoch was spent.
    expect(removed).toEqual([]);
    expect(alice.keys.epoch).toBe(1n);
    expect(bob.keys.epoch).toBe(1n);
    expect(ts.server.keys.snapshot(room)?.members.map((m) => m.userId)).toEqual([alice.userId, bob.userId]);
    expect(ts.server.keys.snapshot(room)?.online.sort()).toEqual([alice.userId, bob.userId].sort());
  });

  it('leaves the rooms on the other workers alone', async () => {
    const ts = await fixture.start({ CONCLAVE_WORKERS: '2' });
    // A room goes to the least-loaded worker: the first room to the first worker, the second to the second.
    const a = await connectSignaling('room-on-first', newUserId(), 'A');
    await a.join();
    const b = await connectSignaling('room-on-second', newUserId(), 'B');
    const bJoin = await b.join();
    const [first, second] = ts.server.pool.workers;

    process.kill(first!.pid, 'SIGKILL');
    await a.waitFor('roomClosed');
    await waitUntil(
      () => server().server.pool.workers.length === 2 && !server().server.pool.workers.includes(first!),
      10_000,
      'the replacement worker',
    );

    expect(ts.server.pool.workers).toContain(second);
    expect(b.socket.connected).toBe(true);
    expect(b.notifications.filter((n) => n.type === 'roomClosed')).toEqual([]);
    expect(await produce(b, bJoin.sendTransportId, 'mic')).toEqual(expect.any(String));
  });
});

describe('a client whose network vanishes without closing', () => {
  const PING_INTERVAL_MS = 500;
  const PING_TIMEOUT_MS = 500;
  /** socket.io notices the silence within interval + timeout; beyond that, one MLS commit round. */
  const MLS_COMMIT_ALLOWANCE_MS = 2000;

  it('is cleaned up within ping interval + timeout: peer, transports, consumers, then MLS membership', async () => {
    const ts = await fixture.start({
      CONCLAVE_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
      CONCLAVE_PING_TIMEOUT_MS: String(PING_TIMEOUT_MS),
    });
    const network = await VanishingNetwork.start(ts.url);
    fixture.onTeardown(() => network.close());
    const room = 'vanish-room';
    const alice = await joinMeeting(room, 'Alice');
    const bob = await joinMeeting(room, 'Bob');
    const carol = await joinMeeting(room, 'Carol', network.url);
    await inSync([alice.keys, bob.keys, carol.keys], 2n);
    const carolProducers = [
      await produce(carol.signaling, carol.sendTransportId, 'mic'),
      await produce(carol.signaling, carol.sendTransportId, 'camera'),
    ];
    // Her microphone comes to both; her camera to whoever asks, as a tile on screen does.
    const cameraConsumers = new Map<TestClient, string>();
    for (const m of [alice, bob]) {
      await waitUntil(
        () => consumersOf(m.signaling, carolProducers).length === 1,
        5000,
        `${m.name}'s microphone consumer`,
      );
      const camera = await m.signaling.ok('consume', { producerId: carolProducers[1] });
      cameraConsumers.set(m.signaling, camera.consumerId);
    }
    const roomState = ts.server.rooms.rooms.get(room)!;
    const carolPeer = [...roomState.peers.values()].find((p) => p.userId === carol.userId)!;
    expect((await roomState.router.dump()).transportIds).toHaveLength(6);

    const vanishedAt = Date.now();
    network.vanish();

    // The server notices within interval + timeout: Carol's peer, transports and producers go, and
    // with them Alice's and Bob's consumers of her media.
    await waitUntil(() => carolPeer.closed, PING_INTERVAL_MS + PING_TIMEOUT_MS + 250, "Carol's peer closed");
    const noticedAfter = Date.now() - vanishedAt;
    expect(roomState.peers.size).toBe(2);
    expect((await roomState.router.dump()).transportIds).toHaveLength(4);
    for (const m of [alice, bob]) {
      const ids = [
        ...consumersOf(m.signaling, carolProducers).map((n) => n.data.consumerId),
        cameraConsumers.get(m.signaling)!,
      ];
      await waitUntil(
        () => ids.every((id) => closedConsumers(m.signaling).includes(id)),
        1000,
        `${m.name}'s consumers closed`,
      );
      expect(m.signaling.notifications).toContainEqual({ type: 'peerLeft', data: { peerId: carolPeer.id } });
      expect(m.signaling.notifications).toContainEqual({
        type: 'producerGone',
        data: { producerId: carolProducers[1] },
      });
    }

    // The key service has a remaining member commit her removal; both process it.
    await inSync([alice.keys, bob.keys], 3n);
    const removedAfter = Date.now() - vanishedAt;
    expect(removedAfter).toBeLessThan(PING_INTERVAL_MS + PING_TIMEOUT_MS + MLS_COMMIT_ALLOWANCE_MS);
    for (const m of [alice, bob]) {
      expect(m.keys.current?.members.map((x) => x.userId)).toEqual([alice.userId, bob.userId]);
    }
    expect(ts.server.keys.snapshot(room)?.members.map((m) => m.userId)).toEqual([alice.userId, bob.userId]);
    console.warn(
      `vanished client: peer closed after ${noticedAfter} ms, MLS removal after ${removedAfter} ms`,
    );
  });
});
