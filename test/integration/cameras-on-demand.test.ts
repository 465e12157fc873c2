// Cameras on demand (issue #17), against a real server and mediasoup worker: cameras are announced
// to everyone (producerAvailable, producerPaused / producerResumed, producerGone) and flow to a peer
// only once it asks (`consume`); pauseConsumer stops the packets at the SFU, closeConsumer frees the
// consumer, and `consume` refuses whatever is not another joined peer's camera in this room, with a
// clear code, changing nothing. Microphones and screens are still pushed (signaling.test.ts).
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { beforeEach, describe, expect, it } from 'vitest';
import { Peer } from '../../server/src/rooms/Peer.ts';
import type { Notification, RequestMethod } from '../../server/src/signaling/protocol.ts';
import { VP8_PAYLOAD_TYPE } from '../support/plainRtpProducer.ts';
import { Vp8RtpStream } from '../support/rtpPackets.ts';
import { cameraFrames } from '../support/media/ivfCamera.ts';
import { RtpReceiveCounter } from '../support/media/rtpReceiveCounter.ts';
import { SrtpContext } from '../support/media/srtp.ts';
import { serverFixture } from './support/serverFixture.ts';
import {
  opusParameters,
  vp8SimulcastParameters,
  waitUntil,
  type TestClient,
  type TestServer,
} from './support/testServer.ts';

const fixture = serverFixture();
let ts: TestServer;
beforeEach(async () => {
  ts = await fixture.start({ CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1' });
});
const connect = (room: string, name: string) => fixture.signaling(room, name);

async function produce(client: TestClient, transportId: string, source: 'mic' | 'camera' | 'screen') {
  const { producerId } = await client.ok('produce', {
    transportId,
    kind: source === 'mic' ? 'audio' : 'video',
    rtpParameters: source === 'mic' ? opusParameters() : vp8SimulcastParameters(),
    source,
  });
  return producerId;
}

function ofType<T extends Notification['type']>(client: TestClient, type: T) {
  return client.notifications.filter((n): n is Extract<Notification, { type: T }> => n.type === type);
}

function serverPeer(room: string, peerId: string): Peer {
  const peer = ts.server.rooms.rooms.get(room)?.peers.get(peerId);
  if (peer === undefined) throw new Error(`no peer ${peerId} in ${room}`);
  return peer;
}

/** Every consumer the room's router holds. */
async function routerConsumers(room: string): Promise<string[]> {
  const dump = (await ts.server.rooms.rooms.get(room)!.router.dump()) as {
    mapProducerIdConsumerIds: Record<string, string[]>;
  };
  return Object.values(dump.mapProducerIdConsumerIds).flat().sort();
}

describe('announcing cameras', () => {
  it('offers a camera to everyone without consuming it, and tells its pauses and its end', async () => {
    const room = 'offer-room';
    const alice = await connect(room, 'Alice');
    const a = await alice.join();
    const bob = await connect(room, 'Bob');
    const b = await bob.join();
    const camera = await produce(alice, a.sendTransportId, 'camera');

    const offered = await bob.waitFor('producerAvailable');
    expect(offered.data).toEqual({
      producerId: camera,
      peerId: a.self.peerId,
      source: 'camera',
      kind: 'video',
      paused: false,
    });
    expect(ofType(bob, 'newConsumer')).toEqual([]);
    expect(serverPeer(room, b.self.peerId).consumerCount).toBe(0);
    expect(await routerConsumers(room)).toEqual([]);
    // Its owner is not offered its own camera.
    await alice.ok('getRouterRtpCapabilities', {});
    expect(ofType(alice, 'producerAvailable')).toEqual([]);

    // Turned off and on: everyone hears it, consumer or not.
    await alice.ok('pauseProducer', { producerId: camera });
    await bob.waitFor('producerPaused');
    await alice.ok('resumeProducer', { producerId: camera });
    await bob.waitFor('producerResumed');
    expect(ofType(bob, 'producerPaused').map((n) => n.data)).toEqual([{ producerId: camera }]);
    expect(ofType(bob, 'producerResumed').map((n) => n.data)).toEqual([{ producerId: camera }]);

    // A latecomer hears of the existing camera (paused now) once, before the answer to its join.
    await alice.ok('pauseProducer', { producerId: camera });
    const carol = await connect(room, 'Carol');
    await carol.join();
    expect(ofType(carol, 'producerAvailable').map((n) => n.data)).toEqual([
      { producerId: camera, peerId: a.self.peerId, source: 'camera', kind: 'video', paused: true },
    ]);

    // Closing it: everyone who was offered it hears it is gone.
    await alice.ok('closeProducer', { producerId: camera });
    for (const client of [bob, carol]) {
      await client.waitFor('producerGone');
      expect(ofType(client, 'producerGone').map((n) => n.data)).toEqual([{ producerId: camera }]);
    }
  });

  it('tells that a leaving peer’s camera is gone, and closes the consumers of it', async () => {
    const room = 'leave-room';
    const alice = await connect(room, 'Alice');
    const a = await alice.join();
    const bob = await connect(room, 'Bob');
    const b = await bob.join();
    const camera = await produce(alice, a.sendTransportId, 'camera');
    await bob.waitFor('producerAvailable');
    const consumer = await bob.ok('consume', { producerId: camera });
    expect(serverPeer(room, b.self.peerId).consumerCount).toBe(1);

    alice.close();
    await bob.waitFor('producerGone');
    await bob.waitFor('peerLeft');
    await waitUntil(
      () => ofType(bob, 'consumerClosed').some((n) => n.data.consumerId === consumer.consumerId),
      5000,
      'consumerClosed',
    );
    expect(serverPeer(room, b.self.peerId).consumerCount).toBe(0);
    expect(await routerConsumers(room)).toEqual([]);
    const gone = await bob.request('consume', { producerId: camera });
    expect(gone).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('consume refusals', () => {
  it('refuses what is not another joined peer’s camera in this room, once, with clear codes, changing nothing', async () => {
    const room = 'refusal-room';
    const alice = await connect(room, 'Alice');
    const a = await alice.join();
    const mic = await produce(alice, a.sendTransportId, 'mic');
    const screen = await produce(alice, a.sendTransportId, 'screen');
    const aliceCamera = await produce(alice, a.sendTransportId, 'camera');
    const bob = await connect(room, 'Bob');
    const b = await bob.join();
    const bobCamera = await produce(bob, b.sendTransportId, 'camera');
    const elsewhere = await connect('other-room', 'Eve');
    const e = await elsewhere.join();
    const foreignCamera = await produce(elsewhere, e.sendTransportId, 'camera');
    const early = await connect(room, 'Dave');
    await bob.waitFor('producerAvailable');

    const bobPeer = serverPeer(room, b.self.peerId);
    const pushed = bobPeer.consumerCount; // Alice's microphone and screen
    expect(pushed).toBe(2);
    const before = await routerConsumers(room);
    const seen = (client: TestClient) => client.notifications.length;
    const aliceSeen = seen(alice);

    const refusals: Array<[TestClient, unknown, string, RegExp]> = [
      [bob, { producerId: 'no-such-producer' }, 'not-found', /no such camera/],
      [bob, { producerId: foreignCamera }, 'not-found', /no such camera/],
      [bob, { producerId: bobCamera }, 'bad-request', /own camera/],
      [bob, { producerId: mic }, 'bad-request', /only cameras/],
      [bob, { producerId: screen }, 'bad-request', /only cameras/],
      [early, { producerId: aliceCamera }, 'invalid-state', /join before consuming/],
      [bob, { producerId: 42 }, 'bad-request', /producerId/],
      [bob, { producerId: aliceCamera, consumerId: 'x' }, 'bad-request', /consume/],
    ];
    for (const [client, data, code, message] of refusals) {
      const ack = await client.request('consume', data);
      expect(ack, JSON.stringify(data)).toMatchObject({ ok: false, error: { code } });
      if (!ack.ok) expect(ack.error.message).toMatch(message);
    }
    expect(bobPeer.consumerCount).toBe(pushed);
    expect(await routerConsumers(room)).toEqual(before);

    // The first consume works; a second one of the same camera is refused while the first lives.
    const first = await bob.ok('consume', { producerId: aliceCamera });
    expect(first).toMatchObject({ producerId: aliceCamera, peerId: a.self.peerId, source: 'camera' });
    const twice = await bob.request('consume', { producerId: aliceCamera });
    expect(twice).toMatchObject({ ok: false, error: { code: 'invalid-state', message: /consumed already/ } });
    expect(bobPeer.consumerCount).toBe(pushed + 1);
    expect(await routerConsumers(room)).toEqual([...before, first.consumerId].sort());

    // Pushed streams are closed with their producer, not by their receiver.
    const micConsumer = ofType(bob, 'newConsumer').find((n) => n.data.source === 'mic')!;
    const closeMic = await bob.request('closeConsumer', { consumerId: micConsumer.data.consumerId });
    expect(closeMic).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // Another peer's consumer is nobody else's to pause or close.
    for (const method of ['pauseConsumer', 'closeConsumer', 'resumeConsumer'] as RequestMethod[]) {
      const ack = await alice.request(method, { consumerId: first.consumerId });
      expect(ack, method).toMatchObject({ ok: false, error: { code: 'not-found' } });
    }
    expect(bobPeer.consumer(first.consumerId).paused).toBe(true);
    expect(bobPeer.consumerCount).toBe(pushed + 1);
    expect(seen(alice)).toBe(aliceSeen);

    // Closed, it can be consumed again: a fresh consumer.
    await bob.ok('closeConsumer', { consumerId: first.consumerId });
    expect(await routerConsumers(room)).toEqual(before);
    const again = await bob.ok('consume', { producerId: aliceCamera });
    expect(again.consumerId).not.toBe(first.consumerId);
  });

  it('refuses a camera past the per-peer cap of cameras received at once', async () => {
    const room = 'cap-room';
    const owners = await Promise.all(['Alice', 'Bob', 'Carol'].map((name) => connect(room, name)));
    const cameras: string[] = [];
    for (const owner of owners) {
      const joined = await owner.join();
      cameras.push(await produce(owner, joined.sendTransportId, 'camera'));
    }
    // A viewer with a cap of two, in the same room and on the same router as everyone else.
    const roomState = ts.server.rooms.rooms.get(room)!;
    const notifications: Notification[] = [];
    const viewer = new Peer({
      id: 'capped-viewer',
      userId: 'capped-viewer-user',
      displayName: 'Viewer',
      notify: (n) => notifications.push(n),
      limits: { maxProducers: 3, maxConsumers: 30, maxCameraConsumers: 2 },
    });
    fixture.onTeardown(() => viewer.close());
    roomState.addPeer(viewer);
    await roomState.handle(viewer, { method: 'createTransport', data: { direction: 'recv' } });
    const rtpCapabilities = roomState.router.rtpCapabilities as never;
    await roomState.handle(viewer, { method: 'join', data: { rtpCapabilities } });
    expect(notifications.filter((n) => n.type === 'producerAvailable')).toHaveLength(3);

    const consume = (producerId: string) =>
      roomState.handle(viewer, { method: 'consume', data: { producerId } }) as Promise<{
        consumerId: string;
      }>;
    const first = await consume(cameras[0]!);
    await consume(cameras[1]!);
    await expect(consume(cameras[2]!)).rejects.toMatchObject({
      code: 'forbidden',
      message: 'at most 2 cameras received at once',
    });
    expect(viewer.consumerCount).toBe(2);
    // Closing one makes room for another.
    await roomState.handle(viewer, { method: 'closeConsumer', data: { consumerId: first.consumerId } });
    await consume(cameras[2]!);
    expect(viewer.consumerCount).toBe(2);
  });
});

/** A participant on SRTP plain transports: its camera is real VP8, what it receives is counted. */
class PlainParticipant {
  readonly client: TestClient;
  readonly counter = new RtpReceiveCounter();
  readonly #socket = dgram.createSocket('udp4');
  #srtp: SrtpContext | undefined;
  #sendPort = 0;
  #sendTransportId = '';
  peerId = '';

  private constructor(client: TestClient) {
    this.client = client;
    this.#socket.on('message', (datagram) => this.counter.add(datagram));
  }

  static async join(room: string, name: string): Promise<PlainParticipant> {
    const participant = new PlainParticipant(await connect(room, name));
    fixture.onTeardown(() => {
      participant.#socket.close();
    });
    await participant.#open();
    return participant;
  }

  async #open(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    const port = this.#socket.address().port;
    const { rtpCapabilities } = await this.client.ok('getRouterRtpCapabilities', {});
    const key = randomBytes(28);
    const send = await this.client.ok('createPlainTransport', { direction: 'send' });
    await this.client.ok('connectPlainTransport', {
      transportId: send.id,
      ip: '127.0.0.1',
      port,
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: key.toString('base64') },
    });
    const recv = await this.client.ok('createPlainTransport', { direction: 'recv' });
    await this.client.ok('connectPlainTransport', {
      transportId: recv.id,
      ip: '127.0.0.1',
      port,
      srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: randomBytes(28).toString('base64') },
    });
    this.#srtp = SrtpContext.fromMasterKey(key);
    this.#sendPort = send.port;
    this.#sendTransportId = send.id;
    this.peerId = (await this.client.ok('join', { rtpCapabilities })).self.peerId;
  }

  /** Produces a one-layer VP8 camera and sends its frames at 25 fps until `stop()`. */
  async sendCamera(): Promise<{ producerId: string; stop: () => void }> {
    const stream = new Vp8RtpStream({
      ssrc: 0x5eed0001,
      payloadType: VP8_PAYLOAD_TYPE,
      maxPayloadSize: 1100,
    });
    const { producerId } = await this.client.ok('produce', {
      transportId: this.#sendTransportId,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PAYLOAD_TYPE, clockRate: 90000 }],
        encodings: [{ ssrc: stream.ssrc }],
        rtcp: { cname: 'plain-camera' },
      },
    });
    // Its lowest layer: a key frame a second, so a resumed consumer soon has one to start from.
    const frames = (await cameraFrames('#2080c0')).layers[0]!;
    let frame = 0;
    const timer = setInterval(() => {
      for (const packet of stream.packetize(frames[frame % frames.length]!, frame * 3600)) {
        this.#socket.send(this.#srtp!.protect(packet, 0), this.#sendPort, '127.0.0.1');
      }
      frame += 1;
    }, 40);
    fixture.onTeardown(() => clearInterval(timer));
    return { producerId, stop: () => clearInterval(timer) };
  }
}

const received = (p: PlainParticipant, ssrc: number) => p.counter.count(ssrc).received;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the flow of a consumed camera', () => {
  it('flows only once consumed and resumed, stops when paused at the SFU, and ends when closed', async () => {
    const room = 'flow-room';
    const alice = await PlainParticipant.join(room, 'Alice');
    const bob = await PlainParticipant.join(room, 'Bob');
    const camera = await alice.sendCamera();
    await bob.client.waitFor('producerAvailable');

    // Offered, not consumed: nothing arrives.
    await sleep(1000);
    expect(bob.counter.all().size).toBe(0);

    const info = await bob.client.ok('consume', { producerId: camera.producerId });
    const ssrc = info.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('no SSRC in the consumer');
    const consumer: types.Consumer = serverPeer(room, bob.peerId).consumer(info.consumerId);
    await sleep(500);
    expect(received(bob, ssrc)).toBe(0); // created paused
    await bob.client.ok('resumeConsumer', { consumerId: info.consumerId });
    await waitUntil(() => received(bob, ssrc) > 50, 5000, 'the camera flowing');

    await bob.client.ok('pauseConsumer', { consumerId: info.consumerId });
    expect(consumer.paused).toBe(true);
    await sleep(300); // packets in flight
    const atPause = received(bob, ssrc);
    await sleep(1000);
    expect(received(bob, ssrc)).toBe(atPause);

    await bob.client.ok('resumeConsumer', { consumerId: info.consumerId });
    await waitUntil(() => received(bob, ssrc) > atPause + 50, 5000, 'the camera flowing again');

    await bob.client.ok('closeConsumer', { consumerId: info.consumerId });
    expect(consumer.closed).toBe(true);
    expect(serverPeer(room, bob.peerId).consumerCount).toBe(0);
    await sleep(300);
    const atClose = received(bob, ssrc);
    await sleep(1000);
    expect(received(bob, ssrc)).toBe(atClose);
    const closedAgain = await bob.client.request('pauseConsumer', { consumerId: info.consumerId });
    expect(closedAgain).toMatchObject({ ok: false, error: { code: 'not-found' } });
    camera.stop();
  });
});
