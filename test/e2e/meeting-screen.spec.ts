// The meeting screen around its controls, in real Chromium against the real server: the More options
// menu by keyboard (a real ARIA menu), the header (meeting name, clock, and the badge counting who
// holds the keys, which opens the Security code dialog), joining muted and with the camera off from
// the pre-join page (judged by what the others hear and see), and the last grid staying on screen,
// dimmed, while reconnecting. Screenshots at 1280x720 and 390x844 go to .artifacts/screenshots/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import {
  closeParticipantPages,
  createMeeting,
  dominantFrequency,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';
import { ParticipantNetwork } from './network.ts';

test.afterEach(closeParticipantPages);

const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.artifacts', 'screenshots');
/** --muted in app.css: neutral text. */
const MUTED = 'rgb(148, 163, 184)';
/** The fixture microphone's tone (test/fixtures/media.ts). */
const TONE_HZ = 440;

function tile(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

const focusedName = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el === null || el === document.body
      ? null
      : (el.getAttribute('aria-label') ?? el.textContent?.trim());
  });

test('More options is a menu that works by keyboard: open, move, choose, close', async ({ browser }) => {
  const alice = await newParticipantPage(browser);
  await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  const button = alice.getByRole('button', { name: 'More options' });
  const menu = alice.getByRole('menu', { name: 'More options' });
  await expect(button).toHaveAttribute('aria-haspopup', 'menu');
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // Enter opens it with the first item focused; arrows move and wrap; Home and End go to the edges.
  await button.focus();
  await alice.keyboard.press('Enter');
  await expect(menu).toBeVisible();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  // Alice created the meeting, so she hosts it: her menu ends with the host's group.
  await expect(menu.locator('[role^="menuitem"]')).toHaveText([
    'Devices',
    'Speaker view',
    'Security code',
    /Keyboard shortcuts/, // and its key, "?"
    'Turn lobby off',
    'Lock meeting',
    'Reset invite link',
    'End meeting for all',
  ]);
  await expect(menu.getByRole('menuitem', { name: 'Keyboard shortcuts' })).toHaveAttribute(
    'aria-keyshortcuts',
    '?',
  );
  await expect(menu.getByRole('menuitemcheckbox', { name: 'Speaker view' })).toHaveAttribute(
    'aria-checked',
    'false',
  );
  await expect(menu.getByRole('separator')).toHaveCount(2);
  expect(await focusedName(alice)).toBe('Devices');
  await alice.keyboard.press('ArrowDown');
  expect(await focusedName(alice)).toBe('Speaker view');
  await alice.keyboard.press('ArrowDown'); // over the separator
  expect(await focusedName(alice)).toBe('Security code');
  await alice.keyboard.press('End');
  expect(await focusedName(alice)).toBe('End meeting for all');
  await alice.keyboard.press('ArrowDown'); // wraps to the top
  expect(await focusedName(alice)).toBe('Devices');
  await alice.keyboard.press('ArrowUp'); // and back to the bottom
  expect(await focusedName(alice)).toBe('End meeting for all');
  for (let i = 0; i < 4; i++) await alice.keyboard.press('ArrowUp'); // over the host's separator
  expect(await focusedName(alice)).toMatch(/^Keyboard shortcuts/);
  await alice.keyboard.press('Home');
  expect(await focusedName(alice)).toBe('Devices');

  // Escape closes it and gives the focus back to the button.
  await alice.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // ArrowDown opens it too; Space on an item chooses it: speaker view goes on, the menu closes.
  await alice.keyboard.press('ArrowDown');
  await expect(menu).toBeVisible();
  await alice.keyboard.press('ArrowDown');
  await alice.keyboard.press('Space');
  await expect(menu).toBeHidden();
  await expect(button).toBeFocused();
  await alice.keyboard.press('Space');
  await expect(menu.getByRole('menuitemcheckbox', { name: 'Speaker view' })).toHaveAttribute(
    'aria-checked',
    'true',
  );

  // Tab closes it and the focus moves on to the next control (Leave).
  await alice.keyboard.press('Tab');
  await expect(menu).toBeHidden();
  await expect(alice.getByRole('button', { name: 'Leave' })).toBeFocused();

  // Enter on an item that opens a dialog: the dialog takes the focus.
  await button.focus();
  await alice.keyboard.press('Enter');
  await alice.keyboard.press('End');
  for (let i = 0; i < 4; i++) await alice.keyboard.press('ArrowUp');
  await alice.keyboard.press('Enter');
  const help = alice.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  await help.getByRole('button', { name: 'Close' }).click();

  // A click elsewhere closes it.
  await button.click();
  await expect(menu).toBeVisible();
  await alice.getByRole('heading', { level: 1 }).click();
  await expect(menu).toBeHidden();
});

test('the header names the meeting, counts the time, and its badge counts the key holders and opens the security code', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  await alice.setViewportSize({ width: 1280, height: 720 });
  const link = await createMeeting(alice);
  const room = /\/r\/([a-z-]+)#/.exec(link)![1]!;
  await joinFromPreJoin(alice, 'Alice');
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');

  await expect(alice.getByRole('heading', { level: 1, name: room })).toBeVisible();
  const badge = (page: Page, n: number) =>
    page.getByRole('button', { name: `End-to-end encrypted · ${n} hold the keys`, exact: true });
  await expect(badge(alice, 2)).toBeVisible();
  await expect(badge(bob, 2)).toBeVisible();

  // The clock ticks (mm:ss), outside any live region: screen readers are not told it every second.
  const clock = alice.locator('header time');
  await expect(clock).toHaveText(/^\d\d:\d\d$/);
  const first = await clock.textContent();
  await expect(clock).not.toHaveText(first!, { timeout: 3_000 });
  const live = await clock.evaluate((el) =>
    el.closest('[aria-live], [role="status"], [role="alert"], [role="log"]'),
  );
  expect(live, 'the clock is not inside a live region').toBeNull();

  // A third person: every badge counts three (the MLS group's members).
  const carol = await newParticipantPage(browser);
  await joinByLink(carol, link, 'Carol');
  for (const page of [alice, bob, carol]) await expect(badge(page, 3)).toBeVisible();
  await expect(badge(alice, 3)).not.toHaveClass(/warning|danger/);

  // The badge opens the Security code dialog, listing the three who hold the keys.
  await badge(alice, 3).click();
  const dialog = alice.getByRole('dialog', { name: 'Security code' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(3);
  // First sight of their keys is neutral: no "key changed" mark.
  await expect(dialog.getByRole('list', { name: 'Members' })).not.toContainText('key changed');
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'security-code-1280x720.png') });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  // In the participants panel too, "New key" (first sight) is in the neutral muted colour, not amber.
  await alice.getByRole('button', { name: 'Participants' }).click();
  const newKey = alice
    .getByRole('complementary', { name: 'Participants' })
    .getByText('New key', { exact: true });
  await expect(newKey).toHaveCount(2);
  await expect(newKey.first()).toHaveCSS('color', MUTED);
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'participants-1280x720.png') });
  await alice.getByRole('button', { name: 'Close participants' }).click();

  await alice.screenshot({ path: path.join(SCREENSHOTS, 'meeting-1280x720.png') });
  await alice.getByRole('button', { name: 'More options' }).click();
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'more-options-1280x720.png') });
  await alice.keyboard.press('Escape');
  await alice.setViewportSize({ width: 390, height: 844 });
  await expect(badge(alice, 3)).toBeVisible();
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'meeting-390x844.png') });
  await alice.getByRole('button', { name: 'More options' }).click();
  // On a phone the menu stays on screen wherever the bar's rows put its button.
  const items = alice.getByRole('menu', { name: 'More options' }).locator('[role^="menuitem"]');
  await expect(items).toHaveCount(8); // a host's menu, the longest there is
  for (const box of await items.evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON())))
    expect(box.left >= 0 && box.right <= 390 && box.top >= 0 && box.bottom <= 844, JSON.stringify(box)).toBe(
      true,
    );
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'more-options-390x844.png') });
});

test('joining muted and with the camera off from the pre-join page: the others hear nothing and see no picture until turned on', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');

  const bob = await newParticipantPage(browser);
  await bob.setViewportSize({ width: 1280, height: 720 });
  await bob.goto(link);
  const microphone = bob.getByRole('button', { name: 'Microphone', exact: true });
  const camera = bob.getByRole('button', { name: 'Camera', exact: true });
  await expect(bob.getByRole('region', { name: 'Camera preview' }).locator('video')).toHaveCount(1);
  await expect(microphone).toHaveAttribute('aria-pressed', 'true');
  await microphone.click();
  await camera.click();
  await expect(microphone).toHaveAttribute('aria-pressed', 'false');
  await expect(camera).toHaveAttribute('aria-pressed', 'false');
  // The camera is released, not just hidden: its preview goes.
  await expect(bob.getByRole('region', { name: 'Camera preview' })).toContainText('Camera is off');
  await bob.screenshot({ path: path.join(SCREENSHOTS, 'prejoin-off-1280x720.png') });
  await joinFromPreJoin(bob, 'Bob');

  // Bob's own controls start in that state.
  await expect(bob.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
  await expect(bob.getByRole('button', { name: 'Turn camera on' })).toBeVisible();
  // Alice: Bob's tile says microphone off, shows no picture, and plays no tone.
  await expect(tile(alice, 'Bob')).toContainText('microphone off');
  await expect(tile(alice, 'Bob').locator('video')).toHaveCount(0);
  await alice.waitForTimeout(2_000); // time for any stray frame to arrive
  await expect(tile(alice, 'Bob').locator('video')).toHaveCount(0);
  const heard = await dominantFrequency(alice, 'Bob');
  expect(heard === null || Math.abs(heard - TONE_HZ) > 10, `Alice hears no tone from Bob (${heard} Hz)`).toBe(
    true,
  );
  // Bob sends no video at all (so no frame, encrypted or not, of a camera he turned off).
  const videoBytes = () =>
    bob.evaluate(async () => {
      let total = 0;
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesSent?: number }) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video') total += s.bytesSent ?? 0;
        });
      }
      return total;
    });
  expect(await videoBytes()).toBe(0);

  // Turned on in the meeting: Alice sees Bob's fixture picture, decrypted, and hears his tone.
  await bob.getByRole('button', { name: 'Turn camera on' }).click();
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expect(tile(alice, 'Bob').getByText('Decrypting')).toBeVisible();
  await bob.getByRole('button', { name: 'Unmute microphone' }).click();
  await expect(tile(alice, 'Bob')).not.toContainText('microphone off');
  await expect
    .poll(async () => Math.abs(((await dominantFrequency(alice, 'Bob')) ?? 0) - TONE_HZ), {
      message: "Alice hears Bob's tone once he unmutes",
    })
    .toBeLessThan(10);
});

test('while reconnecting, the last grid stays on screen, dimmed, and comes back live (still muted)', async ({
  browser,
}) => {
  const network = new ParticipantNetwork();
  const alice = await newParticipantPage(browser, { setup: (p) => network.install(p) });
  await alice.setViewportSize({ width: 1280, height: 720 });
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');

  // Alice mutes before her network drops: the rejoin must send her microphone muted again.
  await alice.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(tile(bob, 'Alice')).toContainText('microphone off');

  const stage = alice.getByRole('region', { name: 'Video tiles' });
  const status = alice.getByRole('status', { name: 'Connection status' });
  network.cut();
  await expect(status).toContainText(/Reconnecting/);
  // The grid Alice had stays: both tiles, dimmed, marked busy; the count still says 2, not 0.
  await expect(stage).toHaveAttribute('aria-busy', 'true');
  await expect(tile(alice, 'Alice (you)')).toBeVisible();
  await expect(tile(alice, 'Bob')).toBeVisible();
  const opacity = () => stage.evaluate((el) => Number(getComputedStyle(el).opacity));
  await expect.poll(opacity, { message: 'the stale grid is dimmed' }).toBeLessThan(0.6);
  await expect(alice.getByRole('button', { name: 'Participants' })).toContainText('2');
  await alice.screenshot({ path: path.join(SCREENSHOTS, 'reconnecting-1280x720.png') });

  network.restore();
  await expect(status).toBeHidden({ timeout: 20_000 });
  await expect(stage).toHaveAttribute('aria-busy', 'false');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expect.poll(opacity, { message: 'the live grid is not dimmed' }).toBe(1);
  // Still muted after the rejoin: her button says so, and Bob hears no tone from her.
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expect(alice.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
  await expect(tile(bob, 'Alice')).toContainText('microphone off');
  const heard = await dominantFrequency(bob, 'Alice');
  expect(heard === null || Math.abs(heard - TONE_HZ) > 10, `Bob hears no tone from Alice (${heard} Hz)`).toBe(
    true,
  );
});
