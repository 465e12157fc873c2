// Hosts and the lobby in real browsers, judged by content: a host admits, denies, removes, mutes,
// locks, hands over and ends the meeting, and a member cut off by the network comes back without
// being admitted again. The server's checks are on here (the webServer); lobby-bypass.spec.ts switches
// them off and lets the operator try to walk past the lobby.
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  chooseMoreOption,
  readSecurityCode,
} from './helpers.ts';
import { ParticipantNetwork } from './network.ts';

test.afterEach(closeParticipantPages);

/** Alice starts a meeting (she hosts it) and returns the guest link she would share. */
async function aliceHosts(browser: Browser): Promise<{ alice: Page; link: string }> {
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  return { alice, link };
}

/** A guest opens the link and clicks Join, and is left at whatever comes next (the lobby, a refusal). */
async function knock(page: Page, link: string, name: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
}

async function openParticipants(page: Page) {
  const panel = page.getByRole('complementary', { name: 'Participants' });
  if (!(await panel.isVisible())) await page.getByRole('button', { name: 'Participants' }).click();
  await expect(panel).toBeVisible();
  return panel;
}

test('a guest waits without keys until the host admits them; then both decrypt each other', async ({
  browser,
}) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await knock(bob, link, 'Bob');
  await expect(bob.getByText('Waiting for the host to let you in')).toBeVisible();
  const fingerprint = await bob.locator('main code').innerText();

  // Alice is told, with the fingerprint Bob's screen shows; the participants panel lists him too.
  const card = alice.getByRole('region', { name: 'Waiting to join' });
  await expect(card).toContainText('Bob wants to join');
  await expect(card).toContainText(fingerprint);
  const panel = await openParticipants(alice);
  await expect(panel.getByRole('list', { name: 'Waiting' })).toContainText('Bob wants to join');
  // Bob holds no key: the security code lists Alice alone.
  expect((await readSecurityCode(alice)).epoch).toBe(0);

  await card.getByRole('button', { name: 'Admit Bob' }).click();
  await expect(bob.getByRole('group', { name: 'Bob (you)' })).toBeVisible();
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expect(card).toBeHidden();
});

test('a denied guest is told "The host did not let you in"', async ({ browser }) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await knock(bob, link, 'Bob');
  await alice
    .getByRole('region', { name: 'Waiting to join' })
    .getByRole('button', { name: 'Deny Bob' })
    .click();
  await expect(bob.getByText('The host did not let you in')).toBeVisible();
  await expect(alice.getByRole('group', { name: 'Bob', exact: true })).toHaveCount(0);
});

test('a locked meeting turns newcomers away: "This meeting is locked"', async ({ browser }) => {
  const { alice, link } = await aliceHosts(browser);
  await chooseMoreOption(alice, 'Lock meeting');
  await alice.getByRole('button', { name: 'More options' }).click();
  await expect(alice.getByRole('menuitem', { name: 'Unlock meeting' })).toBeVisible();
  await alice.keyboard.press('Escape');
  const bob = await newParticipantPage(browser);
  await knock(bob, link, 'Bob');
  await expect(bob.getByText('This meeting is locked')).toBeVisible();
  await expect(alice.getByRole('region', { name: 'Waiting to join' })).toBeHidden();
});

test('the host removes Bob: he is told who did it, his tile goes, and he holds no later key', async ({
  browser,
}) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  const carol = await newParticipantPage(browser);
  await joinByLink(carol, link, 'Carol');
  await expectFixtureVideo(carol, 'Bob', 'Carol');
  const bobsLastEpoch = (await readSecurityCode(bob)).epoch;

  const panel = await openParticipants(alice);
  await panel.getByRole('button', { name: 'Remove Bob' }).click();
  const confirm = alice.getByRole('dialog', { name: 'Remove Bob?' });
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();

  // Carol is told at once (the notice shows for 8 s); Bob's screen says who removed him.
  await expect(carol.getByRole('status', { name: 'Who joined and left' })).toContainText('Alice removed Bob');
  await expect(bob.getByText('You were removed from the meeting by Alice')).toBeVisible();
  for (const page of [alice, carol])
    await expect(page.getByRole('group', { name: 'Bob', exact: true })).toHaveCount(0);
  await expect.poll(async () => (await readSecurityCode(carol)).epoch).toBeGreaterThan(bobsLastEpoch);
  await expectFixtureVideo(carol, 'Alice', 'Carol');
  await expect(bob.getByRole('group', { name: 'Alice', exact: true })).toHaveCount(0);
});

test('the host mutes Bob from his tile: "Alice muted you", and he can unmute himself', async ({
  browser,
}) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  // From Bob's tile this time (the panel's row has the same acts): only a host's tiles have the menu.
  await expect(bob.getByRole('button', { name: 'More actions for Alice' })).toHaveCount(0);
  await alice.getByRole('button', { name: 'More actions for Bob' }).focus();
  await alice.keyboard.press('Enter');
  const menu = alice.getByRole('menu', { name: 'More actions for Bob' });
  await expect(menu.getByRole('menuitem')).toHaveText(['Mute Bob', 'Make Bob a host', 'Remove Bob']);
  await expect(menu.getByRole('menuitem', { name: 'Mute Bob' })).toBeFocused();
  await alice.keyboard.press('Enter');
  await expect(menu).toBeHidden();
  await expect(bob.getByRole('status').filter({ hasText: 'Alice muted you' })).toBeVisible();
  await expect(bob.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
  await expect(alice.getByRole('group', { name: 'Bob', exact: true })).toContainText('microphone off');
  await bob.getByRole('button', { name: 'Unmute microphone' }).click();
  await expect(alice.getByRole('group', { name: 'Bob', exact: true })).not.toContainText('microphone off');
});

test('a host hands over: Bob, made a host, admits Carol after Alice leaves', async ({ browser }) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  const panel = await openParticipants(alice);
  await panel.getByRole('button', { name: 'Make Bob a host' }).click();
  await expect(bob.getByRole('status', { name: 'Who joined and left' })).toContainText(
    'Alice made Bob a host',
  );
  await alice.getByRole('button', { name: 'Leave' }).click();
  await expect(alice).toHaveURL(/\/$/);
  const carol = await newParticipantPage(browser);
  await knock(carol, link, 'Carol');
  await bob
    .getByRole('region', { name: 'Waiting to join' })
    .getByRole('button', { name: 'Admit Carol' })
    .click();
  await expectFixtureVideo(carol, 'Bob', 'Carol');
  await expectFixtureVideo(bob, 'Carol', 'Bob');
});

test('Reset invite link: the old guest link lets nobody in, the new one reaches the lobby', async ({
  browser,
}) => {
  const { alice, link } = await aliceHosts(browser);
  await chooseMoreOption(alice, 'Reset invite link');
  const fresh = await alice.getByRole('textbox', { name: 'New invite link' }).inputValue();
  expect(fresh).not.toBe(link);
  await alice.getByRole('dialog', { name: 'New invite link' }).getByRole('button', { name: 'Close' }).click();

  const mallory = await newParticipantPage(browser);
  await knock(mallory, link, 'Mallory');
  await expect(mallory.getByRole('alert')).toContainText('replaced by a new one');
  await expect(alice.getByRole('region', { name: 'Waiting to join' })).toBeHidden();

  const bob = await newParticipantPage(browser);
  await knock(bob, fresh, 'Bob');
  await expect(alice.getByRole('region', { name: 'Waiting to join' })).toContainText('Bob wants to join');
});

test('the host ends the meeting for all: everyone sees "Alice ended the meeting"', async ({ browser }) => {
  const { alice, link } = await aliceHosts(browser);
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await chooseMoreOption(alice, 'End meeting for all');
  await alice
    .getByRole('dialog', { name: 'End the meeting for everyone?' })
    .getByRole('button', { name: 'End for everyone' })
    .click();
  await expect(bob.getByText('Alice ended the meeting')).toBeVisible();
  await expect(alice.getByText('Alice ended the meeting')).toBeVisible();
});

test('a member whose network drops comes back without anyone admitting them again', async ({ browser }) => {
  const { alice, link } = await aliceHosts(browser);
  const network = new ParticipantNetwork();
  const bob = await newParticipantPage(browser, { setup: (p) => network.install(p) });
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  network.cut();
  await expect(bob.getByRole('status', { name: 'Connection status' })).toContainText('Reconnecting');
  // The server sees him gone, and the group removes his leaf.
  await expect(alice.getByRole('group', { name: 'Bob', exact: true })).toBeHidden({ timeout: 15_000 });
  network.restore();
  // Nobody clicks: Alice's browser lets the key it admitted before back in by itself.
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expect(alice.getByRole('region', { name: 'Waiting to join' })).toBeHidden();
});
