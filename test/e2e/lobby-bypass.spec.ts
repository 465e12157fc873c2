// The lobby against its own server: the operator holds the token secret, switches the server's
// checks off (test-only), mints a session and joins the group by external commit while the lobby is
// on. Every browser takes that epoch in only to remove the intruder, says so, and sends nothing under
// it: the keys the operator exported open none of the frames the SFU forwarded.
import { expect, test } from '@playwright/test';
import { clearPrefixLength } from '../../crypto-worker/src/codecPrefix.ts';
import { sframeDecrypt } from '../../crypto-worker/src/sframe/frame.ts';
import { MlsAttacker } from '../support/mlsAttacker.ts';
import { joinSignaling, parseInviteLink } from '../support/rawParticipant.ts';
import { SfuTap } from '../support/sfuTap.ts';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import { closeParticipantPages, expectFixtureVideo, joinByLink, newParticipantPage } from './helpers.ts';

let conclave: InProcessServer;
const cleanups: Array<() => void> = [];
test.beforeAll(async () => {
  conclave = await startInProcessServer();
  conclave.server.keys.unsafeDisableMembershipPolicy();
});
test.afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await closeParticipantPages();
});
test.afterAll(async () => {
  await conclave?.close();
});

test('the operator joining behind the lobby is removed at once, in every browser, and decrypts 0 frames', async ({
  browser,
}) => {
  const { roomId, inviteLink } = await conclave.newMeeting();
  const tap = await SfuTap.attachToServer(conclave.server, roomId, { keepFrameData: true });
  cleanups.push(() => tap.close());
  const alice = await newParticipantPage(browser);
  await joinByLink(alice, inviteLink, 'Alice');
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, inviteLink, 'Bob'); // admitted by Alice
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(bob, 'Alice', 'Bob');

  // The operator signs a session of its own and walks past the lobby by external commit.
  const sub = 'operator-ghost-01';
  const session = await conclave.server.tokens.mintSession({ room: roomId, sub, name: 'Eve' });
  const { baseUrl } = parseInviteLink(inviteLink);
  const listing = await joinSignaling(baseUrl, session, sub, 'Eve');
  cleanups.push(() => listing.close());
  const ghost = await MlsAttacker.connect(`${baseUrl}/keys`, session, sub);
  cleanups.push(() => ghost.close());
  const joined = await ghost.join();
  expect(joined.ok, 'the key service (checks off) relays the external commit').toBe(true);

  for (const page of [alice, bob]) {
    await expect(page.getByRole('status', { name: 'Who joined and left' })).toContainText(
      'Someone joined without being admitted and was removed',
    );
  }
  // The meeting goes on, decrypted, under the epoch after the removal.
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(bob, 'Alice', 'Bob');
  await tap.waitFor((t) => t.frames().length > 300, { what: '300 frames through the SFU' });

  // Every frame the SFU forwarded, tried with what the intruder holds.
  let opened = 0;
  const frames = tap.frames().filter((f) => f.data !== undefined);
  for (const frame of frames) {
    const data = frame.data!;
    const codec =
      frame.codec === 'opus'
        ? 'opus'
        : frame.codec === 'vp9'
          ? 'vp9'
          : frame.codec === 'h264'
            ? 'h264'
            : 'vp8';
    const prefix = data.subarray(0, clearPrefixLength(codec, data));
    const opens = await sframeDecrypt(4, joined.exporter, prefix, data.subarray(prefix.length)).then(
      () => true,
      () => false,
    );
    if (opens) opened++;
  }
  expect(frames.length).toBeGreaterThan(300);
  expect(opened, `frames the intruder's key opens, of ${frames.length}`).toBe(0);
  expect(tap.violations()).toEqual([]);
});
