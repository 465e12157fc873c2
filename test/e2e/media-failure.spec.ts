// A participant whose media cannot connect: Firefox against an SFU that offers only 127.0.0.1
// (CONCLAVE_RTC_LISTEN_IP=127.0.0.1; Firefox gathers no loopback candidates), the real failure a
// newcomer met. Its transports fail, and it rejoins again and again. What must hold:
// - everyone's tiles and the failing browser's banner say "Media connection failed", not "Waiting for key";
// - its retries keep its MLS membership: over 30 s, the others' security code changes once (its join).
import { expect, test, type Page } from '@playwright/test';
import type { Browser } from 'puppeteer-core';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import { drive, type AnyPage } from './driver.ts';
import { closeFirefoxes, launchFirefox, newFirefoxParticipant } from './firefox.ts';
import { closeParticipantPages, joinByLink, newParticipantPage, readSecurityCode, tile } from './helpers.ts';

let conclave: InProcessServer;
let firefox: Browser;
test.beforeAll(async () => {
  [conclave, firefox] = await Promise.all([
    startInProcessServer({ env: { CONCLAVE_RTC_LISTEN_IP: '127.0.0.1' } }),
    launchFirefox(),
  ]);
});
test.afterEach(closeParticipantPages);
test.afterAll(async () => {
  await closeFirefoxes();
  await conclave?.close();
});

const MEDIA_FAILED = 'Media connection failed';

/** The text of a participant's tile ('' while there is none). */
async function tileText(page: AnyPage, name: string): Promise<string> {
  return (
    (await drive(page).evaluateIn(tile(name), undefined, (el) => (el as HTMLElement).innerText, null)) ?? ''
  );
}

async function bannerText(page: AnyPage): Promise<string> {
  return drive(page).evaluate(
    () => (document.querySelector('[aria-label="Connection status"]') as HTMLElement | null)?.innerText ?? '',
    null,
  );
}

test("a participant whose media keeps failing is shown so, and changes the others' code at most once", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const { inviteLink } = await conclave.newMeeting();
  const alice: Page = await newParticipantPage(browser);
  await joinByLink(alice, inviteLink, 'Alice');
  const alone = await readSecurityCode(alice);

  const fox = await newFirefoxParticipant(firefox, conclave.baseUrl);
  await joinByLink(fox, inviteLink, 'Fox');
  // Fox's join is one change of the code (a new epoch with Fox in it).
  await expect
    .poll(async () => (await readSecurityCode(alice)).epoch, { timeout: 20_000 })
    .toBeGreaterThan(alone.epoch);

  const codes = new Set<string>();
  const seen = { aliceTileOfFox: [] as string[], foxTileOfAlice: [] as string[], foxBanner: [] as string[] };
  // Each rejoin is a new peer on the server: counting Fox's shows how often it tried.
  const foxPeers = new Set<string>();
  const until = Date.now() + 30_000;
  for (let round = 0; Date.now() < until; round++) {
    if (round % 5 === 0) codes.add((await readSecurityCode(alice)).code);
    seen.aliceTileOfFox.push(await tileText(alice, 'Fox'));
    seen.foxTileOfAlice.push(await tileText(fox, 'Alice'));
    seen.foxBanner.push(await bannerText(fox));
    for (const room of conclave.server.rooms.rooms.values())
      for (const peer of room.peers.values()) if (peer.displayName === 'Fox') foxPeers.add(peer.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  codes.add((await readSecurityCode(alice)).code);
  const report = JSON.stringify({ codes: [...codes], foxPeers: foxPeers.size, ...seen });

  // The failure was real and repeated: Firefox kept trying.
  expect(foxPeers.size, report).toBeGreaterThanOrEqual(3);
  expect(
    seen.foxBanner.some((t) => t.includes(MEDIA_FAILED)),
    report,
  ).toBe(true);
  // Both sides say what is wrong once it is known (the first failure), and from then on never
  // blame the keys.
  for (const texts of [seen.aliceTileOfFox, seen.foxTileOfAlice]) {
    const known = texts.findIndex((t) => t.includes(MEDIA_FAILED));
    expect(known, report).toBeGreaterThanOrEqual(0);
    for (const text of texts.slice(known)) expect(text, report).not.toContain('Waiting for key');
  }
  // Fox's retries did not rekey the meeting: one code since Fox joined.
  expect(codes.size, report).toBe(1);
  expect(codes.has(alone.code), report).toBe(false);
});
