// The meeting by keyboard alone: the shortcuts (and their help), leaving by shortcut with a
// question first, and a Tab order that reaches every control, each with an accessible name.
import { expect, test, type Page } from '@playwright/test';
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

async function twoPeople(browser: Parameters<typeof newParticipantPage>[0]): Promise<[Page, Page]> {
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  return [alice, bob];
}

/** What identifies the focused element: its accessible name as the page states it. */
const FOCUSED_NAME = () => {
  const el = document.activeElement as HTMLElement | null;
  if (el === null || el === document.body) return null;
  return el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '';
};

test('shortcuts mute, turn the camera off, show their help, and leave only after asking', async ({
  browser,
}) => {
  const [alice, bob] = await twoPeople(browser);

  await expect(alice.getByRole('button', { name: 'Mute microphone' })).toHaveAttribute(
    'aria-keyshortcuts',
    'Control+D',
  );
  await alice.keyboard.press('Control+d');
  await expect(alice.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
  await expect(bob.getByRole('group', { name: 'Alice', exact: true })).toContainText('microphone off');
  await alice.keyboard.press('Control+d');
  await expect(alice.getByRole('button', { name: 'Mute microphone' })).toBeVisible();
  await alice.keyboard.press('Control+e');
  await expect(alice.getByRole('button', { name: 'Turn camera on' })).toBeVisible();
  await alice.keyboard.press('Control+e');
  await expect(alice.getByRole('button', { name: 'Turn camera off' })).toBeVisible();

  // "?" opens the help, which lists every shortcut; so does its button.
  await alice.keyboard.press('Shift+?');
  const help = alice.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  for (const keys of ['Ctrl+D', 'Ctrl+E', 'Ctrl+Shift+L', '?']) await expect(help).toContainText(keys);
  await alice.keyboard.press('Escape');
  await expect(help).toBeHidden();
  await chooseMoreOption(alice, 'Keyboard shortcuts');
  await expect(help).toBeVisible();
  await help.getByRole('button', { name: 'Close' }).click();
  await expect(help).toBeHidden();

  // "?" typed in the chat is text, not a shortcut.
  await alice.getByRole('button', { name: 'Chat' }).click();
  const message = alice.getByRole('textbox', { name: 'Message' });
  await message.click();
  await alice.keyboard.type('Ready?');
  await expect(message).toHaveValue('Ready?');
  await expect(help).toBeHidden();

  // Ctrl+Shift+L asks first; Enter on the focused "Stay" keeps Alice in the meeting.
  await alice.keyboard.press('Control+Shift+L');
  const question = alice.getByRole('dialog', { name: 'Leave the meeting?' });
  await expect(question).toBeVisible();
  await expect(question.getByRole('button', { name: 'Stay' })).toBeFocused();
  await alice.keyboard.press('Enter');
  await expect(question).toBeHidden();
  await expect(alice.getByRole('group', { name: 'Alice (you)' })).toBeVisible();

  await alice.keyboard.press('Control+Shift+L');
  await question.getByRole('button', { name: 'Leave meeting' }).click();
  await expect(alice).toHaveURL(/\/$/);
  await expect(bob.getByRole('group', { name: 'Alice', exact: true })).toHaveCount(0);
});

test('Tab reaches every control, each with an accessible name', async ({ browser }) => {
  const [alice] = await twoPeople(browser);
  await alice.getByRole('button', { name: 'Participants' }).click();
  await expect(alice.getByRole('complementary', { name: 'Participants' })).toBeVisible();
  // The connection indicators appear with the first statistics sample.
  await expect(alice.getByRole('button', { name: /^Connection: / })).toBeVisible();

  const controls = await alice.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href]')]
      .filter((el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled)
      .map((el) => el.getAttribute('aria-label') ?? el.textContent?.trim() ?? ''),
  );
  expect(controls.length).toBeGreaterThan(10);
  expect(
    controls.filter((name) => name === ''),
    'controls without a name',
  ).toEqual([]);

  await alice.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached: string[] = [];
  for (let i = 0; i < controls.length + 5; i++) {
    await alice.keyboard.press('Tab');
    const name = await alice.evaluate(FOCUSED_NAME);
    if (name !== null) reached.push(name);
  }
  // A connection indicator's name says its current quality, which may change between the two passes.
  // Ours reads "Your connection: …", everyone else's "Connection: …".
  const stable = (name: string) => name.replace(/^(Your connection|Connection): .*/, '$1: …');
  for (const name of controls.map(stable))
    expect(reached.map(stable), `Tab reaches "${name}"`).toContain(name);
});
