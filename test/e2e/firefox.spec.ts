// Debian's Firefox ESR in Conclave meetings, against the same server `npm start` runs (no settings:
// the SFU offers the machine's non-loopback address beside 127.0.0.1, since Firefox gathers no
// loopback candidates). Pictures are judged by content: Chromium's fake camera is the quadrant
// fixture; Firefox's is a solid colour that changes over time, so a receiver is compared with the
// sender's own preview at the same moment. Sound is judged by its frequency.
import { expect, test } from '@playwright/test';
import type { Browser } from 'puppeteer-core';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { drive } from './driver.ts';
import { pictureSignature, signatureDistance } from './fakeCapture.ts';
import {
  COLOUR_TOLERANCE,
  closeParticipantPages,
  createMeeting,
  dominantFrequency,
  expectFixtureVideo,
  expectPictureFollowsSender,
  expectVisible,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  readSecurityCode,
  recordPictureColours,
  tile,
} from './helpers.ts';
import {
  FIREFOX_TONE_HZ,
  closeFirefoxParticipants,
  closeFirefoxes,
  launchFirefox,
  newFirefoxParticipant,
  startXvfb,
} from './firefox.ts';

let firefox: Browser;
// Firefox and Chromium side by side on two shared cores: media takes longer to settle than in
// Chromium-only meetings.
test.describe.configure({ timeout: 150_000 });
test.beforeAll(async () => {
  firefox = await launchFirefox();
});
test.afterEach(async () => {
  await Promise.all([closeParticipantPages(), closeFirefoxParticipants()]);
});
test.afterAll(closeFirefoxes);

/** The Chromium fixture microphone's tone. */
const FIXTURE_TONE_HZ = 440;

/** Waits until `page` hears a tone in `tileName`'s audio and returns its frequency. */
async function heardTone(page: Parameters<typeof dominantFrequency>[0], tileName: string): Promise<number> {
  let heard: number | null = null;
  await expect
    .poll(async () => (heard = await dominantFrequency(page, tileName)), {
      message: `a tone in ${tileName}'s audio`,
      timeout: 20_000,
    })
    .not.toBeNull();
  return heard!;
}

test('Firefox and Chromium decrypt each other: pictures, sound and one security code', async ({
  browser,
}) => {
  const chris = await newParticipantPage(browser);
  const fox = await newFirefoxParticipant(firefox);
  const link = await createMeeting(chris);
  await joinFromPreJoin(chris, 'Chris');
  await joinByLink(fox, link, 'Fox');
  await recordPictureColours(fox, 'Fox (you)');

  await Promise.all([
    expectFixtureVideo(fox, 'Chris', 'Firefox'),
    expectPictureFollowsSender(fox, chris, 'Fox', 'Chromium'),
  ]);
  const [foxHears, chrisHears] = await Promise.all([heardTone(fox, 'Chris'), heardTone(chris, 'Fox')]);
  expect(Math.abs(foxHears - FIXTURE_TONE_HZ)).toBeLessThan(15);
  expect(Math.abs(chrisHears - FIREFOX_TONE_HZ)).toBeLessThan(15);

  // One code once the group has settled: a rejoin in flight (Firefox's ICE can fail and retry
  // here) moves the epoch for a moment.
  await expect
    .poll(async () => (await readSecurityCode(fox)).code === (await readSecurityCode(chris)).code, {
      message: 'one security code for Firefox and Chromium',
      timeout: 30_000,
    })
    .toBe(true);
  expect((await readSecurityCode(fox)).code).toMatch(/^\d{30}$/);
});

test('two Firefox participants decrypt each other', async () => {
  const ada = await newFirefoxParticipant(firefox);
  const bea = await newFirefoxParticipant(firefox);
  const link = await createMeeting(ada);
  await joinFromPreJoin(ada, 'Ada');
  await joinByLink(bea, link, 'Bea');
  await recordPictureColours(ada, 'Ada (you)');
  await recordPictureColours(bea, 'Bea (you)');

  // Both directions at once: each check waits on media, not on the other.
  await Promise.all([
    expectPictureFollowsSender(ada, bea, 'Ada', 'Bea'),
    expectPictureFollowsSender(bea, ada, 'Bea', 'Ada'),
  ]);
  const tones = await Promise.all([heardTone(ada, 'Bea'), heardTone(bea, 'Ada')]);
  for (const tone of tones) expect(Math.abs(tone - FIREFOX_TONE_HZ)).toBeLessThan(15);
  await expect
    .poll(async () => (await readSecurityCode(ada)).code === (await readSecurityCode(bea)).code, {
      message: 'one security code for both Firefox participants',
      timeout: 30_000,
    })
    .toBe(true);
});

test('a screen shared from Firefox (headful, on an Xvfb display) reaches Chromium decrypted', async ({
  browser,
}) => {
  const headful = await launchFirefox({ display: await startXvfb() });
  const chris = await newParticipantPage(browser);
  const fox = await newFirefoxParticipant(headful);
  const link = await createMeeting(chris);
  await joinFromPreJoin(chris, 'Chris');
  await joinByLink(fox, link, 'Fox');
  await drive(fox).click({
    role: 'button',
    name: 'Share screen',
    within: { role: 'navigation', name: 'Meeting controls' },
  });
  await expectVisible(fox, tile('Your screen'));
  await expectVisible(chris, tile("Fox's screen"));
  // Firefox's "screen" is the X display with Firefox's own window on it: a picture with structure,
  // compared point by point with what the sharer itself shows.
  await expect
    .poll(
      async () => {
        const own = await pictureSignature(fox, 'Your screen');
        if (own === null || spread(own) < COLOUR_TOLERANCE) return Infinity;
        return signatureDistance(own, await pictureSignature(chris, "Fox's screen"));
      },
      { message: "Fox's screen as Chromium decodes it matches Fox's own view", timeout: 30_000 },
    )
    .toBeLessThan(COLOUR_TOLERANCE);
});

/** How different a signature's points are from one another: a uniform picture proves little. */
function spread(signature: readonly Rgb[]): number {
  return Math.max(...signature.map((a) => Math.max(...signature.map((b) => colourDistance(a, b)))));
}
