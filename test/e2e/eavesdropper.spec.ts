// The eavesdropper at the SFU: the server itself consumes every producer of a live meeting (a
// mediasoup DirectTransport, test/support/sfuTap.ts) without being an MLS member. Everything it gets
// must be SFrame ciphertext in Conclave's layout, and feeding its VP8 frames to a real VP8 decoder
// (Chromium's WebCodecs) must not give back the fixture's picture. The same decode-and-compare
// pipeline does recognise the fixture when given a plain VP8 encoding of it (the control), and the
// meeting's members do see the fixture (so the media was there to steal). The same for H.264, whose
// NAL headers, SPS and PPS the eavesdropper does see in the clear.
import { expect, test } from '@playwright/test';
import { QUADRANT_COLOURS, colourDistance } from '../fixtures/media.ts';
import { STREAM_CONTEXTS, type MediaSource } from '../../crypto-worker/src/sframe/mlsKid.ts';
import { SfuTap } from '../support/sfuTap.ts';
import {
  decodeFrames,
  everyLayerHasFramesFromKeyFrame,
  layerFromKeyFrame,
  plainEncodingOf,
  type DecodeResult,
  recentKidContexts,
} from './stolenFrames.ts';
import {
  COLOUR_TOLERANCE,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  closeParticipantPages,
} from './helpers.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';

test.afterEach(closeParticipantPages);

let conclave: InProcessServer;
test.beforeAll(async () => {
  conclave = await startInProcessServer();
});
test.afterAll(async () => {
  await conclave?.close();
});

function fixtureDistanceOf(result: DecodeResult): number {
  if (result.colours === null) return Infinity;
  return Math.max(...result.colours.map((c, i) => colourDistance(c, QUADRANT_COLOURS[i]!)));
}

test('an eavesdropper at the SFU gets only SFrame ciphertext that does not decode into the picture', async ({
  browser,
}) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  // Alice is alone for a moment (S = 1 bit of leaf index in the KIDs), then with Bob (S = 2):
  // the tap accepts any S; the check below reads the last frames with S = 2.
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  try {
    const alice = await newParticipantPage(browser);
    const bob = await newParticipantPage(browser);
    await joinByLink(alice, inviteLink, 'Alice');
    await joinByLink(bob, inviteLink, 'Bob');
    await expectFixtureVideo(bob, 'Alice', 'Bob');
    await expectFixtureVideo(alice, 'Bob', 'Alice');

    await tap.waitFor(
      (t) => t.producerTaps().length === 4 && t.producerTaps().every((p) => p.okFrames >= 60),
      {
        what: '60 frames from each of the four producers',
        timeoutMs: 30_000,
      },
    );
    // Every frame the SFU forwarded carries an SFrame header with an MLS KID behind the allowed prefix.
    expect(tap.violations()).toEqual([]);
    for (const producer of tap.producerTaps()) {
      expect(recentKidContexts(tap, producer), `${producer.source} frames' KID context`).toEqual([
        STREAM_CONTEXTS[producer.source as MediaSource],
      ]);
    }

    // The control: the decode-and-compare pipeline recognises the fixture in plain VP8.
    const control = await decodeFrames(alice, await plainEncodingOf(alice, QUADRANT_COLOURS));
    expect(control.decoded).toBeGreaterThan(0);
    expect(fixtureDistanceOf(control)).toBeLessThan(COLOUR_TOLERANCE);

    // What the eavesdropper has: each camera's frames as forwarded, on every simulcast layer.
    for (const camera of tap.producerTaps().filter((p) => p.source === 'camera')) {
      const cameraFrames = () => tap.frames().filter((f) => f.producerId === camera.producerId);
      await tap.waitFor(() => everyLayerHasFramesFromKeyFrame(cameraFrames(), 20), {
        what: `20 frames from a key frame on, on each of ${camera.producerId}'s layers`,
        timeoutMs: 30_000,
      });
      const frames = cameraFrames();
      const layers = [...new Set(frames.map((f) => f.layer))];
      expect(layers.length).toBeGreaterThan(0);
      for (const layer of layers) {
        const stolen = layerFromKeyFrame(frames, layer).slice(0, 60);
        expect(stolen.length, `layer ${layer} has frames from a key frame on`).toBeGreaterThan(10);
        const result = await decodeFrames(
          alice,
          stolen.map((f) => ({
            key: f.inspection.ok && f.inspection.keyframe,
            base64: Buffer.from(f.data!).toString('base64'),
          })),
        );
        expect(fixtureDistanceOf(result), `layer ${layer}: ${JSON.stringify(result)}`).toBeGreaterThan(
          COLOUR_TOLERANCE,
        );
      }
    }
  } finally {
    tap.close();
  }
});

test('an eavesdropper at the SFU cannot decode an H.264 camera into the picture', async ({ browser }) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  try {
    const alice = await newParticipantPage(browser);
    const bob = await newParticipantPage(browser);
    await joinByLink(alice, `${inviteLink}&codec=h264`, 'Alice');
    await joinByLink(bob, `${inviteLink}&codec=h264`, 'Bob');
    await expectFixtureVideo(bob, 'Alice', 'Bob');
    const cameraOf = (t: SfuTap) => t.producerTaps().find((p) => p.source === 'camera' && p.codec === 'h264');
    await tap.waitFor((t) => (cameraOf(t)?.okFrames ?? 0) >= 4, {
      what: '4 H.264 camera frames',
      timeoutMs: 30_000,
    });
    expect(tap.violations()).toEqual([]);

    const H264 = 'avc1.42e01f';
    const control = await decodeFrames(alice, await plainEncodingOf(alice, QUADRANT_COLOURS, H264), H264);
    expect(control.decoded).toBeGreaterThan(0);
    expect(fixtureDistanceOf(control)).toBeLessThan(COLOUR_TOLERANCE);

    const camera = cameraOf(tap)!;
    const frames = tap.frames().filter((f) => f.producerId === camera.producerId);
    for (const layer of [...new Set(frames.map((f) => f.layer))]) {
      const stolen = layerFromKeyFrame(frames, layer);
      if (stolen.length === 0) continue;
      const result = await decodeFrames(
        alice,
        stolen.map((f) => ({
          key: f.inspection.ok && f.inspection.keyframe,
          base64: Buffer.from(f.data!).toString('base64'),
        })),
        H264,
      );
      expect(fixtureDistanceOf(result), `layer ${layer}: ${JSON.stringify(result)}`).toBeGreaterThan(
        COLOUR_TOLERANCE,
      );
    }
    expect(frames.some((f) => f.inspection.ok && f.inspection.keyframe)).toBe(true);
  } finally {
    tap.close();
  }
});
