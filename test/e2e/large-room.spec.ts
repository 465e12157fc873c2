// A real browser in a big room (issue #17): one Chromium at 1920×1080 joins a room of 30 simulated
// participants (test/support/media, in a process of their own) who send real VP8, SFrame-sealed
// under the room's real MLS keys, each a solid colour of its own, their microphones muted. The
// browser must:
// - decrypt the tiles it shows: each tile's pixels are its sender's colour;
// - receive video only for the page it shows: its flowing inbound video streams (getStats) are at
//   most the tiles on the page;
// - show the next page's pictures after "Next page" (timed inside the page; the target is 1.5 s);
// - hear 30 unmuted microphones at once, decrypted, and say what that costs (a second test).
// It prints large.browser_inbound_video_streams, large.page_to_picture_ms,
// large.browser_cpu_percent_of_one_core (the browser's processes over 30 s, the generator apart),
// and for the audio room large.browser_inbound_audio_streams and ..._cpu_percent_of_one_core@audio30.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { descendantsCpuSeconds } from '../bench/load/processSampler.ts';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { startMediaRoomProcess, type MediaRoomProcess } from '../support/media/mediaRoomProcess.ts';
import { E2E_BASE_URL } from './env.ts';
import {
  COLOUR_TOLERANCE,
  chooseMoreOption,
  closeParticipantPages,
  dominantFrequency,
  joinByLink,
  newParticipantPage,
} from './helpers.ts';

const SIMULATED = 30;
/**
 * The audio room's senders: 30 in the suite; `CONCLAVE_AUDIO_SENDERS=100 npx playwright test
 * large-room -g hears` measures a room of 100 (docs/testing.md), too slow for every CI run.
 */
const AUDIO_SENDERS = audioSenders(process.env['CONCLAVE_AUDIO_SENDERS']);

function audioSenders(raw: string | undefined): number {
  if (raw === undefined) return SIMULATED;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 3 || n > 200) throw new RangeError('CONCLAVE_AUDIO_SENDERS: 3 to 200');
  return n;
}
/**
 * Issue #17's target is 1.5 s, printed as large.page_to_picture_ms (1.4-5.2 s on the 2-core test
 * machine). The bound catches a page whose pictures do not come at all.
 */
const PAGE_TO_PICTURE_BOUND_MS = 10_000;
const CPU_WINDOW_MS = 30_000;

let room: MediaRoomProcess | undefined;

test.afterEach(async () => {
  await closeParticipantPages();
  await room?.stop();
  room = undefined;
});

/** The CPU the browser's processes used over `ms`, in % of one core (the media room apart). */
async function browserCpuPercent(page: Page, ms: number): Promise<number> {
  const start = descendantsCpuSeconds(process.pid, new Set([room!.pid]));
  await page.waitForTimeout(ms);
  const cpu = descendantsCpuSeconds(process.pid, new Set([room!.pid])) - start;
  return Math.round((cpu / (ms / 1000)) * 100);
}

/** A figure of the run, as `npm run bench` prints its metrics (one JSON line). */
function printMetric(metric: string, value: number, unit: string): void {
  process.stdout.write(`${JSON.stringify({ metric, value, unit })}\n`);
}

const rgb = (hex: string): Rgb => {
  const channel = (at: number) => parseInt(hex.slice(at, at + 2), 16);
  return [channel(1), channel(3), channel(5)];
};

/** Streams of `kind` that received bytes in the last second, over the page's connections. */
async function flowingInbound(page: Page, kind: 'audio' | 'video'): Promise<number> {
  const read = () =>
    page.evaluate(async (kind) => {
      const bytes: Record<string, number> = {};
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach(
          (s: { type: string; kind?: string; id: string; mid?: string; bytesReceived?: number }) => {
            // mediasoup-client's probator (mid "probator") carries the SFU's bandwidth probes, no picture.
            if (s.type === 'inbound-rtp' && s.kind === kind && s.mid !== 'probator')
              bytes[s.id] = s.bytesReceived ?? 0;
          },
        );
      }
      return bytes;
    }, kind);
  const before = await read();
  await page.waitForTimeout(1000);
  const after = await read();
  return Object.entries(after).filter(([id, b]) => b > (before[id] ?? 0)).length;
}

/** Reads the tiles' picture colours; `skip`: names not to read (already seen right). */
type ColourReader = (skip?: string[]) => Array<[string, [number, number, number] | null]>;

/**
 * Gives the page `__tileColours()`: the picture colour of every tile on the page, by name (null: no
 * picture yet), each video drawn small and the middle half averaged. Installed once, so that the
 * timed page turn reads pictures inside the page, with no round trip per look.
 */
async function installColourReader(page: Page): Promise<void> {
  await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 18;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const read: ColourReader = (skip = []) => {
      const seen: Array<[string, [number, number, number] | null]> = [];
      for (const tile of document.querySelectorAll('[role="group"][aria-label]')) {
        const name = tile.getAttribute('aria-label')!;
        if (skip.includes(name)) continue;
        const video = tile.querySelector('video');
        if (video === null || video.videoWidth === 0 || video.readyState < 2) {
          seen.push([name, null]);
          continue;
        }
        ctx.drawImage(video, 0, 0, 32, 18);
        const { data } = ctx.getImageData(8, 4, 16, 9);
        const sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
        const n = data.length / 4;
        seen.push([name, [sum[0]! / n, sum[1]! / n, sum[2]! / n]]);
      }
      return seen;
    };
    (window as unknown as { __tileColours: ColourReader }).__tileColours = read;
  });
}

/** Every tile's picture colour, by name, through the installed reader. */
async function tileColours(page: Page): Promise<Map<string, Rgb | null>> {
  return new Map(
    await page.evaluate(() => (window as unknown as { __tileColours: ColourReader }).__tileColours()),
  );
}

/**
 * Presses "Next page" inside the page and times, by the page's clock, how long until every
 * simulated participant it then shows has a picture of their own colour and none of `before` is
 * shown. Returns the milliseconds, or null when that did not happen within `timeoutMs`.
 */
async function timedPageTurn(page: Page, before: string[], timeoutMs: number): Promise<number | null> {
  const colours = Object.fromEntries(room!.participants.map((p) => [p.name, rgb(p.colour!)]));
  return page.evaluate(
    ({ colours, before, tolerance, timeoutMs }) =>
      new Promise<number | null>((resolve) => {
        const read = (window as unknown as { __tileColours: ColourReader }).__tileColours;
        const next = [...document.querySelectorAll('button')].find(
          (b) => b.textContent?.trim() === 'Next page',
        );
        const right = ([name, seen]: [string, [number, number, number] | null]) =>
          seen !== null && seen.every((v, c) => Math.abs(v - colours[name]![c]!) <= tolerance);
        // Each look draws only the tiles not yet seen right: drawing two dozen videos every 10 ms
        // would take the page's main thread from the page turn it is timing. The last look reads
        // every tile again, so one that lost its picture meanwhile is caught.
        let seenRight: string[] = [];
        const start = performance.now();
        next!.click();
        const look = () => {
          const unread = read(seenRight).filter(([name]) => name in colours);
          seenRight = [...seenRight, ...unread.filter(right).map(([name]) => name)];
          if (unread.every(right)) {
            const shown = read().filter(([name]) => name in colours);
            const done =
              shown.length > 0 && shown.every(([name]) => !before.includes(name)) && shown.every(right);
            if (done) return resolve(performance.now() - start);
            seenRight = [];
          }
          if (performance.now() - start > timeoutMs) resolve(null);
          else setTimeout(look, 10);
        };
        look();
      }),
    { colours, before, tolerance: COLOUR_TOLERANCE, timeoutMs },
  );
}

/** The simulated participants on the page now, and those whose picture is not their colour. */
async function pageState(page: Page): Promise<{ shown: string[]; wrong: string[] }> {
  const colours = await tileColours(page);
  const shown = room!.participants.filter((p) => colours.has(p.name));
  const wrong = shown.filter((p) => {
    const seen = colours.get(p.name);
    return seen === null || seen === undefined || colourDistance(seen, rgb(p.colour!)) > COLOUR_TOLERANCE;
  });
  return { shown: shown.map((p) => p.name), wrong: wrong.map((p) => p.name) };
}

/**
 * After a failed page turn: each tile shown, its colour read (null: no picture), and whether it was
 * on the first page.
 */
async function turnDiagnosis(page: Page, before: string[]): Promise<unknown[]> {
  const expected = new Map(room!.participants.map((p) => [p.name, p.colour]));
  return [...(await tileColours(page))].map(([name, seen]) => ({
    name,
    seen: seen?.map(Math.round) ?? null,
    expected: expected.get(name),
    fromFirstPage: before.includes(name),
  }));
}

/** Starts a room of `senders` send-only participants and joins one 1920×1080 browser to it. */
async function joinSimulatedRoom(
  browser: Browser,
  senders: number,
  options: { muted?: boolean; audioOnly?: boolean },
): Promise<Page> {
  room = await startMediaRoomProcess({
    serverUrl: E2E_BASE_URL,
    participants: senders,
    receives: false,
    ...options,
  });
  const page = await newParticipantPage(browser);
  await page.setViewportSize({ width: 1920, height: 1080 });
  // Simulated rooms keep the lobby off (KeyClient's default): the browser joins by itself.
  await joinByLink(page, room.guestInvite!, 'Browser', { admit: false });
  await expect(
    page.getByRole('button', { name: `End-to-end encrypted · ${senders + 1} hold the keys` }),
  ).toBeVisible({ timeout: 60_000 + senders * 1000 });
  return page;
}

test('one browser among 30 simulated senders decrypts the page it shows, and only that page', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  // Muted microphones, as in most large meetings (and no last-N reordering of the pages). With 30
  // open ones, the browser's frame decryption falls seconds behind on the 2-core test machine, and
  // every picture with it (docs/testing.md). The audio test below measures what open mics cost.
  const page = await joinSimulatedRoom(browser, SIMULATED, { muted: true });

  // Above six people the meeting opens in speaker view; the grid is one click away.
  await chooseMoreOption(page, 'Speaker view', 'menuitemcheckbox');
  const pager = page.getByText(/^Page \d+ of \d+$/);
  await expect(pager).toHaveText(/^Page 1 of [2-9]$/);
  await installColourReader(page);
  await expect.poll(async () => (await pageState(page)).wrong, { timeout: 30_000 }).toEqual([]);
  const firstPage = (await pageState(page)).shown;
  expect(firstPage.length).toBeGreaterThan(0);

  const inbound = await flowingInbound(page, 'video');
  printMetric('large.browser_inbound_video_streams', inbound, 'streams');
  expect(inbound).toBeGreaterThan(0);
  expect(inbound).toBeLessThanOrEqual(firstPage.length);

  printMetric('large.browser_cpu_percent_of_one_core', await browserCpuPercent(page, CPU_WINDOW_MS), '%');

  // Timed inside the page: from the press to the last right picture, looked at every 10 ms.
  const pageToPicture = await timedPageTurn(page, firstPage, PAGE_TO_PICTURE_BOUND_MS);
  // When it fails, the tiles' colours and the pager's text say where the turn stopped.
  const afterTurn = pageToPicture === null ? await turnDiagnosis(page, firstPage) : undefined;
  const pagerText = pageToPicture === null ? await pager.textContent() : '';
  expect(
    pageToPicture,
    `the next page shows its pictures: ${JSON.stringify({ afterTurn, pagerText })}`,
  ).not.toBeNull();
  await expect(pager).toHaveText(/^Page 2 of \d+$/);
  const secondPage = (await pageState(page)).shown;
  expect(secondPage.length).toBeGreaterThan(0);
  expect(secondPage.filter((name) => firstPage.includes(name))).toEqual([]);
  expect((await pageState(page)).wrong).toEqual([]);
  printMetric('large.page_to_picture_ms', Math.round(pageToPicture!), 'ms');
  await expect
    .poll(() => flowingInbound(page, 'video'), { timeout: 10_000 })
    .toBeLessThanOrEqual(secondPage.length);

  expect(await room!.errors()).toEqual({});
});

// Audio is received from everyone (issue #17): one browser in a room where every microphone is
// unmuted and sounding, the worst case (a muted one is a paused producer: the SFU forwards nothing).
// The CPU printed is the whole browser's, page and tiles included.
test(`one browser hears ${AUDIO_SENDERS} unmuted simulated microphones, each decrypted: what receiving every mic costs`, async ({
  browser,
}) => {
  test.setTimeout(240_000 + AUDIO_SENDERS * 3000);
  const page = await joinSimulatedRoom(browser, AUDIO_SENDERS, { audioOnly: true });

  await expect.poll(() => flowingInbound(page, 'audio'), { timeout: 30_000 }).toBe(AUDIO_SENDERS);
  printMetric('large.browser_inbound_audio_streams', await flowingInbound(page, 'audio'), 'streams');
  // Decrypted, judged by the sound: the simulated microphones play a 440 Hz tone; a frame that
  // failed to decrypt is dropped, and silence has no strongest frequency.
  const sampled = [0, Math.floor(AUDIO_SENDERS / 2), AUDIO_SENDERS - 1].map(
    (i) => room!.participants[i]!.name,
  );
  for (const name of sampled) {
    await expect
      .poll(() => dominantFrequency(page, name), { message: `${name} is heard`, timeout: 20_000 })
      .toBeGreaterThan(420);
    expect(await dominantFrequency(page, name)).toBeLessThan(460);
  }
  printMetric(
    `large.browser_cpu_percent_of_one_core@audio${AUDIO_SENDERS}`,
    await browserCpuPercent(page, CPU_WINDOW_MS),
    '%',
  );
  expect(await room!.errors()).toEqual({});
});
