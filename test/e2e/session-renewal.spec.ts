// Sessions are short-lived, and both the signaling and the key-service sockets are closed when the
// token they hold expires unless they are handed the renewed one. With one-minute sessions, a meeting
// runs past several expiries without a reconnection: no new websocket, the same MLS epoch, pictures
// still decrypted.
import { expect, test } from '@playwright/test';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import {
  closeParticipantPages,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  readSecurityCode,
} from './helpers.ts';

let conclave: InProcessServer;
test.beforeAll(async () => {
  conclave = await startInProcessServer({ env: { CONCLAVE_SESSION_TTL_SECONDS: '60' } });
});
test.afterEach(closeParticipantPages);
test.afterAll(async () => {
  await conclave?.close();
});

test('a meeting outlives its one-minute session tokens without reconnecting', async ({ browser }) => {
  test.setTimeout(180_000);
  const { inviteLink } = await conclave.newMeeting();
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);
  const sockets = { alice: 0, bob: 0 };
  alice.on('websocket', () => sockets.alice++);
  bob.on('websocket', () => sockets.bob++);
  await joinByLink(alice, inviteLink, 'Alice');
  await joinByLink(bob, inviteLink, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  const before = await readSecurityCode(alice);
  const opened = { ...sockets };

  // Past the first token's expiry (60 s after joining) and a few renewals more.
  await alice.waitForTimeout(75_000);

  expect(sockets, 'no websocket was opened again').toEqual(opened);
  expect(await readSecurityCode(alice)).toEqual(before);
  expect(await readSecurityCode(bob)).toEqual(before);
  await expectFixtureVideo(bob, 'Alice', 'Bob');
});
