// The meeting's layout as a person sees it, from a phone (390 px) to a wide screen (1920 px): the
// tiles fill the stage, a join re-flows the grid at most once and nothing moves after that (measured
// with the Layout Instability API), no control leaves the screen, tiles keep 16:9, and speaker view
// shows the speaker large. Screenshots of each state go
// to test/e2e/.artifacts/screenshots/ (the README's and docs/' come from there).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import {
  chooseMoreOption,
  closeParticipantPages,
  createMeeting,
  expectFixtureVideo,
  expectVisible,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.artifacts', 'screenshots');

const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

function tile(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

/** Starts summing layout-shift entries on the page, as CLS does (shifts after input excluded). */
async function observeLayoutShifts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const record = { total: 0, sources: [] as string[] };
    (window as unknown as { __shifts: typeof record }).__shifts = record;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as Array<{
        value: number;
        hadRecentInput: boolean;
        sources: Array<{ node?: Node }>;
      }>) {
        if (entry.hadRecentInput) continue;
        record.total += entry.value;
        for (const s of entry.sources) record.sources.push((s.node as Element | undefined)?.className ?? '?');
      }
    }).observe({ type: 'layout-shift' });
  });
}

async function layoutShifts(page: Page): Promise<{ total: number; sources: string[] }> {
  return page.evaluate(
    () => (window as unknown as { __shifts: { total: number; sources: string[] } }).__shifts,
  );
}

/**
 * Waits until the page has painted twice. The stage re-sizes its tiles when its ResizeObserver fires,
 * in the frame's rendering step before paint: a layout read between a change (the panel opening, a
 * new viewport) and that step sees the tiles still sized for the old stage, which nobody ever sees.
 */
async function afterPaint(page: Page): Promise<void> {
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  );
}

/** Every button and tile on screen lies inside the viewport, and the page does not scroll sideways. */
async function expectEverythingOnScreen(page: Page, label: string): Promise<void> {
  await afterPaint(page);
  const outside = await page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, figure, [role="complementary"]')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not displayed (e.g. tiles behind a phone's panel)
      const inside = r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5;
      // Tiles may scroll vertically inside their stage on a phone; everything else must fit.
      const fitsVertically = el.tagName === 'FIGURE' || r.bottom <= innerHeight + 0.5;
      if (!inside || !fitsVertically)
        bad.push(`${el.getAttribute('aria-label') ?? el.textContent?.trim()} at ${JSON.stringify(r)}`);
    }
    if (document.documentElement.scrollWidth > innerWidth) bad.push('the page scrolls sideways');
    return bad;
  });
  expect(outside, `${label}: out of the viewport`).toEqual([]);
}

/** Whether speaker view is on, as the More options menu shows it (the menu is closed again). */
async function speakerViewChecked(page: Page): Promise<string | null> {
  await page.getByRole('button', { name: 'More options' }).click();
  const item = page
    .getByRole('menu', { name: 'More options' })
    .getByRole('menuitemcheckbox', { name: 'Speaker view' });
  const checked = await item.getAttribute('aria-checked');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('menu', { name: 'More options' })).toBeHidden();
  return checked;
}

/** The control bar is one row: every button in it has the same vertical centre. */
async function expectControlsInOneRow(page: Page, label: string): Promise<void> {
  const centres = await page.getByRole('navigation', { name: 'Meeting controls' }).evaluate((nav) =>
    [...nav.querySelectorAll(':scope > button, :scope > div > button')].map((b) => {
      const r = b.getBoundingClientRect();
      return Math.round(r.top + r.height / 2);
    }),
  );
  expect(centres.length, `${label}: buttons in the bar`).toBeGreaterThanOrEqual(7);
  expect(new Set(centres).size, `${label}: the control bar does not wrap`).toBe(1);
}

async function expectTilesAre16By9(page: Page, names: string[]): Promise<void> {
  for (const name of names) {
    const box = await tile(page, name).boundingBox();
    expect(box, `${name}'s tile is shown`).not.toBeNull();
    expect(Math.abs(box!.width / box!.height - 16 / 9), `${name}'s tile is 16:9`).toBeLessThan(0.02);
  }
}

test('a join re-flows the grid at most once, and after that nobody moves: no layout shift', async ({
  browser,
}) => {
  // Four people one after another: about 60 s on a quiet 2-core machine.
  test.setTimeout(150_000);
  const alice = await newParticipantPage(browser);
  await alice.setViewportSize({ width: 1280, height: 800 });
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  const bob = await newParticipantPage(browser);
  await joinByLink(bob, link, 'Bob');
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  // Let the banners of the join settle (the encryption banner goes once the keys are in).
  await expect(alice.getByText(/Setting up end-to-end encryption/)).toHaveCount(0);

  type Box = { x: number; y: number; width: number; height: number };
  const boxes = async (names: string[]): Promise<Record<string, Box | null>> => ({
    ...Object.fromEntries(await Promise.all(names.map(async (n) => [n, await tile(alice, n).boundingBox()]))),
    controls: await alice.getByRole('navigation', { name: 'Meeting controls' }).boundingBox(),
  });
  // Two people fill the stage side by side (not a top row over an empty lower half).
  const two = await boxes(['Alice (you)', 'Bob']);
  expect(two['Bob']!.y).toBe(two['Alice (you)']!.y);
  expect(two['Alice (you)']!.width).toBeGreaterThan(1256 / 2 - 20);

  // The third re-flows the grid once, into two rows, keeping everyone's order.
  const carol = await newParticipantPage(browser);
  await joinByLink(carol, link, 'Carol');
  await expectVisible(alice, { role: 'group', name: 'Carol' });
  await afterPaint(alice);
  const three = await boxes(['Alice (you)', 'Bob', 'Carol']);
  expect(three['Bob']!.y).toBe(three['Alice (you)']!.y);
  expect(three['Bob']!.x).toBeGreaterThan(three['Alice (you)']!.x);
  expect(three['Carol']!.x).toBe(three['Alice (you)']!.x);
  expect(three['Carol']!.y).toBeGreaterThan(three['Alice (you)']!.y);
  // After the re-flow, nothing moves: not when Carol's picture arrives, nor a second later.
  await observeLayoutShifts(alice);
  await expectFixtureVideo(alice, 'Carol', 'Alice');
  await alice.waitForTimeout(1000);
  expect(await boxes(['Alice (you)', 'Bob', 'Carol'])).toEqual(three);

  // The fourth takes the empty place: nobody else moves at all.
  const dave = await newParticipantPage(browser);
  await joinByLink(dave, link, 'Dave');
  await expectFixtureVideo(alice, 'Dave', 'Alice');
  await alice.waitForTimeout(1000); // any late shift (a banner, the picture's arrival) would land here

  const shifts = await layoutShifts(alice);
  expect(shifts.total, `layout shift after the re-flow (sources: ${shifts.sources.join(', ')})`).toBeLessThan(
    0.001,
  );
  expect(await boxes(['Alice (you)', 'Bob', 'Carol'])).toEqual(three);
  await expectTilesAre16By9(alice, ['Alice (you)', 'Bob', 'Carol', 'Dave']);
});

test('from a phone to a wide screen, every control fits and speaker view shows the speaker large', async ({
  browser,
}) => {
  // Nine layout states (three widths × grid, panel, speaker view), each checked and photographed,
  // after a three-person meeting starts: 50 s on a quiet 2-core machine, twice that when busy.
  test.setTimeout(180_000);
  const alice = await newParticipantPage(browser);
  const link = await createMeeting(alice);
  await joinFromPreJoin(alice, 'Alice');
  for (const name of ['Bob', 'Carol']) {
    const page = await newParticipantPage(browser);
    await joinByLink(page, link, name);
  }
  await expectFixtureVideo(alice, 'Bob', 'Alice');
  await expectFixtureVideo(alice, 'Carol', 'Alice');
  const everyone = ['Alice (you)', 'Bob', 'Carol'];

  for (const viewport of VIEWPORTS) {
    const size = `${viewport.width}x${viewport.height}`;
    await alice.setViewportSize(viewport);
    expect(await speakerViewChecked(alice)).toBe('false');
    await expectEverythingOnScreen(alice, `grid at ${size}`);
    if (viewport.width >= 1280) await expectControlsInOneRow(alice, `grid at ${size}`);
    await expectTilesAre16By9(alice, everyone);
    await alice.screenshot({ path: path.join(SCREENSHOTS, `grid-${size}.png`) });

    await alice.getByRole('button', { name: 'Participants' }).click();
    await expect(alice.getByRole('complementary', { name: 'Participants' })).toBeVisible();
    await expectEverythingOnScreen(alice, `participants panel at ${size}`);
    if (viewport.width >= 1280) await expectControlsInOneRow(alice, `participants panel at ${size}`);
    await alice.screenshot({ path: path.join(SCREENSHOTS, `participants-${size}.png`) });
    await alice.getByRole('button', { name: 'Close participants' }).click();

    await chooseMoreOption(alice, 'Speaker view', 'menuitemcheckbox');
    expect(await speakerViewChecked(alice)).toBe('true');
    await expectEverythingOnScreen(alice, `speaker view at ${size}`);
    await expectTilesAre16By9(alice, everyone);
    // The featured tile (one of the others, never yourself) is the largest by far.
    const widths = await Promise.all(everyone.map(async (n) => (await tile(alice, n).boundingBox())!.width));
    const [own, ...others] = widths;
    expect(Math.max(...others)).toBeGreaterThan(2 * Math.min(own!, ...others));
    expect(own).toBeLessThan(Math.max(...others));
    await alice.screenshot({ path: path.join(SCREENSHOTS, `speaker-${size}.png`) });
    await chooseMoreOption(alice, 'Speaker view', 'menuitemcheckbox');
  }
});
