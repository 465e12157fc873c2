// Signaling against a real server and a real mediasoup worker: authentication at the handshake,
// the room lifecycle, producing and consuming, cleanup, and bad input.
import { beforeEach, describe, expect, it } from 'vitest';
import { serverFixture } from './support/serverFixture.ts';
import {
  TestClient,
  opusParameters,
  startTestServer,
  vp8SimulcastParameters,
  waitUntil,
  type TestServer,
} from './support/testServer.ts';

const fixture = serverFixture();
let ts: TestServer;
beforeEach(async () => {
  ts = await fixture.start();
});
const connect = (room: string, name?: string) => fixture.signaling(room, name);

describe('handshake authentication', () => {
  it('refuses a socket without a token, with a clear error', async () => {
    await expect(TestClient.connect(ts.url, {})).rejects.toMatchObject({
      data: { code: 'token-invalid' },
      message: expect.stringMatching(/not valid|no token/),
    });
  });

  it('refuses a garbage token and an invite token used as a session', async () => {
    await expect(TestClient.connect(ts.url, { token: 'garbage.token.here' })).rejects.toMatchObject({
      data: { code: 'token-invalid' },
    });
    const invite = await ts.server.tokens.mintInvite({ room: 'alpha-room' });
    await expect(TestClient.connect(ts.url, { token: invite })).rejects.toMatchObject({
      data: { code: 'token-invalid' },
    });
  });

  it('refuses a token signed with another secret', async () => {
    const other = await startTestServer();
    try {
      const foreign = await other.session('alpha-room');
      await expect(TestClient.connect(ts.url, { token: foreign })).rejects.toMatchObject({
        data: { code: 'token-invalid' },
      });
    } finally {
      await other.close();
    }
  });

  it('puts a socket in the room its token names', async () => {
    const client = await connect('alpha-room');
    await waitUntil(() => ts.server.rooms.rooms.get('alpha-room')?.peers.size === 1, 5000, 'peer in room');
    expect(client.socket.connected).toBe(true);
  });
});

describe('room lifecycle and media', () => {
  it('tells peers about each other, pushes microphones and offers cameras, consumers paused until resumed', async () => {
    const alice = await connect('media-room', 'Alice');
    const a = await alice.join();
    expect(a.peers).toEqual([]);
    expect(a.self.displayName).toBe('Alice');
    const mic = await alice.ok('produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });

    const bob = await connect('media-room', 'Bob');
    const b = await bob.join();
    expect(b.peers.map((p) => p.displayName)).toEqual(['Alice']);
    const joined = await alice.waitFor('peerJoined');
    expect(joined.data.displayName).toBe('Bob');

    // Bob consumes Alice's existing microphone, created paused.
    const micConsumer = await bob.waitFor('newConsumer');
    expect(micConsumer.data).toMatchObject({
      producerId: mic.producerId,
      peerId: a.self.peerId,
      kind: 'audio',
      source: 'mic',
    });
    const serverConsumer = () =>
      ts.server.rooms.rooms
        .get('media-room')!
        .peers.get(b.self.peerId)!
        .consumer(micConsumer.data.consumerId);
    expect(serverConsumer().paused).toBe(true);
    await bob.ok('resumeConsumer', { consumerId: micConsumer.data.consumerId });
    expect(serverConsumer().paused).toBe(false);

    // Alice's new simulcast camera is offered to Bob; he receives it as a simulcast consumer, whose
    // layers he can choose, once he asks.
    alice.notifications.length = 0;
    bob.notifications.length = 0;
    const camera = await alice.ok('produce', {
      transportId: a.sendTransportId,
      kind: 'video',
      rtpParameters: vp8SimulcastParameters(),
      source: 'camera',
    });
    const offered = await bob.waitFor('producerAvailable');
    expect(offered.data).toEqual({
      producerId: camera.producerId,
      peerId: a.self.peerId,
      source: 'camera',
      kind: 'video',
      paused: false,
    });
    const cam = await bob.ok('consume', { producerId: camera.producerId });
    expect(cam).toMatchObject({ kind: 'video', source: 'camera', peerId: a.self.peerId });
    const camConsumer = ts.server.rooms.rooms
      .get('media-room')!
      .peers.get(b.self.peerId)!
      .consumer(cam.consumerId);
    expect(camConsumer.type).toBe('simulcast');
    expect(camConsumer.paused).toBe(true);
    await bob.ok('setConsumerPreferredLayers', { consumerId: cam.consumerId, spatialLayer: 0 });
    expect(camConsumer.preferredLayers?.spatialLayer).toBe(0);

    // Muting pauses the producer; the consumer's owner is told.
    await alice.ok('pauseProducer', { producerId: mic.producerId });
    const paused = await bob.waitFor('consumerPaused');
    expect(paused.data.consumerId).toBe(micConsumer.data.consumerId);
  });

  it('refuses producing before joining, a second producer for one source, and a source of the wrong kind', async () => {
    const alice = await connect('rules-room');
    const send = await alice.ok('createTransport', { direction: 'send' });
    const early = await alice.request('produce', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    expect(early).toMatchObject({ ok: false, error: { code: 'invalid-state' } });

    const { rtpCapabilities } = await alice.ok('getRouterRtpCapabilities', {});
    await alice.ok('join', { rtpCapabilities });
    await alice.ok('produce', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    const twice = await alice.request('produce', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    expect(twice).toMatchObject({ ok: false, error: { code: 'invalid-state' } });
    const wrongKind = await alice.request('produce', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'camera',
    });
    expect(wrongKind).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('closes every resource of a peer that disconnects, tells the others, and closes the empty room', async () => {
    const alice = await connect('cleanup-room', 'Alice');
    const a = await alice.join();
    await alice.ok('produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    const bob = await connect('cleanup-room', 'Bob');
    await bob.join();
    await bob.waitFor('newConsumer');

    const room = ts.server.rooms.rooms.get('cleanup-room')!;
    const router = room.router;
    const transportsBefore = (await router.dump()).transportIds.length;
    expect(transportsBefore).toBe(4);

    alice.close();
    const left = await bob.waitFor('peerLeft');
    expect(left.data.peerId).toBe(a.self.peerId);
    await bob.waitFor('consumerClosed');
    await waitUntil(() => room.peers.size === 1, 5000, 'alice removed');
    expect((await router.dump()).transportIds.length).toBe(2);

    bob.close();
    await waitUntil(() => room.closed, 5000, 'room closed');
    expect(router.closed).toBe(true);
    expect(ts.server.rooms.rooms.has('cleanup-room')).toBe(false);
  });

  it('serializes room creation: peers racing into a new room share one room', async () => {
    const racers = await Promise.all(Array.from({ length: 5 }, (_, i) => connect('race-room', `P${i}`)));
    await waitUntil(() => ts.server.rooms.rooms.get('race-room')?.peers.size === 5, 5000, 'five peers');
    expect(ts.server.rooms.rooms.size).toBe(1);
    expect(racers.every((c) => c.socket.connected)).toBe(true);
  });

  it('refuses a peer beyond the room limit and leaves the others in place', async () => {
    await ts.close();
    ts = await fixture.start({ CONCLAVE_MAX_PEERS_PER_ROOM: '2' });
    await connect('small-room');
    await connect('small-room');
    const third = await connect('small-room');
    await waitUntil(() => third.fatal !== undefined, 5000, 'fatal');
    expect(third.fatal?.code).toBe('room-full');
    await waitUntil(() => !third.socket.connected, 5000, 'third disconnected');
    expect(ts.server.rooms.rooms.get('small-room')?.peers.size).toBe(2);
  });
});

describe('bad input', () => {
  it('answers every malformed request with a clear error and leaves the other peer unaffected', async () => {
    const mallory = await connect('shared-room', 'Mallory');
    const alice = await connect('shared-room', 'Alice');
    await alice.join();

    const bad: unknown[] = [
      null,
      42,
      'join',
      [],
      { method: 'nope', data: {} },
      { method: 'join' },
      { method: 'join', data: { rtpCapabilities: 'all of them' } },
      { method: 'createTransport', data: { direction: 'sideways' } },
      { method: 'createTransport', data: { direction: 'send', extra: true } },
      { method: 'connectTransport', data: { transportId: 'x'.repeat(1000), dtlsParameters: {} } },
      { method: 'resumeConsumer', data: { consumerId: { $gt: '' } } },
      { method: 'setConsumerPreferredLayers', data: { consumerId: 'c', spatialLayer: 99 } },
      { method: 'join', data: { rtpCapabilities: { codecs: Array.from({ length: 1000 }, () => ({})) } } },
      {
        method: 'produce',
        data: { transportId: 't', kind: 'audio', rtpParameters: { codecs: [] }, source: 'mic' },
      },
      { method: '__proto__', data: {} },
      { method: 'join', data: JSON.parse('{"__proto__": {"polluted": true}}') },
      { method: 'leave', data: { padding: 'x'.repeat(100_000) } },
    ];
    for (const payload of bad) {
      const ack = (await mallory.socket.timeout(5000).emitWithAck('request', payload)) as {
        ok: boolean;
        error?: { code: string; message: string };
      };
      expect(ack.ok, JSON.stringify(payload)?.slice(0, 80)).toBe(false);
      expect(ack.error?.code).toBe('bad-request');
      expect(ack.error?.message.length).toBeGreaterThan(0);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    // Operations on ids that do not exist are refused as not found.
    const ghost = await mallory.request('resumeConsumer', { consumerId: 'no-such-consumer' });
    expect(ghost).toMatchObject({ ok: false, error: { code: 'not-found' } });

    // Events other than requests, and requests without an acknowledgement, are ignored.
    mallory.socket.emit('join', { anything: true });
    mallory.socket.emit('request', { method: 'leave', data: {} });

    // Mallory is still connected and Alice's session works as before.
    const caps = await alice.ok('getRouterRtpCapabilities', {});
    expect(caps.rtpCapabilities).toBeDefined();
    expect(mallory.socket.connected).toBe(true);
    expect(alice.notifications.filter((n) => n.type === 'peerLeft')).toEqual([]);
  });
});

describe('media worker failure', () => {
  it('replaces a dead worker and tells its rooms’ peers to rejoin, who then can', async () => {
    const alice = await connect('crash-room', 'Alice');
    await alice.join();
    const [worker] = ts.server.pool.workers;
    process.kill(worker!.pid, 'SIGKILL');

    const closed = await alice.waitFor('roomClosed');
    expect(closed.data.reason).toBe('media-server-restarted');
    await waitUntil(() => !alice.socket.connected, 5000, 'alice disconnected');
    await waitUntil(
      () => ts.server.pool.workers.length === 1 && ts.server.pool.workers[0] !== worker,
      10_000,
      'replacement worker',
    );

    const again = await connect('crash-room', 'Alice');
    const rejoined = await again.join();
    expect(rejoined.self.displayName).toBe('Alice');
  });
});
