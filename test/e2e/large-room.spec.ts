// A real browser in a big room (issue #17): one Chromium at 1920×1080 joins a room of 30 simulated
// participants (test/support/media, in a process of their own) who send real VP8, SFrame-sealed
// under the room's real MLS keys, each a solid colour of its own. The browser must:
// - decrypt the tiles it shows: each tile's pixels are its sender's colour;
// - receive video only for the page it shows: its flowing inbound video streams (getStats) are at
//   most the tiles on the page;
// - show the next page's pictures soon after "Next page".
// It prints large.browser_inbound_video_streams, large.page_to_picture_ms and
// large.browser_cpu_percent_of_one_core (the browser's processes over 30 s, the generator apart).
import { expect, test, type Page } from '@playwright/test';
import { descendantsCpuSeconds } from '../bench/load/processSampler.ts';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { startMediaRoomProcess, type MediaRoomProcess } from '../support/media/mediaRoomProcess.ts';
import { E2E_BASE_URL } from './env.ts';
import {
  COLOUR_TOLERANCE,
  closeParticipantPages,
  joinByLink,
  newParticipantPage,
  pictureColour,
} from './helpers.ts';

const SIMULATED = 30;
const PAGE_TO_PICTURE_MS = 1500;
const CPU_WINDOW_MS = 30_000;

let room: MediaRoomProcess | undefined;

test.afterEach(async () => {
  await closeParticipantPages();
  await room?.stop();
  room = undefined;
});

/** A figure of the run, as `npm run bench` prints its metrics (one JSON line). */
function printMetric(metric: string, value: number, unit: string): void {
  process.stdout.write(`${JSON.stringify({ metric, value, unit })}\n`);
}

const rgb = (hex: string): Rgb => {
  const channel = (at: number) => parseInt(hex.slice(at, at + 2), 16);
  return [channel(1), channel(3), channel(5)];
};

/** Video streams that received bytes in the last second, over the page's connections. */
async function flowingInboundVideo(page: Page): Promise<number> {
  const read = () =>
    page.evaluate(async () => {
      const bytes: Record<string, number> = {};
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach(
          (s: { type: string; kind?: string; id: string; bytesReceived?: number }) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') bytes[s.id] = s.bytesReceived ?? 0;
          },
        );
      }
      return bytes;
    });
  const before = await read();
  await page.waitForTimeout(1000);
  const after = await read();
  return Object.entries(after).filter(([id, b]) => b > (before[id] ?? 0)).length;
}

/** The simulated participants whose tiles the page shows now. */
async function tilesOnPage(page: Page, names: readonly string[]): Promise<string[]> {
  const shown: string[] = [];
  for (const name of names) {
    if (await page.getByRole('group', { name, exact: true }).isVisible()) shown.push(name);
  }
  return shown;
}

/** Tiles among `names` whose picture is not (yet) their sender's colour. */
async function wrongPictures(page: Page, names: readonly string[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const name of names) {
    const colour = room!.participants.find((p) => p.name === name)!.colour!;
    const seen = await pictureColour(page, name).catch(() => null);
    if (seen === null || colourDistance(seen.colour, rgb(colour)) > COLOUR_TOLERANCE) wrong.push(name);
  }
  return wrong;
}

test('one browser among 30 simulated senders decrypts the page it shows, and only that page', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  room = await startMediaRoomProcess({ serverUrl: E2E_BASE_URL, participants: SIMULATED, receives: false });
  const names = room.participants.map((p) => p.name);
  const page = await newParticipantPage(browser);
  await page.setViewportSize({ width: 1920, height: 1080 });
  // Simulated rooms keep the lobby off (KeyClient's default): the browser joins by itself.
  await joinByLink(page, room.guestInvite!, 'Browser', { admit: false });
  await expect(
    page.getByRole('button', { name: `End-to-end encrypted · ${SIMULATED + 1} hold the keys` }),
  ).toBeVisible({
    timeout: 60_000,
  });

  const pager = page.getByText(/^Page \d+ of \d+$/);
  await expect(pager).toHaveText(/^Page 1 of [2-9]$/);
  const firstPage = await tilesOnPage(page, names);
  expect(firstPage.length).toBeGreaterThan(0);
  await expect.poll(() => wrongPictures(page, firstPage), { timeout: 30_000 }).toEqual([]);

  const inbound = await flowingInboundVideo(page);
  printMetric('large.browser_inbound_video_streams', inbound, 'streams');
  expect(inbound).toBeGreaterThan(0);
  expect(inbound).toBeLessThanOrEqual(firstPage.length);

  const cpuStart = descendantsCpuSeconds(process.pid, new Set([room.pid]));
  await page.waitForTimeout(CPU_WINDOW_MS);
  const cpu = descendantsCpuSeconds(process.pid, new Set([room.pid])) - cpuStart;
  const percent = Math.round((cpu / (CPU_WINDOW_MS / 1000)) * 100);
  printMetric('large.browser_cpu_percent_of_one_core', percent, '%');

  const pagedAt = Date.now();
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(pager).toHaveText(/^Page 2 of \d+$/);
  const secondPage = await tilesOnPage(page, names);
  expect(secondPage.length).toBeGreaterThan(0);
  expect(secondPage.filter((name) => firstPage.includes(name))).toEqual([]);
  await expect.poll(() => wrongPictures(page, secondPage), { intervals: [50], timeout: 10_000 }).toEqual([]);
  const pageToPicture = Date.now() - pagedAt;
  printMetric('large.page_to_picture_ms', pageToPicture, 'ms');
  expect(pageToPicture).toBeLessThanOrEqual(PAGE_TO_PICTURE_MS);
  await expect
    .poll(() => flowingInboundVideo(page), { timeout: 10_000 })
    .toBeLessThanOrEqual(secondPage.length);

  expect(await room.errors()).toEqual({});
});
