// Raising a hand, as people meet it: real Chromium through the real server and key service. The hand
// travels only as an MLS application message (end-to-end encrypted, like chat); a member who joins
// later cannot read earlier epochs, so it sees the hand because its owner says it again.
import { expect, test, type Locator, type Page } from '@playwright/test';
import {
  closeParticipantPages,
  createMeeting,
  joinByLink,
  joinFromPreJoin,
  newParticipantPage,
  recordWebSocketFrames,
} from './helpers.ts';

test.afterEach(closeParticipantPages);

type Browser = Parameters<typeof newParticipantPage>[0];
type Frames = Array<string | Buffer>;

/** A page whose websocket frames are recorded from before it opens any connection. */
async function recordedPage(browser: Browser): Promise<{ page: Page; frames: Frames }> {
  let frames: Frames = [];
  const page = await newParticipantPage(browser, {
    setup: async (p) => {
      frames = recordWebSocketFrames(p);
    },
  });
  return { page, frames };
}

function tile(page: Page, name: string): Locator {
  return page.getByRole('group', { name, exact: true });
}

function panelOf(page: Page): Locator {
  return page.getByRole('complementary', { name: 'Participants' });
}

function rows(page: Page): Locator {
  return panelOf(page).getByRole('list', { name: 'People' }).getByRole('listitem');
}

function row(page: Page, name: string): Locator {
  return rows(page).filter({ has: page.getByText(name, { exact: true }) });
}

/** The key service's relayed MLS application messages among `frames` (socket.io event "app"). */
function appMessages(frames: Frames): number {
  return frames.filter((f) => typeof f === 'string' && f.includes('/keys,["app"')).length;
}

async function openPanel(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Participants' }).click();
  await expect(panelOf(page)).toBeVisible();
}

test('a raised hand reaches everyone, late joiners too, end-to-end encrypted', async ({ browser }) => {
  const alice = await recordedPage(browser);
  const link = await createMeeting(alice.page);
  await joinFromPreJoin(alice.page, 'Alice');
  const bob = await recordedPage(browser);
  await joinByLink(bob.page, link, 'Bob');
  await expect(tile(alice.page, 'Bob')).toBeVisible();
  await expect(tile(bob.page, 'Alice')).toBeVisible();
  await openPanel(alice.page);
  await expect(rows(alice.page)).toHaveCount(2);
  // Nothing has been said yet: no application message has travelled.
  expect(appMessages(alice.frames)).toBe(0);

  await bob.page.getByRole('button', { name: 'Raise hand' }).click();
  await expect(bob.page.getByRole('button', { name: 'Lower hand' })).toBeVisible();
  await expect(tile(bob.page, 'Bob (you)').getByText('Hand raised')).toBeAttached();

  await expect(tile(alice.page, 'Bob').getByText('Hand raised')).toBeAttached();
  await expect(tile(alice.page, 'Alice (you)').getByText('Hand raised')).toHaveCount(0);
  await expect(row(alice.page, 'Bob')).toContainText('Hand raised');
  await expect(rows(alice.page).first()).toContainText('Bob');
  await expect(alice.page.getByRole('status').filter({ hasText: 'Bob raised their hand' })).toBeAttached();
  expect(appMessages(alice.frames)).toBeGreaterThan(0);

  // Carol joins after the hand went up: she cannot read the epoch it was sent in, so she sees it
  // because Bob says it again in the epoch she joined.
  const carol = await recordedPage(browser);
  await joinByLink(carol.page, link, 'Carol');
  await expect(tile(carol.page, 'Bob').getByText('Hand raised')).toBeAttached();
  await openPanel(carol.page);
  await expect(row(carol.page, 'Bob')).toContainText('Hand raised');
  await expect(row(carol.page, 'Alice')).not.toContainText('Hand raised');

  // Carol raises hers with the keyboard: the hands are listed first, in the order they went up.
  await carol.page.keyboard.press('Control+Shift+H');
  await expect(carol.page.getByRole('button', { name: 'Lower hand' })).toBeVisible();
  await expect(row(alice.page, 'Carol')).toContainText('Hand raised');
  await expect(rows(alice.page).nth(0)).toContainText('Bob');
  await expect(rows(alice.page).nth(1)).toContainText('Carol');
  await expect(rows(alice.page).nth(2)).toContainText('Alice (you)');

  await bob.page.getByRole('button', { name: 'Lower hand' }).click();
  await expect(bob.page.getByRole('button', { name: 'Raise hand' })).toBeVisible();
  for (const viewer of [alice.page, carol.page]) {
    await expect(tile(viewer, 'Bob').getByText('Hand raised')).toHaveCount(0);
    await expect(row(viewer, 'Bob')).not.toContainText('Hand raised');
  }
  await expect(tile(alice.page, 'Carol').getByText('Hand raised')).toBeAttached();

  // Every hand went through the key service as MLS ciphertext; no frame carried the message's
  // plaintext, neither on the keys connection nor on signaling.
  expect(appMessages(carol.frames)).toBeGreaterThan(0);
  const markers = ['"type":"hand"', '"raised"'];
  for (const { frames } of [alice, bob, carol]) {
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) {
      for (const marker of markers) {
        if (typeof frame === 'string') expect(frame).not.toContain(marker);
        else expect(frame.includes(Buffer.from(marker, 'utf8'))).toBe(false);
      }
    }
  }
});
