// The eavesdropper at the SFU (test/support/sfuTap.ts) with a Firefox sender: Firefox encrypts with
// RTCRtpScriptTransform, and everything the SFU forwards from it must be SFrame ciphertext in
// Conclave's layout. Its VP8 frames, fed to a real VP8 decoder, must not give back its picture
// (Firefox's fake camera: a solid colour changing over time, recorded from its own preview), while
// the same pipeline recognises that colour in a plain VP8 encoding of it (the control), and
// Chromium, a member, does see it (so the media was there to steal).
import { expect, test } from '@playwright/test';
import type { Browser } from 'puppeteer-core';
import { STREAM_CONTEXTS, type MediaSource } from '../../crypto-worker/src/sframe/mlsKid.ts';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import { SfuTap } from '../support/sfuTap.ts';
import { closeFirefoxes, launchFirefox, newFirefoxParticipant } from './firefox.ts';
import {
  COLOUR_TOLERANCE,
  closeParticipantPages,
  expectPictureFollowsSender,
  joinByLink,
  newParticipantPage,
  recordPictureColours,
  recordedColours,
} from './helpers.ts';
import {
  decodeFrames,
  everyLayerHasFramesFromKeyFrame,
  layerFromKeyFrame,
  plainEncodingOf,
  type DecodeResult,
  recentKidContexts,
} from './stolenFrames.ts';

let conclave: InProcessServer;
let firefox: Browser;
test.beforeAll(async () => {
  [conclave, firefox] = await Promise.all([startInProcessServer(), launchFirefox()]);
});
test.afterEach(closeParticipantPages);
test.afterAll(async () => {
  await closeFirefoxes();
  await conclave?.close();
});

/** How close a decoded picture comes to any colour in `colours` (∞ when nothing decoded). */
function nearest(result: DecodeResult, colours: readonly Rgb[]): number {
  if (result.colours === null || colours.length === 0) return Infinity;
  return Math.min(...colours.map((c) => Math.max(...result.colours!.map((q) => colourDistance(q, c)))));
}

test('an eavesdropper at the SFU gets only SFrame ciphertext from a Firefox sender', async ({ browser }) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  try {
    const fox = await newFirefoxParticipant(firefox, conclave.baseUrl);
    const chris = await newParticipantPage(browser);
    await joinByLink(fox, inviteLink, 'Fox');
    await recordPictureColours(fox, 'Fox (you)');
    await joinByLink(chris, inviteLink, 'Chris');
    await expectPictureFollowsSender(fox, chris, 'Fox', 'Chromium');

    const foxPeerId = [...conclave.server.rooms.rooms.get(roomId)!.peers.values()].find(
      (p) => p.displayName === 'Fox',
    )!.id;
    const foxTaps = () => tap.producerTaps().filter((p) => p.peerId === foxPeerId);
    await tap.waitFor(() => foxTaps().length === 2 && foxTaps().every((p) => p.okFrames >= 60), {
      what: "60 frames from each of Firefox's two producers",
      timeoutMs: 30_000,
    });
    expect(tap.violations()).toEqual([]);
    for (const producer of foxTaps()) {
      expect(recentKidContexts(tap, producer), `${producer.source} frames' KID context`).toEqual([
        STREAM_CONTEXTS[producer.source as MediaSource],
      ]);
    }

    // Every colour Firefox's camera showed while its frames were captured.
    const shown = (await recordedColours(fox)).map((s) => s.colour);
    expect(shown.length).toBeGreaterThan(10);
    const last = shown.at(-1)!;
    const control = await decodeFrames(chris, await plainEncodingOf(chris, [last, last, last, last]));
    expect(control.decoded).toBeGreaterThan(0);
    expect(nearest(control, [last])).toBeLessThan(COLOUR_TOLERANCE);

    const camera = foxTaps().find((p) => p.source === 'camera')!;
    const cameraFrames = () => tap.frames().filter((f) => f.producerId === camera.producerId);
    await tap.waitFor(() => everyLayerHasFramesFromKeyFrame(cameraFrames(), 20), {
      what: '20 frames from a key frame on, on each of the camera layers',
      timeoutMs: 30_000,
    });
    const frames = cameraFrames();
    for (const layer of [...new Set(frames.map((f) => f.layer))]) {
      const stolen = layerFromKeyFrame(frames, layer).slice(0, 60);
      expect(stolen.length, `layer ${layer} has frames from a key frame on`).toBeGreaterThan(10);
      const result = await decodeFrames(
        chris,
        stolen.map((f) => ({
          key: f.inspection.ok && f.inspection.keyframe,
          base64: Buffer.from(f.data!).toString('base64'),
        })),
      );
      expect(nearest(result, shown), `layer ${layer}: ${JSON.stringify(result)}`).toBeGreaterThan(
        COLOUR_TOLERANCE,
      );
    }
  } finally {
    tap.close();
  }
});
