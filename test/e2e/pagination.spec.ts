// The paginated grid (issue #17), in real Chromium with simulated participants sending real
// SFrame-encrypted VP8 under the room's real MLS keys (test/support/media): each one's camera is a
// solid colour of its own, so a tile shows the right person's decrypted picture or it does not.
// A small window holds four tiles a page; Next page / Previous page turn them, are disabled at the
// ends, and each page's tiles show their participants' colours; a larger window holds more.
import { expect, test, type Page } from '@playwright/test';
import { colourDistance, type Rgb } from '../fixtures/media.ts';
import { startMediaRoom, type MediaRoom } from '../support/media/mediaRoom.ts';
import { E2E_BASE_URL } from './env.ts';
import {
  COLOUR_TOLERANCE,
  chooseMoreOption,
  closeParticipantPages,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  pictureColour,
} from './helpers.ts';

let room: MediaRoom | undefined;

test.afterEach(async () => {
  await closeParticipantPages();
  await room?.stop();
  room = undefined;
});

const SMALL = { width: 800, height: 600 };
const SIMULATED = 7;

function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The names on the tiles of the grid now, in reading order. */
async function tilesShown(page: Page): Promise<string[]> {
  return page
    .getByRole('region', { name: 'Video tiles' })
    .getByRole('group')
    .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('aria-label') ?? ''));
}

/**
 * Whether every simulated participant's tile on the page shows their colour, nearer to it than
 * to anyone else's: the picture decrypted, and it is the right person's.
 */
async function pageShowsItsColours(page: Page, media: MediaRoom): Promise<string[]> {
  const wrong: string[] = [];
  for (const name of await tilesShown(page)) {
    const person = media.participants.find((p) => p.name === name);
    if (person === undefined) continue; // the viewer's own tile
    const seen = await pictureColour(page, name);
    const own = colourDistance(seen?.colour ?? [-255, -255, -255], rgb(person.colour!));
    const nearest = Math.min(
      ...media.participants.map((p) => colourDistance(seen?.colour ?? [-255, -255, -255], rgb(p.colour!))),
    );
    if (seen === null || own >= COLOUR_TOLERANCE || own > nearest) wrong.push(name);
  }
  return wrong;
}

/** Waits until the page's tiles show their colours; returns how long that took (ms). */
async function timeToPictures(page: Page, media: MediaRoom, since: number): Promise<number> {
  await expect
    .poll(() => pageShowsItsColours(page, media), {
      message: 'every tile on the page shows its participant’s decrypted colour',
      timeout: 30_000,
      intervals: [100],
    })
    .toEqual([]);
  return Date.now() - since;
}

test('a grid larger than the window pages, four tiles at a time, each page decrypting its pictures', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  room = await startMediaRoom({ serverUrl: E2E_BASE_URL, participants: SIMULATED });
  const viewer = await newParticipantPage(browser);
  await viewer.setViewportSize(SMALL);
  await joinByLink(viewer, room.guestInvite!, 'Viewer');
  // Eight people: speaker view comes on by itself above six; this test is about the grid.
  await chooseMoreOption(viewer, 'Speaker view', 'menuitemcheckbox');

  const previous = viewer.getByRole('button', { name: 'Previous page', exact: true });
  const next = viewer.getByRole('button', { name: 'Next page', exact: true });
  await expect(viewer.getByText('Page 1 of 2', { exact: true })).toBeVisible();
  await expect(previous).toBeDisabled();
  await expect(next).toBeEnabled();
  const firstPage = await tilesShown(viewer);
  expect(firstPage).toEqual(['Viewer (you)', ...room.participants.slice(0, 3).map((p) => p.name)]);
  await timeToPictures(viewer, room, Date.now());

  // By keyboard: Tab reaches the pager, Enter turns the page.
  await next.focus();
  const turned = Date.now();
  await viewer.keyboard.press('Enter');
  await expect(viewer.getByText('Page 2 of 2', { exact: true })).toBeVisible();
  await expect(next).toBeDisabled();
  await expect(previous).toBeEnabled();
  await expect(previous).toBeFocused(); // focus is not lost when the pressed button goes disabled
  expect(await tilesShown(viewer)).toEqual(room.participants.slice(3, 7).map((p) => p.name));
  const toPage2 = await timeToPictures(viewer, room, turned);

  const back = Date.now();
  await previous.click();
  await expect(viewer.getByText('Page 1 of 2', { exact: true })).toBeVisible();
  expect(await tilesShown(viewer)).toEqual(firstPage);
  const toPage1 = await timeToPictures(viewer, room, back);
  // Pages of four, timed from Node (large-room.spec.ts gives large.page_to_picture_ms, in a room of 30).
  const metric = { metric: 'pagination.page_to_picture_ms@4', value: Math.max(toPage2, toPage1), unit: 'ms' };
  process.stdout.write(`${JSON.stringify(metric)}\n`);

  // A larger window holds everyone on one page: no pager; a smaller one pages again, clamped.
  await next.click();
  await expect(viewer.getByText('Page 2 of 2', { exact: true })).toBeVisible();
  await viewer.setViewportSize({ width: 1280, height: 800 });
  await expect(viewer.getByRole('navigation', { name: 'Pages of tiles' })).toHaveCount(0);
  await expect.poll(() => tilesShown(viewer)).toHaveLength(SIMULATED + 1);
  await timeToPictures(viewer, room, Date.now());
  await viewer.setViewportSize({ width: 390, height: 844 });
  await expect(viewer.getByText(/^Page 1 of \d+$/)).toBeVisible();
  const phonePage = await tilesShown(viewer);
  expect(phonePage.length).toBeLessThan(4);
  expect(phonePage[0]).toBe('Viewer (you)');
});

test('someone on page 2 who speaks is promoted onto page 1, into the place of who spoke least recently', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  // Five who make no sound: nobody on page 1 has spoken, so the last place there is the one to give.
  room = await startMediaRoom({ serverUrl: E2E_BASE_URL, participants: 5, silent: true });
  const viewer = await newParticipantPage(browser);
  await viewer.setViewportSize(SMALL);
  await joinByLink(viewer, room.guestInvite!, 'Viewer');
  const names = room.participants.map((p) => p.name);
  await expect(viewer.getByText('Page 1 of 2', { exact: true })).toBeVisible();
  expect(await tilesShown(viewer)).toEqual(['Viewer (you)', ...names.slice(0, 3)]);
  // Grid, not the speaker view that seven people would bring by themselves.
  await chooseMoreOption(viewer, 'Speaker view', 'menuitemcheckbox');
  await chooseMoreOption(viewer, 'Speaker view', 'menuitemcheckbox');
  await viewer.getByRole('button', { name: 'More options' }).click();
  await expect(viewer.getByRole('menuitemcheckbox', { name: 'Speaker view' })).toHaveAttribute(
    'aria-checked',
    'false',
  );
  await viewer.keyboard.press('Escape');

  // Dora joins last, onto page 2, with a microphone that carries the fixture's tone.
  const dora = await newParticipantPage(browser);
  await joinByLink(dora, room.guestInvite!, 'Dora');
  await expect(viewer.getByText('Page 1 of 2', { exact: true })).toBeVisible();
  await expect
    .poll(() => tilesShown(viewer), { message: 'Dora takes the last place of page 1', timeout: 20_000 })
    .toEqual(['Viewer (you)', ...names.slice(0, 2), 'Dora']);
  await expectFixtureVideo(viewer, 'Dora', 'Viewer');
  // The one she replaced went to her place on page 2; nobody else moved.
  await viewer.getByRole('button', { name: 'Next page', exact: true }).click();
  expect(await tilesShown(viewer)).toEqual([names[3], names[4], names[2]]);
});
