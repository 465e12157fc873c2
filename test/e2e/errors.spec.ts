// What a person sees when something is wrong: a damaged, expired or wrong-room invite, no invite in
// open-room-less links, and a browser that refuses the camera and microphone.
import { expect, test } from '@playwright/test';
import { SignJWT } from 'jose';
import { TokenAuthority } from '../../server/src/auth/tokens.ts';
import { E2E_TOKEN_SECRET } from './env.ts';
import { createMeeting, joinFromPreJoin, newParticipantPage, closeParticipantPages } from './helpers.ts';

test.afterEach(closeParticipantPages);

const LIFETIMES = { inviteSeconds: 3600, sessionSeconds: 600 };
/** Signs as the running server does, so only the claims make an invite bad. */
const SERVER_SECRET = new Uint8Array(Buffer.from(E2E_TOKEN_SECRET, 'base64url'));
const serverTokens = new TokenAuthority(SERVER_SECRET, LIFETIMES);

/** An invite that expired a minute ago: TokenAuthority will not sign in the past, so it is built here. */
async function expiredInvite(room: string): Promise<string> {
  const expiresAt = Math.floor(Date.now() / 1000) - 60;
  return new SignJWT({ room })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('conclave')
    .setAudience('conclave:invite')
    .setIssuedAt(expiresAt - 3600)
    .setExpirationTime(expiresAt)
    .sign(SERVER_SECRET);
}

test('a damaged invite link says so and offers the way home', async ({ page }) => {
  await page.goto('/r/some-room#t=not-a-token');
  await expect(page.getByRole('alert')).toContainText('Invalid invite link');
  await expect(page.getByRole('alert')).toContainText('damaged or incomplete');
  await expect(page.getByRole('link', { name: 'Go to the home page' })).toBeVisible();
});

test('an expired invite link says it has expired', async ({ page }) => {
  await page.goto(`/r/late-room#t=${await expiredInvite('late-room')}`);
  await expect(page.getByRole('alert')).toContainText('Invite link expired');
});

test('an invite for another meeting is refused', async ({ page }) => {
  const other = await serverTokens.mintInvite({ room: 'room-one' });
  await page.goto(`/r/room-two#t=${other}`);
  await expect(page.getByRole('alert')).toContainText('for another meeting');
});

test('an invite whose signature the server rejects fails at Join with a clear message', async ({ page }) => {
  // Well-formed and unexpired, but not signed by this server.
  const forged = await new TokenAuthority(new Uint8Array(32).fill(7), LIFETIMES).mintInvite({
    room: 'forged-room',
  });
  await page.goto(`/r/forged-room#t=${forged}`);
  await page.getByRole('textbox', { name: 'Your name' }).fill('Eve');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot join this meeting');
  await expect(page.getByRole('alert')).toContainText('not valid');
});

test('denied camera and microphone: a plain explanation, and joining to listen still works', async ({
  browser,
}) => {
  const page = await newParticipantPage(browser);
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await createMeeting(page);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Camera and microphone blocked');
  await expect(alert).toContainText('Allow them in the browser');
  await joinFromPreJoin(page, 'Listener');
  await expect(page.getByRole('button', { name: 'Unmute microphone' })).toBeVisible();
});
