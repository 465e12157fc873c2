// Restrictive networks: every participant's media goes through a real coturn (test/support/coturn.ts)
// with the REST-API shared secret. The server hands each session its own time-limited credential
// and the relay policy (CONCLAVE_TURN_URLS, CONCLAVE_TURN_SECRET, CONCLAVE_TURN_TTL_SECONDS,
// CONCLAVE_ICE_TRANSPORT_POLICY=relay). What must hold:
// - two browsers meet through the relay only (selected pairs are relay on both) and decrypt each other;
// - coturn logs an allocation for each of them, under the user id in its credential;
// - coturn refuses an expired credential and one signed with another secret; the attacker here is
//   the browser's own TURN client given hand-made credentials, with a fresh one as the control.
import { createHmac } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { startCoturn, type Coturn } from '../support/coturn.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import {
  closeParticipantPages,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  selectedCandidateTypes,
} from './helpers.ts';

let coturn: Coturn;
let conclave: InProcessServer;
test.beforeAll(async () => {
  coturn = await startCoturn();
  conclave = await startInProcessServer({
    env: {
      CONCLAVE_TURN_URLS: coturn.urls.join(','),
      CONCLAVE_TURN_SECRET: coturn.secret,
      CONCLAVE_TURN_TTL_SECONDS: '600',
      CONCLAVE_ICE_TRANSPORT_POLICY: 'relay',
    },
  });
});
test.afterEach(closeParticipantPages);
test.afterAll(async () => {
  await conclave?.close();
  await coturn?.close();
});

/** coturn's REST-API credential for `username`, as anyone holding `secret` can make it. */
function credentialFor(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** In the page: how many relay candidates the browser gathers from `server` (0: refused). */
async function relayCandidates(page: Page, server: RTCIceServer): Promise<number> {
  return page.evaluate(async (iceServer) => {
    const pc = new RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
    let relays = 0;
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate?.type === 'relay') relays++;
    });
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      const done = () => pc.iceGatheringState === 'complete' && resolve();
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 10_000);
      done();
    });
    pc.close();
    return relays;
  }, server);
}

test('two browsers with the relay policy meet through coturn and decrypt each other', async ({ browser }) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const alice = await newParticipantPage(browser);
  const bob = await newParticipantPage(browser);
  await joinByLink(alice, inviteLink, 'Alice');
  await joinByLink(bob, inviteLink, 'Bob');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');

  for (const page of [alice, bob]) {
    const pairs = await selectedCandidateTypes(page);
    expect(pairs.length, JSON.stringify(pairs)).toBeGreaterThanOrEqual(2); // send and receive
    for (const pair of pairs) expect(pair.local, JSON.stringify(pairs)).toBe('relay');
  }
  const log = coturn.log();
  for (const peer of conclave.server.rooms.rooms.get(roomId)!.peers.values()) {
    expect(log).toMatch(new RegExp(`username=<\\d+:${peer.userId}>`));
  }
  expect(log).toMatch(/ALLOCATE processed, success/);
});

test('coturn refuses an expired credential, and one made with another secret', async ({ browser }) => {
  const page = await newParticipantPage(browser);
  await page.goto(conclave.baseUrl);
  const urls = coturn.urls[0]!;
  const now = Math.floor(Date.now() / 1000);

  const fresh = `${now + 600}:probe-fresh`;
  expect(
    await relayCandidates(page, { urls, username: fresh, credential: credentialFor(coturn.secret, fresh) }),
  ).toBeGreaterThan(0);

  const expired = `${now - 60}:probe-expired`;
  expect(
    await relayCandidates(page, {
      urls,
      username: expired,
      credential: credentialFor(coturn.secret, expired),
    }),
  ).toBe(0);
  const forged = `${now + 600}:probe-forged`;
  expect(
    await relayCandidates(page, {
      urls,
      username: forged,
      credential: credentialFor('not-the-secret', forged),
    }),
  ).toBe(0);
  expect(coturn.log()).toMatch(/probe-expired/);
});
