// Invites and names as a person meets them: New meeting gives its creator a host invite and shows
// the guest link to share; a room's address alone lets nobody in; a named invite's name is fixed; a
// name with invisible formatting characters is explained next to the field; a single-use link
// admits one person.
import { expect, test } from '@playwright/test';
import { TokenAuthority } from '../../server/src/auth/tokens.ts';
import { E2E_TOKEN_SECRET } from './env.ts';
import {
  closeParticipantPages,
  createMeeting,
  expectVisible,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  tile,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

/** Signs as the running server does (the operator's `npm run invite`). */
const tokens = new TokenAuthority(new Uint8Array(Buffer.from(E2E_TOKEN_SECRET, 'base64url')), {
  inviteSeconds: 600,
  sessionSeconds: 600,
});

function claimsOf(link: string): Record<string, unknown> {
  const token = new URLSearchParams(new URL(link).hash.slice(1)).get('t') ?? '';
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

test('New meeting: the creator joins as host, and the link shown to share is a guest invite', async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  const room = new URL(link).pathname.split('/')[2];
  expect(claimsOf(link)).toMatchObject({ room });
  expect(claimsOf(link)).not.toHaveProperty('host');
  expect(claimsOf(link)).not.toHaveProperty('sub');
  // The creator's own address carries the host invite, which is not the one shown.
  expect(claimsOf(alice.url())).toMatchObject({ room, host: true });
  await joinFromPreJoin(alice, 'Alice');

  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectVisible(alice, tile('Bob'));
  await expectVisible(bob, tile('Alice'));
});

test("a room's address without an invite lets nobody in, even into a meeting in progress", async ({
  browser,
}) => {
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');

  const mallory = await newParticipantPage(browser);
  await mallory.goto(new URL(link).pathname);
  await expect(mallory.getByRole('alert')).toContainText('This link has no invite');
  await expect(mallory.getByRole('link', { name: 'Go to the home page' })).toBeVisible();
  await expect(mallory.getByRole('button', { name: 'Join' })).toHaveCount(0);
  // Nothing was asked of the server on her behalf: Alice is still alone.
  await expect(alice.getByRole('group', { name: /Mallory/ })).toHaveCount(0);
});

test('a named invite shows its name read-only, and the meeting shows that name', async ({ browser }) => {
  const room = `named-${Date.now().toString(36)}`;
  // A host invite: in a room nobody has opened yet, a guest would wait in the lobby for a host.
  const invite = await tokens.mintInvite({ room, sub: 'grace-0001', name: 'Grace Hopper', host: true });
  const page = await newParticipantPage(browser);
  await page.goto(`/r/${room}#t=${invite}`);
  const field = page.getByRole('textbox', { name: 'Your name' });
  await expect(field).toHaveValue('Grace Hopper');
  await expect(field).not.toBeEditable();
  await expect(field).toHaveAccessibleDescription(/made out to this name/);
  // A personal invite is not offered for sharing.
  await expect(page.getByRole('textbox', { name: 'Invite link' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Join' }).click();
  await expectVisible(page, tile('Grace Hopper (you)'));
});

test('a name with an invisible formatting character is explained at the field, and Join waits', async ({
  browser,
}) => {
  const page = await newParticipantPage(browser);
  await createMeeting(page);
  const field = page.getByRole('textbox', { name: 'Your name' });
  const join = page.getByRole('button', { name: 'Join' });
  await field.fill('Alice\u202Egpj.exe');
  await expect(field).toHaveAccessibleDescription(/invisible formatting characters/);
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(join).toBeDisabled();
  await field.fill('Ali\u200Bce');
  await expect(join).toBeDisabled();
  await field.fill('Alice');
  await expect(field).toHaveAttribute('aria-invalid', 'false');
  await expect(join).toBeEnabled();
});

test('a single-use invite admits its first person and tells the next one why not', async ({ browser }) => {
  const room = `single-${Date.now().toString(36)}`;
  const invite = await tokens.mintInvite({ room, sub: 'dana-00001', name: 'Dana', uses: 1, host: true });
  const link = `/r/${room}#t=${invite}`;
  const first = await newParticipantPage(browser);
  await joinByLink(first, link, 'Dana');
  const second = await newParticipantPage(browser);
  await second.goto(link);
  await second.getByRole('button', { name: 'Join' }).click();
  await expect(second.getByRole('alert')).toContainText('used by as many people as it allows');
});
