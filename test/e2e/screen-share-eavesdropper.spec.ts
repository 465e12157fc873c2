// The eavesdropper at the SFU sees a shared screen as it sees a camera: SFrame ciphertext in
// Conclave's layout (no frame is a plaintext VP8 picture: the audit's inspector rejects those), under
// KIDs of the screen's own stream context, while the meeting's members see the screen.
import { expect, test } from '@playwright/test';
import { STREAM_CONTEXTS } from '../../crypto-worker/src/sframe/mlsKid.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import { SfuTap } from '../support/sfuTap.ts';
import { COLOUR_TOLERANCE, closeParticipantPages, joinByLink, newParticipantPage } from './helpers.ts';
import { fieldDistance, pictureSignature } from './fakeCapture.ts';
import { recentKidContexts } from './stolenFrames.ts';

test.afterEach(closeParticipantPages);

let conclave: InProcessServer;
test.beforeAll(async () => {
  conclave = await startInProcessServer();
});
test.afterAll(async () => {
  await conclave?.close();
});

test('the SFU forwards a shared screen only as SFrame ciphertext under the screen context', async ({
  browser,
}) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const tap = await SfuTap.attachToServer(conclave.server, roomId);
  try {
    const alice = await newParticipantPage(browser);
    const bob = await newParticipantPage(browser);
    await joinByLink(alice, inviteLink, 'Alice');
    await joinByLink(bob, inviteLink, 'Bob');
    await alice
      .getByRole('navigation', { name: 'Meeting controls' })
      .getByRole('button', { name: 'Share screen' })
      .click();
    // Bob sees the fake screen: the media was there to steal.
    await expect
      .poll(async () => fieldDistance(await pictureSignature(bob, "Alice's screen")), { timeout: 30_000 })
      .toBeLessThan(COLOUR_TOLERANCE);

    await tap.waitFor((t) => t.producerTaps().some((p) => p.source === 'screen' && p.okFrames >= 30), {
      what: '30 frames of the screen',
      timeoutMs: 30_000,
    });
    expect(tap.violations()).toEqual([]);
    const screen = tap.producerTaps().find((p) => p.source === 'screen')!;
    expect(screen.mimeType?.toLowerCase()).toBe('video/vp8');
    // Two members: S = 2 bits of leaf index in every KID.
    expect(recentKidContexts(tap, screen, Infinity)).toEqual([STREAM_CONTEXTS.screen]);
  } finally {
    tap.close();
  }
});
