// Each remote camera asks the SFU for the simulcast layer that fits its tile: a large tile gets the
// full-resolution layer, a small one (in the strip beside a shared screen, or in a small window) a
// lower one. Read from what the receiver's decoder gets: inbound-rtp frameWidth of the tile's track.
import { expect, test, type Page } from '@playwright/test';
import { VIDEO_HEIGHT, VIDEO_WIDTH } from '../fixtures/media.ts';
import { cameraEncodings } from '../../web/src/lib/meeting/simulcast.ts';
import {
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

/** The width of the frames the decoder of `tileName`'s camera is getting now (0 while none). */
async function decodedWidth(page: Page, tileName: string): Promise<number> {
  const video = page.getByRole('group', { name: tileName, exact: true }).locator('video');
  if ((await video.count()) === 0) return 0;
  return video.evaluate(async (el: HTMLVideoElement) => {
    const track = (el.srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (track === undefined) return 0;
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === 'closed') continue;
      let width = 0;
      (await pc.getStats()).forEach((s: { type: string; trackIdentifier?: string; frameWidth?: number }) => {
        if (s.type === 'inbound-rtp' && s.trackIdentifier === track.id) width = s.frameWidth ?? 0;
      });
      if (width > 0) return width;
    }
    return 0;
  });
}

/**
 * The fixture camera's layers' frame widths, lowest first: 640x480 is sent as two layers (320 and
 * 640 wide), since libwebrtc sends no more for a picture that size (simulcast.ts).
 */
const LAYER_WIDTHS = cameraEncodings({ width: VIDEO_WIDTH, height: VIDEO_HEIGHT }).map(
  (e) => VIDEO_WIDTH / e.scaleResolutionDownBy!,
);
const FULL = LAYER_WIDTHS.at(-1)!;
const LOWEST = LAYER_WIDTHS[0]!;

async function expectWidth(page: Page, tileName: string, width: number, why: string): Promise<void> {
  await expect
    .poll(() => decodedWidth(page, tileName), { message: `${why}: ${width} px wide`, timeout: 30_000 })
    .toBe(width);
}

test('a camera tile gets the simulcast layer that fits it, and a lower one when it becomes small', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);
  // Bob's window is large: Alice's tile in the two-person grid is over 400 px tall.
  await bob.setViewportSize({ width: 1600, height: 1000 });
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  expect(LAYER_WIDTHS).toEqual([320, 640]);
  await expectWidth(bob, 'Alice', FULL, 'a large tile gets the full picture');

  // Alice shares her screen: on Bob's side her camera moves to the strip, a small tile.
  await alice
    .getByRole('navigation', { name: 'Meeting controls' })
    .getByRole('button', { name: 'Share screen' })
    .click();
  await expect(bob.getByRole('group', { name: "Alice's screen", exact: true })).toBeVisible();
  await expectWidth(bob, 'Alice', LOWEST, 'a tile in the strip beside a screen gets the lowest layer');
  await expectFixtureVideo(bob, 'Alice', 'Bob');

  // She stops: her tile is large again.
  await alice
    .getByRole('navigation', { name: 'Meeting controls' })
    .getByRole('button', { name: 'Stop sharing' })
    .click();
  await expectWidth(bob, 'Alice', FULL, 'a large tile again');

  // Bob makes his window small: the tile, under 200 px tall, gets the lowest layer again.
  await bob.setViewportSize({ width: 720, height: 500 });
  await expectWidth(bob, 'Alice', LOWEST, 'a tile in a small window');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
});
