// Races between peers of one room, against a real server and mediasoup worker: found by the load
// run (npm run load), where joins, produces and leaves overlap all the time.
import type { types } from 'mediasoup';
import { beforeEach, describe, expect, it } from 'vitest';
import { serverFixture } from './support/serverFixture.ts';
import { opusParameters, vp8SimulcastParameters, waitUntil, type TestServer } from './support/testServer.ts';

const fixture = serverFixture();
let ts: TestServer;
beforeEach(async () => {
  ts = await fixture.start();
});
const connect = (room: string, name: string) => fixture.signaling(room, name);

const ROUNDS = 8;

describe('a join racing a produce', () => {
  it('gives the newcomer exactly one consumer of a new microphone and one offer of a new camera, whichever comes first', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const room = `race-${round}`;
      // Carol's media makes Bob's join take a few worker round trips (one consumer each) before it
      // reaches Alice's producers; Alice's new microphone and camera land in that window.
      const carol = await connect(room, 'Carol');
      const c = await carol.join();
      const carolMic = await carol.ok('produce', {
        transportId: c.sendTransportId,
        kind: 'audio',
        rtpParameters: opusParameters(),
        source: 'mic',
      });
      const carolCamera = await carol.ok('produce', {
        transportId: c.sendTransportId,
        kind: 'video',
        rtpParameters: vp8SimulcastParameters(),
        source: 'camera',
      });
      const alice = await connect(room, 'Alice');
      const a = await alice.join();
      const bob = await connect(room, 'Bob');
      const { rtpCapabilities } = await bob.ok('getRouterRtpCapabilities', {});
      await bob.ok('createTransport', { direction: 'recv' });
      const [, mic, camera] = await Promise.all([
        bob.ok('join', { rtpCapabilities }),
        alice.ok('produce', {
          transportId: a.sendTransportId,
          kind: 'audio',
          rtpParameters: opusParameters(),
          source: 'mic',
        }),
        alice.ok('produce', {
          transportId: a.sendTransportId,
          kind: 'video',
          rtpParameters: vp8SimulcastParameters(),
          source: 'camera',
        }),
      ]);
      // Anything still on its way has arrived after another round trip through the worker.
      await ts.server.rooms.rooms.get(room)!.router.dump();
      await bob.ok('getRouterRtpCapabilities', {});
      const pushed = bob.notifications.flatMap((n) => (n.type === 'newConsumer' ? [n.data.producerId] : []));
      expect(pushed.sort()).toEqual([carolMic.producerId, mic.producerId].sort());
      const offered = bob.notifications.flatMap((n) =>
        n.type === 'producerAvailable' ? [n.data.producerId] : [],
      );
      expect(offered.sort()).toEqual([carolCamera.producerId, camera.producerId].sort());
      const bobPeer = [...ts.server.rooms.rooms.get(room)!.peers.values()].find(
        (p) => p.displayName === 'Bob',
      )!;
      // Cameras are not consumed until asked for.
      expect(bobPeer.consumerCount).toBe(2);
    }
  });
});

describe('a leave racing a produce', () => {
  it('closes a producer that mediasoup finished creating after its peer left', async () => {
    const room = 'leave-race';
    const alice = await connect(room, 'Alice');
    await waitUntil(() => ts.server.rooms.rooms.get(room)?.peers.size === 1, 5000, 'alice in the room');
    const roomState = ts.server.rooms.rooms.get(room)!;
    const alicePeer = [...roomState.peers.values()][0]!;
    // Alice leaves while her produce request is with the mediasoup worker: her transports close
    // before the worker's answer arrives. Only the timing is arranged; everything else is mediasoup's.
    const producers: types.Producer[] = [];
    roomState.router.observer.on('newtransport', (transport) => {
      const produce = transport.produce.bind(transport);
      transport.produce = async (options) => {
        const pending = produce(options);
        alicePeer.close();
        const producer = await pending;
        producers.push(producer);
        return producer;
      };
    });
    const a = await alice.join();
    const bob = await connect(room, 'Bob');
    await bob.join();
    const answer = await alice
      .request('produce', {
        transportId: a.sendTransportId,
        kind: 'audio',
        rtpParameters: opusParameters(),
        source: 'mic',
      })
      .catch(() => ({ ok: false }));
    expect(answer.ok).toBe(false);
    await waitUntil(() => roomState.peers.size === 1, 5000, 'alice gone');
    // Alice's answer (her socket closed) can come before the worker's: wait for the worker's. Then
    // one round trip of Bob's, so that a newConsumer the server might wrongly send him has arrived.
    await waitUntil(() => producers.length > 0, 5000, 'mediasoup created the producer');
    await bob.ok('getRouterRtpCapabilities', {});
    expect(producers).toHaveLength(1);
    expect(producers[0]!.closed).toBe(true);
    expect(bob.notifications.filter((n) => n.type === 'newConsumer')).toEqual([]);
  });
});
