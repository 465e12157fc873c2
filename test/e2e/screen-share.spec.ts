// Screen sharing as people do it: one person shares, the others see that screen large, decrypted
// (judged by its pixels against the sharer's own preview and Chromium's known fake screen), with
// the stage's badge saying so; stopping, by the button or by the browser's own control, removes it
// from everyone.
import { expect, test, type Page } from '@playwright/test';
import {
  COLOUR_TOLERANCE,
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';
import { fieldDistance, pictureSignature, signatureDistance } from './fakeCapture.ts';

test.afterEach(closeParticipantPages);

async function startSharing(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Meeting controls' })
    .getByRole('button', { name: 'Share screen' })
    .click();
  await expect(page.getByRole('group', { name: 'Your screen', exact: true })).toBeVisible();
}

/** Waits until `viewer` decodes `groupName`'s screen with the same picture the sharer shows itself. */
async function expectSameScreen(sharer: Page, viewer: Page, groupName: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const own = await pictureSignature(sharer, 'Your screen');
        // The sharer's preview is the fake screen itself: the comparison is against known content.
        if (fieldDistance(own) > COLOUR_TOLERANCE) return Infinity;
        return signatureDistance(own, await pictureSignature(viewer, groupName));
      },
      { message: `${groupName} as decoded matches the sharer's screen`, timeout: 30_000 },
    )
    .toBeLessThan(COLOUR_TOLERANCE);
}

test('a shared screen reaches the others large and decrypted, and stopping removes it from everyone', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(bob, 'Alice', 'Bob');

  await startSharing(alice);
  // Alice's own view says she is sharing, and offers to stop.
  const aliceStage = alice.getByRole('group', { name: 'Your screen', exact: true });
  await expect(aliceStage.getByText('You are sharing your screen with everyone')).toBeVisible();
  await expect(aliceStage.getByText('Encrypting')).toBeVisible();
  await expect(
    alice.getByRole('navigation', { name: 'Meeting controls' }).getByRole('button', { name: 'Stop sharing' }),
  ).toBeVisible();

  // Bob: the screen takes the main area, decrypted, with the people in a strip beside it.
  const bobStage = bob.getByRole('group', { name: "Alice's screen", exact: true });
  await expect(bobStage).toBeVisible();
  await expect(bobStage.getByText('Decrypting')).toBeVisible();
  await expectSameScreen(alice, bob, "Alice's screen");
  const stageBox = (await bobStage.boundingBox())!;
  const tileBox = (await bob.getByRole('group', { name: 'Alice', exact: true }).boundingBox())!;
  expect(stageBox.width * stageBox.height).toBeGreaterThan(8 * tileBox.width * tileBox.height);
  // Her camera goes on beside the screen, still decrypted.
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  // The comparison tells pictures apart: her camera (the quadrant fixture) is not her screen.
  expect(
    signatureDistance(await pictureSignature(alice, 'Your screen'), await pictureSignature(bob, 'Alice')),
  ).toBeGreaterThan(COLOUR_TOLERANCE);

  // "Stop sharing" removes the screen from everyone; the grid comes back.
  await alice
    .getByRole('navigation', { name: 'Meeting controls' })
    .getByRole('button', { name: 'Stop sharing' })
    .click();
  await expect(bobStage).toHaveCount(0);
  await expect(aliceStage).toHaveCount(0);
  await expect(bob.getByRole('region', { name: 'Presentation' })).toHaveCount(0);
  await expectFixtureVideo(bob, 'Alice', 'Bob');

  // Sharing again, then the browser's own "Stop sharing" (its bar, outside the page, ends the track).
  await startSharing(alice);
  await expectSameScreen(alice, bob, "Alice's screen");
  await alice
    .getByRole('group', { name: 'Your screen', exact: true })
    .locator('video')
    .evaluate((video: HTMLVideoElement) => {
      // Headless Chromium has no sharing bar to press; the track's 'ended' event is what it fires.
      (video.srcObject as MediaStream).getVideoTracks()[0]!.dispatchEvent(new Event('ended'));
    });
  await expect(bob.getByRole('group', { name: "Alice's screen", exact: true })).toHaveCount(0);
  await expect(alice.getByRole('group', { name: 'Your screen', exact: true })).toHaveCount(0);
  await expect(
    alice.getByRole('navigation', { name: 'Meeting controls' }).getByRole('button', { name: 'Share screen' }),
  ).toBeVisible();
});
