// The tap on the SFU against a real mediasoup worker: RTP written byte by byte goes into a room's
// router through a PlainTransport, the tap consumes what the SFU forwards, reassembles the frames and
// checks them. Plaintext VP8, H.264 and Opus (real libvpx/libx264/libopus frames) are flagged; frames
// sealed by the real SFrame library in Conclave's layout pass with their KIDs and CTRs, on every
// simulcast layer.
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  VP9_FIXTURE,
  readH264AccessUnits,
  readIvfFrames,
  readOggOpusPackets,
} from '../support/codecFixtures.ts';
import { sealConclaveFrame, sealConclaveH264Frame } from '../support/conclaveFrames.ts';
import {
  H264_PAYLOAD_TYPE,
  OPUS_PAYLOAD_TYPE,
  VP8_PAYLOAD_TYPE,
  VP9_PAYLOAD_TYPE,
  createPlainRtpProducer,
  type PlainCodec,
  type PlainRtpProducer,
} from '../support/plainRtpProducer.ts';
import {
  H264RtpStream,
  OpusRtpStream,
  Vp8RtpStream,
  Vp9RtpStream,
  annexBNalUnits,
} from '../support/rtpPackets.ts';
import { SfuTap } from '../support/sfuTap.ts';
import {
  TestClient,
  opusParameters,
  startTestServer,
  vp8SimulcastParameters,
  type TestServer,
} from './support/testServer.ts';

let ts: TestServer;
let tap: SfuTap | undefined;
const senders: PlainRtpProducer[] = [];
const clients: TestClient[] = [];

const vp8Frames = readIvfFrames();
const h264Frames = readH264AccessUnits();
const opusPackets = readOggOpusPackets();
const baseKey = new Uint8Array(16).fill(0x42);
/** One member at leaf 0 (S = 1), epoch 6. */
const S = 1;
const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 0n, epoch: 6n, indexBits: S });
const audioKid = mlsKid({ context: STREAM_CONTEXTS.mic, index: 0n, epoch: 6n, indexBits: S });

beforeEach(async () => {
  ts = await startTestServer();
});

afterEach(async () => {
  tap?.close();
  tap = undefined;
  for (const s of senders.splice(0)) s.close();
  for (const c of clients.splice(0)) c.close();
  await ts.close();
});

async function plainProducer(roomId: string, codec: PlainCodec, ssrcs: number[]): Promise<PlainRtpProducer> {
  const room = await ts.server.rooms.getOrCreate(roomId);
  const source = codec === 'opus' ? 'mic' : 'camera';
  const sender = await createPlainRtpProducer(room.router, {
    codec,
    ssrcs,
    appData: { source, peerId: 'plain-rtp' },
  });
  senders.push(sender);
  return sender;
}

/** 90 kHz video at 10 fps, 48 kHz audio at 20 ms. */
const videoTimestamp = (i: number) => 9000 * (i + 1);
const audioTimestamp = (i: number) => 960 * (i + 1);

describe('SFU tap', () => {
  it('flags plaintext VP8 and Opus forwarded by the SFU, and sees exactly the bytes that were sent', async () => {
    tap = await SfuTap.attachToServer(ts.server, 'plain-room', { keepFrameData: true });
    const camera = await plainProducer('plain-room', 'vp8', [0x1111]);
    const mic = await plainProducer('plain-room', 'opus', [0x2222]);
    await tap.waitForProducer(camera.producer.id);
    await tap.waitForProducer(mic.producer.id);

    const video = new Vp8RtpStream({
      ssrc: 0x1111,
      payloadType: VP8_PAYLOAD_TYPE,
      sequenceNumber: 65530,
      maxPayloadSize: 400,
    });
    const audio = new OpusRtpStream({ ssrc: 0x2222, payloadType: OPUS_PAYLOAD_TYPE });
    await camera.send(vp8Frames.flatMap((frame, i) => video.packetize(frame, videoTimestamp(i))));
    await mic.send(opusPackets.map((packet, i) => audio.packetize(packet, audioTimestamp(i))));
    await tap.waitFor(
      (t) =>
        t.producers.get(camera.producer.id)!.totalFrames === 3 &&
        t.producers.get(mic.producer.id)!.totalFrames === 6,
      {
        what: '3 VP8 and 6 Opus frames',
      },
    );

    const cameraTap = tap.producers.get(camera.producer.id)!;
    expect(cameraTap).toMatchObject({
      kind: 'video',
      mimeType: 'video/VP8',
      codec: 'vp8',
      source: 'camera',
      peerId: 'plain-rtp',
    });
    // The SFU forwards the payload untouched: the tap reassembles the encoder's frames byte for byte.
    expect(cameraTap.frames.map((f) => [...f.data!])).toEqual(vp8Frames.map((f) => [...f]));
    expect(cameraTap.frames.map((f) => f.layer)).toEqual([0, 0, 0]);
    // Every plaintext VP8 frame is a violation: its first compressed bytes read as an audio-context KID.
    expect(cameraTap.okFrames).toBe(0);
    expect(cameraTap.violations.map((v) => v.code)).toEqual([
      'kid-outside-policy',
      'kid-outside-policy',
      'kid-outside-policy',
    ]);

    // Plaintext Opus: the TOC byte reads as KID 7, and the next byte as a CTR that repeats.
    const micTap = tap.producers.get(mic.producer.id)!;
    expect(micTap.frames.map((f) => [...f.data!])).toEqual(opusPackets.map((p) => [...p]));
    expect(micTap.violations.length).toBeGreaterThan(0);
    expect(new Set(micTap.violations.map((v) => v.code))).toEqual(new Set(['ctr-reuse']));
    expect(tap.violations()).toHaveLength(cameraTap.violations.length + micTap.violations.length);
  });

  it('passes SFrame ciphertext on every simulcast layer and reports its KIDs and CTRs', async () => {
    tap = await SfuTap.attachToServer(ts.server, 'sealed-room', { indexBits: S });
    const camera = await plainProducer('sealed-room', 'vp8', [0x3330, 0x3331]);
    const mic = await plainProducer('sealed-room', 'opus', [0x4444]);
    await tap.waitForProducer(camera.producer.id);
    await tap.waitForProducer(mic.producer.id);

    // Two layers share the sender's counter, as one SFrame sender context does for a simulcast track.
    const layers = [0x3330, 0x3331].map(
      (ssrc) => new Vp8RtpStream({ ssrc, payloadType: VP8_PAYLOAD_TYPE, maxPayloadSize: 300 }),
    );
    let ctr = 0n;
    const videoPackets: Uint8Array[] = [];
    for (let round = 0; round < 2; round++) {
      for (const [i, frame] of vp8Frames.entries()) {
        for (const layer of layers) {
          const sealed = await sealConclaveFrame('vp8', frame, { baseKey, kid: cameraKid, ctr: ctr++ });
          videoPackets.push(...layer.packetize(sealed, videoTimestamp(3 * round + i)));
        }
      }
    }
    const audio = new OpusRtpStream({ ssrc: 0x4444, payloadType: OPUS_PAYLOAD_TYPE });
    const audioPackets = await Promise.all(
      opusPackets.map(async (packet, i) =>
        audio.packetize(
          await sealConclaveFrame('opus', packet, { baseKey, kid: audioKid, ctr: BigInt(i) }),
          audioTimestamp(i),
        ),
      ),
    );
    await camera.send(videoPackets);
    await mic.send(audioPackets);
    await tap.waitFor(
      (t) =>
        t.producers.get(camera.producer.id)!.totalFrames === 12 &&
        t.producers.get(mic.producer.id)!.totalFrames === 6,
      {
        what: '12 VP8 and 6 Opus frames',
      },
    );

    expect(tap.violations()).toEqual([]);
    const cameraTap = tap.producers.get(camera.producer.id)!;
    expect(cameraTap.okFrames).toBe(12);
    expect(cameraTap.frames.filter((f) => f.layer === 0)).toHaveLength(6);
    expect(cameraTap.frames.filter((f) => f.layer === 1)).toHaveLength(6);
    expect(cameraTap.frames.map((f) => f.inspection.ok && f.inspection.keyframe)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(cameraTap.frames[0]!.inspection).toMatchObject({
      ok: true,
      mls: { context: STREAM_CONTEXTS.camera, index: 0n, epochLowBits: 6n },
    });
    expect(cameraTap.tracker.kids).toEqual([
      {
        kid: cameraKid,
        epochLowBits: 6n,
        frames: 12,
        keyframes: 4,
        firstCtr: 0n,
        minCtr: 0n,
        maxCtr: 11n,
        outOfOrder: 0,
        reusedCtrs: 0,
      },
    ]);
    const micTap = tap.producers.get(mic.producer.id)!;
    expect(micTap.tracker.kids).toEqual([
      {
        kid: audioKid,
        epochLowBits: 6n,
        frames: 6,
        keyframes: 0,
        firstCtr: 0n,
        minCtr: 0n,
        maxCtr: 5n,
        outOfOrder: 0,
        reusedCtrs: 0,
      },
    ]);
  });

  it('H.264: sealed frames pass with their NAL headers clear; plaintext IDR slices are flagged', async () => {
    tap = await SfuTap.attachToServer(ts.server, 'h264-room', { indexBits: S, keepFrameData: true });
    const sealedCamera = await plainProducer('h264-room', 'h264', [0x7770]);
    const plainCamera = await plainProducer('h264-room', 'h264', [0x7771]);
    await tap.waitForProducer(sealedCamera.producer.id);
    await tap.waitForProducer(plainCamera.producer.id);

    const sealed = await Promise.all(
      h264Frames.map((frame, i) => sealConclaveH264Frame(frame, { baseKey, kid: cameraKid, ctr: BigInt(i) })),
    );
    const packetize = (ssrc: number, frames: Uint8Array[]) => {
      const stream = new H264RtpStream({
        ssrc,
        payloadType: H264_PAYLOAD_TYPE,
        sequenceNumber: 65533,
        maxPayloadSize: 300,
      });
      return frames.flatMap((frame, i) => stream.packetize(frame, videoTimestamp(i)));
    };
    await sealedCamera.send(packetize(0x7770, sealed));
    await plainCamera.send(packetize(0x7771, h264Frames));
    await tap.waitFor(
      (t) =>
        t.producers.get(sealedCamera.producer.id)!.totalFrames === 3 &&
        t.producers.get(plainCamera.producer.id)!.totalFrames === 3,
      { what: '3 H.264 frames from each producer' },
    );

    const sealedTap = tap.producers.get(sealedCamera.producer.id)!;
    expect(sealedTap).toMatchObject({ codec: 'h264', mimeType: 'video/H264', okFrames: 3 });
    expect(sealedTap.violations).toEqual([]);
    expect(sealedTap.tracker.kids).toMatchObject([
      { kid: cameraKid, frames: 3, keyframes: 1, minCtr: 0n, maxCtr: 2n },
    ]);
    // The NAL units arrived as sealed, byte for byte, their header bytes in the clear. (That mediasoup
    // still finds key frames in them shows in test/e2e/codecs.spec.ts: a simulcast consumer forwards
    // nothing until it sees one.)
    expect(sealedTap.frames.map((f) => annexBNalUnits(f.data!))).toEqual(sealed.map(annexBNalUnits));
    expect(sealedTap.frames.map((f) => annexBNalUnits(f.data!).map((u) => u[0]))).toEqual(
      h264Frames.map((frame) => annexBNalUnits(frame).map((u) => u[0])),
    );

    const plainTap = tap.producers.get(plainCamera.producer.id)!;
    expect(plainTap.okFrames).toBe(0);
    expect(plainTap.violations.map((v) => v.code)).toEqual([
      'h264-plaintext',
      'h264-plaintext',
      'h264-plaintext',
    ]);
    expect(plainTap.violations[0]!.message).toMatch(/plaintext IDR slice/);
  });

  it('flags a CTR that a second stream reuses under the same KID', async () => {
    tap = await SfuTap.attachToServer(ts.server, 'reuse-room');
    const first = await plainProducer('reuse-room', 'opus', [0x5550]);
    const second = await plainProducer('reuse-room', 'opus', [0x5551]);
    await tap.waitForProducer(first.producer.id);
    await tap.waitForProducer(second.producer.id);
    const sealed = await sealConclaveFrame('opus', opusPackets[0]!, { baseKey, kid: audioKid, ctr: 77n });
    await first.send([
      new OpusRtpStream({ ssrc: 0x5550, payloadType: OPUS_PAYLOAD_TYPE }).packetize(sealed, 960),
    ]);
    await tap.waitFor((t) => t.frames().length === 1, { what: 'the first frame' });
    await second.send([
      new OpusRtpStream({ ssrc: 0x5551, payloadType: OPUS_PAYLOAD_TYPE }).packetize(sealed, 960),
    ]);
    await tap.waitFor((t) => t.frames().length === 2, { what: 'the second frame' });
    expect(tap.violations()).toMatchObject([
      { producerId: second.producer.id, code: 'ctr-reuse', kid: audioKid, ctr: 77n },
    ]);
  });

  it('consumes producers made through signaling, before and after the tap, on transports made before it', async () => {
    const alice = await TestClient.connect(ts.url, { token: await ts.session('signaling-room', 'Alice') });
    clients.push(alice);
    const a = await alice.join();
    const mic = await alice.ok('produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });

    tap = await SfuTap.attachToServer(ts.server, 'signaling-room');
    await tap.waitForProducer(mic.producerId);
    // Alice's send transport predates the tap, so mediasoup's observers cannot announce this one:
    // the tap finds it among the room's peers.
    const camera = await alice.ok('produce', {
      transportId: a.sendTransportId,
      kind: 'video',
      rtpParameters: vp8SimulcastParameters(),
      source: 'camera',
    });
    const cameraTap = await tap.waitForProducer(camera.producerId);
    expect(cameraTap).toMatchObject({ source: 'camera', peerId: a.self.peerId, mimeType: 'video/VP8' });
    expect(tap.producers.get(mic.producerId)).toMatchObject({ source: 'mic', mimeType: 'audio/opus' });

    // A newcomer's transports and producers come after the tap: mediasoup's observers announce them.
    const bob = await TestClient.connect(ts.url, { token: await ts.session('signaling-room', 'Bob') });
    clients.push(bob);
    const b = await bob.join();
    const bobMic = await bob.ok('produce', {
      transportId: b.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    expect((await tap.waitForProducer(bobMic.producerId)).peerId).toBe(b.self.peerId);
    // No browser sent media: nothing was forwarded, nothing flagged.
    expect(tap.frames()).toEqual([]);
    expect(tap.violations()).toEqual([]);
  });

  it('H.264: mediasoup still finds key frames in sealed frames (a consumer starts at the SPS)', async () => {
    const room = await ts.server.rooms.getOrCreate('h264-keyframe-room');
    const camera = await plainProducer('h264-keyframe-room', 'h264', [0x7772]);
    // A DirectTransport consumer is a mediasoup SimpleConsumer: it forwards nothing until a packet
    // that mediasoup's H.264 parser reads as a key frame (an SPS NAL unit, RFC 6184 single, STAP-A or
    // FU-A), which it can do only because the NAL headers stayed clear.
    const direct = await room.router.createDirectTransport();
    try {
      const consumer = await direct.consume({
        producerId: camera.producer.id,
        rtpCapabilities: room.router.rtpCapabilities,
      });
      const forwarded: number[] = [];
      consumer.on('rtp', (bytes: Buffer) =>
        forwarded.push(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4)),
      );
      const [key, ...deltas] = await Promise.all(
        h264Frames.map((frame, i) =>
          sealConclaveH264Frame(frame, { baseKey, kid: cameraKid, ctr: BigInt(i) }),
        ),
      );
      const stream = new H264RtpStream({ ssrc: 0x7772, payloadType: H264_PAYLOAD_TYPE, maxPayloadSize: 300 });
      // Two delta frames first (dropped: no key frame yet), then the key frame and a delta frame.
      const order = [deltas[0]!, deltas[1]!, key!, deltas[0]!];
      await camera.send(order.flatMap((frame, i) => stream.packetize(frame, videoTimestamp(i))));
      await expect.poll(() => new Set(forwarded).size, { timeout: 5000 }).toBe(2);
      expect([...new Set(forwarded)]).toEqual([videoTimestamp(2), videoTimestamp(3)]);
    } finally {
      direct.close();
    }
  });

  it('VP9: sealed frames pass, a plaintext key frame is flagged', async () => {
    tap = await SfuTap.attachToServer(ts.server, 'vp9-room', { indexBits: S });
    const sealedCamera = await plainProducer('vp9-room', 'vp9', [0x6660]);
    const plainCamera = await plainProducer('vp9-room', 'vp9', [0x6661]);
    await tap.waitForProducer(sealedCamera.producer.id);
    await tap.waitForProducer(plainCamera.producer.id);
    const vp9Frames = readIvfFrames(VP9_FIXTURE);
    const sealed = await Promise.all(
      vp9Frames.map((frame, i) =>
        sealConclaveFrame('vp9', frame, { baseKey, kid: cameraKid, ctr: BigInt(i) }),
      ),
    );
    const packetize = (ssrc: number, frames: Uint8Array[]) => {
      const stream = new Vp9RtpStream({ ssrc, payloadType: VP9_PAYLOAD_TYPE, maxPayloadSize: 400 });
      return frames.flatMap((frame, i) => stream.packetize(frame, videoTimestamp(i), i === 0));
    };
    await sealedCamera.send(packetize(0x6660, sealed));
    await plainCamera.send(packetize(0x6661, vp9Frames));
    await tap.waitFor(
      (t) =>
        t.producers.get(sealedCamera.producer.id)!.totalFrames === 3 &&
        t.producers.get(plainCamera.producer.id)!.totalFrames === 3,
      { what: '3 VP9 frames from each producer' },
    );
    const sealedTap = tap.producers.get(sealedCamera.producer.id)!;
    expect(sealedTap).toMatchObject({ codec: 'vp9', okFrames: 3 });
    expect(sealedTap.violations).toEqual([]);
    expect(sealedTap.tracker.kids).toMatchObject([{ kid: cameraKid, frames: 3, minCtr: 0n, maxCtr: 2n }]);
    const plainTap = tap.producers.get(plainCamera.producer.id)!;
    // The key frame is caught: with S known its "KID" (the sync code 49 83 42) fits no member, and
    // without S the sync code itself gives it away (test/unit/audit/vp9.test.ts).
    expect(plainTap.violations[0]).toMatchObject({
      code: 'kid-outside-policy',
      timestamp: videoTimestamp(0),
    });
  });
});
