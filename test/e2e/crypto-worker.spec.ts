// The crypto worker in real Chromium, by content: the fake camera's known picture is sent through
// RTCPeerConnections connected in loopback inside one page, encrypted by the real FrameCryptor and
// crypto worker, and what each receiver decodes is compared with the fixture's quadrant colours.
// It needs no server: the page, the page bundle (test/browser/cryptoWorkerHarness.ts) and the worker
// bundle (crypto-worker/src/worker.ts) are built with esbuild and answered by page.route.
//
// Run alone: CONCLAVE_E2E_PORT=3217 npx playwright test test/e2e/crypto-worker.spec.ts
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { bundle } from '../browser/bundle.ts';
import type { Harness, TransformPath } from '../browser/cryptoWorkerHarness.ts';
import { QUADRANT_COLOURS, colourDistance } from '../fixtures/media.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A secure context; every request to it is answered by page.route (nothing listens there). */
const ORIGIN = 'http://localhost';
const PAGE =
  '<!doctype html><meta charset="utf-8"><title>crypto worker</title><script type="module" src="/harness.js"></script>';

/** VP8 at low bitrates shifts colours a little; a wrong or scrambled picture misses by far more. */
const COLOUR_TOLERANCE = 45;
/** Alice is member 0 of the test's group; her base key for the epoch. */
const ALICE = 0;
const KEY = Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);

let pageCode = '';
let workerCode = '';

test.beforeAll(async () => {
  [pageCode, workerCode] = await Promise.all([
    bundle(path.join(root, 'test/browser/cryptoWorkerHarness.ts'), { format: 'esm' }),
    bundle(path.join(root, 'crypto-worker/src/worker.ts'), { format: 'iife' }),
  ]);
});

/** Calls the page harness. */
function h<K extends keyof Harness>(
  page: Page,
  name: K,
  ...args: Parameters<Harness[K]>
): Promise<Awaited<ReturnType<Harness[K]>>> {
  return page.evaluate(
    ({ name, args }) => {
      const harness = (window as unknown as { harness: Record<string, (...a: unknown[]) => unknown> })
        .harness;
      return harness[name]!(...args);
    },
    { name, args: args as unknown[] },
  ) as Promise<Awaited<ReturnType<Harness[K]>>>;
}

async function openHarness(page: Page, transformPath: TransformPath): Promise<void> {
  page.on('pageerror', (e) => process.stdout.write(`[page exception] ${e.message}\n`));
  page.on('console', (m) => {
    if (m.type() === 'error') process.stdout.write(`[page error] ${m.text()}\n`);
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/') return route.fulfill({ contentType: 'text/html', body: PAGE });
    if (pathname === '/harness.js') return route.fulfill({ contentType: 'text/javascript', body: pageCode });
    if (pathname === '/crypto-worker.js')
      return route.fulfill({ contentType: 'text/javascript', body: workerCode });
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => 'harness' in window);
  expect(await h(page, 'usePath', transformPath)).toBe(transformPath);
}

/** Largest per-channel distance of the link's decoded quadrants from the fixture; Infinity if none. */
async function mismatch(page: Page, link: string): Promise<number> {
  const colours = await h(page, 'quadrantColours', link);
  if (colours === null) return Infinity;
  return Math.max(...colours.map((c, i) => colourDistance(c, QUADRANT_COLOURS[i]!)));
}

async function expectFixturePicture(page: Page, link: string): Promise<void> {
  try {
    await expect
      .poll(() => mismatch(page, link), {
        message: `${link}'s decoded video matches the fixture's quadrant colours`,
        timeout: 30_000,
      })
      .toBeLessThan(COLOUR_TOLERANCE);
  } catch (error) {
    const state = { stats: await h(page, 'stats', link), statuses: await h(page, 'statusLog') };
    await test.info().attach(`${link}-state.json`, { body: JSON.stringify(state, null, 1) });
    throw error;
  }
}

/** Watches a link for `ms`: its picture must never match the fixture. Returns the closest it came. */
async function expectNoFixturePicture(page: Page, link: string, ms = 3000): Promise<number> {
  let closest = Infinity;
  for (const end = Date.now() + ms; Date.now() < end; await page.waitForTimeout(250)) {
    closest = Math.min(closest, await mismatch(page, link));
    expect(closest, `${link}'s picture must not match the fixture`).toBeGreaterThanOrEqual(COLOUR_TOLERANCE);
  }
  return closest;
}

async function waitForPackets(page: Page, link: string, packets = 100): Promise<void> {
  await expect
    .poll(async () => (await h(page, 'stats', link)).packetsReceived, {
      message: `${link} receives video packets`,
    })
    .toBeGreaterThan(packets);
}

for (const transformPath of ['script-transform', 'encoded-streams'] as const) {
  test.describe(`crypto worker over ${transformPath}`, () => {
    test.afterEach(async ({ page }) => {
      await h(page, 'close').catch(() => undefined);
    });

    test('matching keys show the fixture; no transform, no key or another member’s key show nothing', async ({
      page,
    }) => {
      await openHarness(page, transformPath);
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        expect(await h(page, 'createCryptor', name)).toBe(transformPath);
      }
      await h(page, 'setSenderKeys', 'alice', ALICE, KEY);
      await h(page, 'addReceiverKeys', 'bob', ALICE, KEY, 'alice');
      // Dave holds the right key, but the key manager said it is Mallory's: the stream from Alice
      // must not be accepted under it.
      await h(page, 'addReceiverKeys', 'dave', ALICE, KEY, 'mallory');

      await h(page, 'link', 'bob', { sender: 'alice', receiver: 'bob' });
      await h(page, 'link', 'eve', { sender: 'alice' }); // no transform: sees the ciphertext
      await h(page, 'link', 'carol', { sender: 'alice', receiver: 'carol' }); // transform, no key
      await h(page, 'link', 'dave', { sender: 'alice', receiver: 'dave' });

      // a. Matching keys: the decoded picture is the fixture's, and both ends report 'ok'.
      await expectFixturePicture(page, 'bob');
      await expect.poll(async () => (await h(page, 'stats', 'bob')).audioPacketsReceived).toBeGreaterThan(50);
      await expect
        .poll(async () => {
          const [sent, received] = [
            await h(page, 'status', 'alice', 'bob'),
            await h(page, 'status', 'bob', 'bob'),
          ];
          return [sent.video?.state, sent.audio?.state, received.video?.state, received.audio?.state];
        })
        .toEqual(['ok', 'ok', 'ok', 'ok']);

      // b. The same encrypted stream without a transform: frames arrive, the picture is not the fixture.
      await waitForPackets(page, 'eve');
      expect((await h(page, 'stats', 'eve')).framesReceived).toBeGreaterThan(0);
      const eveClosest = await expectNoFixturePicture(page, 'eve');

      // b. A transform without a key: 'missing-key', and nothing reaches the decoder.
      await waitForPackets(page, 'carol');
      await expect
        .poll(async () => {
          const s = await h(page, 'status', 'carol', 'carol');
          return [s.video?.state, s.audio?.state];
        })
        .toEqual(['missing-key', 'missing-key']);

      // d. The right key declared for another participant: 'failing' (wrong-sender), nothing decoded.
      await waitForPackets(page, 'dave');
      await expect
        .poll(async () => {
          const s = await h(page, 'status', 'dave', 'dave');
          return [s.video?.state, s.audio?.state, s.reasons];
        })
        .toEqual(['failing', 'failing', ['wrong-sender']]);

      // Meanwhile Bob has been decoding the same stream the whole time.
      await page.waitForTimeout(2000);
      const bob = await h(page, 'stats', 'bob');
      const eve = await h(page, 'stats', 'eve');
      const carol = await h(page, 'stats', 'carol');
      const dave = await h(page, 'stats', 'dave');
      expect(bob.framesDecoded).toBeGreaterThan(60);
      expect(carol.framesDecoded, 'carol (no key) decodes nothing').toBe(0);
      expect(dave.framesDecoded, 'dave (another member’s key) decodes nothing').toBe(0);
      expect(carol.packetsReceived).toBeGreaterThan(100);
      expect(dave.packetsReceived).toBeGreaterThan(100);
      await expectNoFixturePicture(page, 'carol', 500);
      await expectNoFixturePicture(page, 'dave', 500);
      test.info().annotations.push({
        type: 'observed',
        description: JSON.stringify({ bob, eve: { ...eve, closestColourDistance: eveClosest }, carol, dave }),
      });
    });

    test('a sender without a key sends no frames at all, then sends once it has one', async ({ page }) => {
      await openHarness(page, transformPath);
      for (const name of ['alice', 'bob']) await h(page, 'createCryptor', name);
      await h(page, 'addReceiverKeys', 'bob', ALICE, KEY, 'alice');
      await h(page, 'link', 'bob', { sender: 'alice', receiver: 'bob' });
      // A receiver without a transform would decode any frame that left in the clear.
      await h(page, 'link', 'eve', { sender: 'alice' });

      // c. The encoder runs, the sender transform drops every frame ('missing-key'), nothing arrives.
      for (const link of ['bob', 'eve']) {
        await expect
          .poll(async () => (await h(page, 'stats', link)).framesEncoded, {
            message: `${link}: encoder runs`,
          })
          .toBeGreaterThan(45);
        await expect
          .poll(async () => {
            const s = await h(page, 'status', 'alice', link);
            return [s.video?.state, s.audio?.state];
          })
          .toEqual(['missing-key', 'missing-key']);
      }
      await page.waitForTimeout(1500);
      const before = { bob: await h(page, 'stats', 'bob'), eve: await h(page, 'stats', 'eve') };
      for (const [link, s] of Object.entries(before)) {
        // Chromium counts outbound framesSent before the transform, so packets are what tell.
        expect(s.packetsSent, `${link}: no video packet sent`).toBe(0);
        expect(s.audioPacketsSent, `${link}: no audio packet sent`).toBe(0);
        expect(s.packetsReceived, `${link}: no video packet received`).toBe(0);
        expect(s.framesReceived, `${link}: no video frame received`).toBe(0);
        expect(s.framesDecoded, `${link}: no video frame decoded`).toBe(0);
        expect(s.audioPacketsReceived, `${link}: no audio packet received`).toBe(0);
      }
      await expectNoFixturePicture(page, 'eve', 500);

      // Control: the same links carry the picture as soon as Alice has her key.
      await h(page, 'setSenderKeys', 'alice', ALICE, KEY);
      await expectFixturePicture(page, 'bob');
      const after = { bob: await h(page, 'stats', 'bob'), eve: await h(page, 'stats', 'eve') };
      expect(after.bob.packetsSent).toBeGreaterThan(0);
      expect(after.bob.audioPacketsReceived).toBeGreaterThan(0);
      test.info().annotations.push({ type: 'observed', description: JSON.stringify({ before, after }) });
    });
  });
}
