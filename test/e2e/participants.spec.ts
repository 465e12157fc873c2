// The participants panel, speaking, connection quality and keyboard use, as a person meets them:
// three people in real Chromium through the real server, SFU and key service. Everyone's fake
// microphone plays the same 440 Hz tone, so who "speaks" is decided by who is unmuted.
import { expect, test, type Locator, type Page } from '@playwright/test';
import {
  chooseMoreOption,
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

type Browser = Parameters<typeof newParticipantPage>[0];

async function meetingOf(browser: Browser, names: string[]): Promise<Page[]> {
  const pages: Page[] = [];
  let link = '';
  for (const name of names) {
    const page = await newParticipantPage(browser);
    if (link === '') {
      link = await createMeeting(page);
      await joinFromPreJoin(page, name);
    } else {
      await joinByLink(page, link, name);
    }
    pages.push(page);
  }
  return pages;
}

function tile(page: Page, name: string): Locator {
  return page.getByRole('group', { name, exact: true });
}

function row(panel: Locator, name: string): Locator {
  return panel
    .getByRole('list', { name: 'People' })
    .getByRole('listitem')
    .filter({ has: panel.page().getByText(name, { exact: true }) });
}

/** Presses Tab until the control named `name` has the focus (fails after `limit` presses). */
async function tabTo(page: Page, name: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '';
    });
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

/** Waits until the page has sent its microphone (the mute button says so) and mutes it with Ctrl+D. */
async function muteWithShortcut(page: Page): Promise<void> {
  await expect(page.getByRole('button', { name: 'Mute microphone' })).toBeVisible();
  await page.keyboard.press('Control+d');
  await expect(page.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
}

test('the participants panel lists everyone with encryption, key and mute state, opened with the keyboard', async ({
  browser,
}) => {
  const [alice, bob] = await meetingOf(browser, ['Alice', 'Bob', 'Carol']);
  await expectFixtureVideo(alice!, 'Bob', 'Alice');
  await expectFixtureVideo(alice!, 'Carol', 'Alice');

  await tabTo(alice!, 'Participants');
  await alice!.keyboard.press('Enter');
  const panel = alice!.getByRole('complementary', { name: 'Participants' });
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('list', { name: 'People' }).getByRole('listitem')).toHaveCount(3);
  await expect(row(panel, 'Alice (you)')).toContainText('Encrypting');
  for (const other of ['Bob', 'Carol']) {
    // Fresh browsers: each one sees the others' signature keys for the first time.
    await expect(row(panel, other)).toContainText('Decrypting');
    await expect(row(panel, other)).toContainText('New key');
    await expect(row(panel, other)).toContainText('microphone on');
    await expect(row(panel, other)).toContainText('camera on');
    await expect(row(panel, other).locator('code')).toHaveText(/^[0-9a-f]{4}( [0-9a-f]{4})+$/);
  }

  // Bob mutes and turns his camera off with the shortcuts; Alice's panel follows.
  await muteWithShortcut(bob!);
  await expect(row(panel, 'Bob')).toContainText('microphone off');
  await expect(tile(alice!, 'Bob')).toContainText('microphone off');
  await expect(bob!.getByRole('button', { name: 'Turn camera off' })).toBeVisible();
  await bob!.keyboard.press('Control+e');
  await expect(bob!.getByRole('button', { name: 'Turn camera on' })).toBeVisible();
  await expect(row(panel, 'Bob')).toContainText('camera off');
  await expect(row(panel, 'Carol')).toContainText('camera on');
  // Nothing of Bob's flows any more, but he still holds the keys.
  await expect(row(panel, 'Bob')).toContainText('Holds keys');

  // Alice compares the security code and marks it: the others' keys are now verified.
  await expect(panel).toContainText('Security code not compared yet.');
  await panel.getByRole('button', { name: 'Compare security code' }).click();
  const dialog = alice!.getByRole('dialog', { name: 'Security code' });
  await dialog.getByRole('button', { name: 'We compared it: mark as verified' }).click();
  await expect(dialog.getByRole('status')).toContainText('You compared this code');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toContainText('You compared this security code.');
  for (const other of ['Bob', 'Carol']) await expect(row(panel, other)).toContainText('Verified');

  // One side panel at a time: opening the chat closes the participants.
  await alice!.getByRole('button', { name: 'Chat' }).click();
  await expect(alice!.getByRole('complementary', { name: 'Chat' })).toBeVisible();
  await expect(panel).toHaveCount(0);
});

/** Gives the page a microphone that is on but silent (a Web Audio stream with nothing playing). */
const SILENT_MICROPHONE = () => {
  const devices = navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    if (!constraints?.audio) return stream;
    for (const track of stream.getAudioTracks()) {
      stream.removeTrack(track);
      track.stop();
    }
    stream.addTrack(new AudioContext().createMediaStreamDestination().stream.getAudioTracks()[0]!);
    return stream;
  };
};

test('the speaking marks follow the sound: never someone silent or muted, and speaker view follows them', async ({
  browser,
}) => {
  // Alice's microphone is on but silent; Bob's and Carol's play the tone.
  const alice = await newParticipantPage(browser, { init: SILENT_MICROPHONE });
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  const [bob, carol] = [await newParticipantPage(browser), await newParticipantPage(browser)];
  await joinByLink(bob, link, 'Bob');
  await joinByLink(carol, link, 'Carol');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(alice, 'Carol', 'Alice');
  await alice.getByRole('button', { name: 'Participants' }).click();
  const panel = alice.getByRole('complementary', { name: 'Participants' });
  await chooseMoreOption(alice, 'Speaker view', 'menuitemcheckbox');

  const speakingIn = async (viewer: Page, name: string, speaking: boolean) => {
    const marks = [tile(viewer, name).getByText('speaking')];
    if (viewer === alice) marks.push(row(panel, name).getByText('speaking'));
    for (const mark of marks) await expect(mark).toHaveCount(speaking ? 1 : 0, { timeout: 15_000 });
  };
  const featured = () =>
    alice.evaluate(() => document.querySelector('figure.featured')?.getAttribute('aria-label') ?? null);

  // Bob mutes: only Carol's tone is on. She is marked, and shown large; Alice, unmuted but silent,
  // is not marked, neither on her own page nor on Bob's (from the decoded audio).
  await expect(alice.getByRole('button', { name: 'Mute microphone' })).toBeVisible();
  await muteWithShortcut(bob);
  await speakingIn(alice, 'Carol', true);
  await speakingIn(alice, 'Bob', false);
  await speakingIn(alice, 'Alice (you)', false);
  await speakingIn(bob, 'Carol', true);
  await speakingIn(bob, 'Alice', false);
  await expect(tile(alice, 'Carol')).toHaveClass(/speaking/);
  await expect(tile(alice, 'Alice (you)')).not.toHaveClass(/speaking/);
  await expect.poll(featured).toBe('Carol');

  // Carol mutes and Bob unmutes: the mark moves to Bob, and so does the large tile.
  await muteWithShortcut(carol);
  await speakingIn(alice, 'Carol', false);
  await bob.keyboard.press('Control+d');
  await expect(bob.getByRole('button', { name: 'Mute microphone' })).toBeVisible();
  await speakingIn(alice, 'Bob', true);
  await speakingIn(alice, 'Carol', false);
  await expect(tile(alice, 'Carol')).not.toHaveClass(/speaking/);
  await expect.poll(featured).toBe('Bob');

  // When Bob mutes too, nobody is marked, and the large tile stays on the last speaker.
  await muteWithShortcut(bob);
  await speakingIn(alice, 'Bob', false);
  expect(await featured()).toBe('Bob');
});

test('each tile shows its connection quality, with figures on keyboard focus', async ({ browser }) => {
  const [alice] = await meetingOf(browser, ['Alice', 'Bob']);
  await expectFixtureVideo(alice!, 'Bob', 'Alice');

  for (const [name, label] of [
    ['Bob', /^Connection: (good|fair|poor)$/],
    ['Alice (you)', /^Your connection: (good|fair|poor)$/],
  ] as const) {
    const indicator = tile(alice!, name).getByRole('button', { name: label });
    await expect(indicator).toBeVisible();
    await tabTo(alice!, (await indicator.getAttribute('aria-label'))!);
    const details = alice!.getByRole('tooltip');
    await expect(details).toBeVisible();
    // The second sample (2 s after the first) has a loss figure over its interval.
    await expect(details).toContainText(/Round trip to the server: \d+ ms/);
    await expect(details).toContainText(/Packet loss: \d+\.\d %/);
    await expect(details).toContainText(/Jitter: \d+ ms/);
    await expect(indicator).toHaveAccessibleDescription(/Round trip to the server: \d+ ms/);
    await alice!.keyboard.press('Escape');
    await expect(details).toBeHidden();
  }
});
