// Meetings that survive faults, in real Chromium against a real server in this process (so the test
// can restart it and kill its mediasoup worker): a participant's network dropping and coming back,
// the whole server restarting, the room's media worker dying, a participant vanishing without
// leaving, and chat across a disconnect. Recovery is judged by content: each person sees the
// others' fixture picture decoded again, every tile says it is decrypting, and everyone shows the
// same security code (one MLS group).
import { expect, test, type Browser, type Page } from '@playwright/test';
import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
import {
  chooseMoreOption,
  closeParticipantPages,
  expectFixtureVideo,
  joinByLink,
  newParticipantPage,
  readSecurityCode,
} from './helpers.ts';
import { ParticipantNetwork } from './network.ts';

test.afterEach(closeParticipantPages);

let conclave: InProcessServer;
// A server per test: a restart or a dead worker must not leak into the next test.
test.beforeEach(async () => {
  conclave = await startInProcessServer();
});
test.afterEach(async () => {
  await conclave?.close();
});

/** socket.io heartbeat of the server (CONCLAVE_PING_INTERVAL_MS + CONCLAVE_PING_TIMEOUT_MS, 4 s + 4 s by default). */
const HEARTBEAT_BOUND_MS = 8_000;

interface Person {
  name: string;
  page: Page;
  network: ParticipantNetwork;
}

async function meetingOf(browser: Browser, names: string[]): Promise<Person[]> {
  const { inviteLink } = await conclave.newMeeting();
  const people: Person[] = [];
  for (const name of names) {
    const network = new ParticipantNetwork();
    const page = await newParticipantPage(browser, { setup: (p) => network.install(p) });
    await joinByLink(page, inviteLink, name);
    people.push({ name, page, network });
  }
  return people;
}

function tile(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

function connectionStatus(page: Page) {
  return page.getByRole('status', { name: 'Connection status' });
}

/** Everyone sees everyone else's camera decrypted, and sends encrypted. */
async function expectEncryptedMeeting(people: Person[]): Promise<void> {
  for (const viewer of people) {
    await expect(connectionStatus(viewer.page)).toBeHidden();
    await expect(tile(viewer.page, `${viewer.name} (you)`).getByText('Encrypting')).toBeVisible();
    for (const other of people) {
      if (other === viewer) continue;
      await expectFixtureVideo(viewer.page, other.name, viewer.name);
      await expect(tile(viewer.page, other.name).getByText('Decrypting')).toBeVisible();
    }
  }
}

/** Everyone ends up in one MLS epoch: the same security code on every screen. */
async function expectOneSecurityCode(people: Person[]): Promise<string> {
  let code = '';
  await expect
    .poll(
      async () => {
        const codes = await Promise.all(people.map((p) => readSecurityCode(p.page)));
        code = codes[0]!.code;
        return new Set(codes.map((c) => `${c.code}@${c.epoch}`)).size;
      },
      { message: 'every participant shows the same security code', timeout: 30_000 },
    )
    .toBe(1);
  expect(code).toMatch(/^\d{30}$/);
  return code;
}

test('a participant whose network drops rejoins by itself, with backoff, and media resumes encrypted', async ({
  browser,
}) => {
  const people = await meetingOf(browser, ['Alice', 'Bob']);
  const [alice, bob] = people as [Person, Person];
  await expectEncryptedMeeting(people);
  await expectOneSecurityCode(people);

  alice.network.cut();
  const status = connectionStatus(alice.page);
  await expect(status).toContainText('Connection lost');
  await expect(status).toContainText(/Reconnecting… next try in/);
  // Attempts 1 and 2 fail while the network is down (after about 1 and 2 s): the backoff goes on.
  await expect(status).toContainText('attempt 3', { timeout: 10_000 });
  await expect(alice.page.getByRole('button', { name: 'Try now' })).toBeVisible();
  // The server saw Alice's connection close: she leaves Bob's grid.
  await expect(tile(bob.page, 'Alice')).toBeHidden({ timeout: 5_000 });

  alice.network.restore();
  // No click: the next attempt (4 s after the third failed) brings her back.
  await expect(status).toBeHidden({ timeout: 15_000 });
  await expectEncryptedMeeting(people);
  await expectOneSecurityCode(people);
});

test('a server restart mid-meeting: everyone rejoins by itself and media resumes encrypted', async ({
  browser,
}) => {
  // Three browsers join, the server goes down for several backoff rounds, three rejoin: about twice
  // the phases of one meeting test (~55 s here at a load average of 15).
  test.setTimeout(150_000);
  const people = await meetingOf(browser, ['Alice', 'Bob', 'Carol']);
  await expectEncryptedMeeting(people);
  await expectOneSecurityCode(people);

  await conclave.stop();
  for (const person of people) {
    await expect(connectionStatus(person.page)).toContainText('The server is restarting.');
  }
  // Down long enough for attempts to fail against a closed port.
  for (const person of people) {
    await expect(connectionStatus(person.page)).toContainText('attempt 2', { timeout: 10_000 });
  }
  await conclave.start();

  // The keys first (media cannot be read before they agree), then the pictures.
  await expectOneSecurityCode(people);
  await expectEncryptedMeeting(people);
  // The restarted server really holds the meeting again: one room, three peers, one MLS group.
  const rooms = [...conclave.server.rooms.rooms.values()];
  expect(rooms).toHaveLength(1);
  expect(rooms[0]!.peers.size).toBe(3);
  const keys = conclave.server.keys.snapshot(rooms[0]!.id);
  expect(keys?.members.map((m) => m.userId).sort()).toHaveLength(3);
});

test("the room's mediasoup worker is killed: it is replaced, everyone rejoins, media resumes encrypted", async ({
  browser,
}) => {
  const people = await meetingOf(browser, ['Alice', 'Bob']);
  await expectEncryptedMeeting(people);
  await expectOneSecurityCode(people);
  const [room] = [...conclave.server.rooms.rooms.values()];
  const deadPid = conclave.server.pool.workers[0]!.pid;

  process.kill(deadPid, 'SIGKILL');
  for (const person of people) {
    await expect(connectionStatus(person.page)).toContainText("The meeting's media server restarted.");
  }

  await expectEncryptedMeeting(people);
  await expectOneSecurityCode(people);
  const workers = conclave.server.pool.workers;
  expect(workers.map((w) => w.pid)).not.toContain(deadPid);
  expect(workers.filter((w) => !w.died)).toHaveLength(1);
  const [newRoom] = [...conclave.server.rooms.rooms.values()];
  expect(newRoom).not.toBe(room);
  expect(room!.closed).toBe(true);
  expect(newRoom!.peers.size).toBe(2);
});

test('a participant who vanishes without leaving disappears from the others within the heartbeat bound', async ({
  browser,
}) => {
  const people = await meetingOf(browser, ['Alice', 'Bob', 'Carol']);
  const [alice, bob, carol] = people as [Person, Person, Person];
  for (const viewer of people) {
    for (const other of people) {
      if (other !== viewer) await expect(tile(viewer.page, other.name)).toBeVisible();
    }
  }

  // Carol's tab closes (no Leave): her connections close with it.
  await carol.page.close();
  for (const viewer of [alice, bob]) await expect(tile(viewer.page, 'Carol')).toBeHidden({ timeout: 3_000 });

  // Bob's network vanishes: nothing closes, only the missed heartbeat tells.
  bob.network.blackHole();
  const vanishedAt = Date.now();
  // Polled every 100 ms (toBeHidden backs off to 1 s between looks), so the time measured is the app's.
  await expect
    .poll(() => tile(alice.page, 'Bob').count(), { intervals: [100], timeout: HEARTBEAT_BOUND_MS + 2_000 })
    .toBe(0);
  const goneAfterMs = Date.now() - vanishedAt;
  process.stdout.write(`a vanished participant left the grid after ${goneAfterMs} ms\n`);
  expect(goneAfterMs).toBeLessThan(HEARTBEAT_BOUND_MS + 2_000);
  // Alice is alone in the meeting and its keys: the others were removed from the MLS group.
  await expect.poll(async () => (await readMembers(alice.page)).length, { timeout: 15_000 }).toBe(1);
});

test('chat across a disconnect: a line sent while offline shows as not sent, and Retry delivers it', async ({
  browser,
}) => {
  const people = await meetingOf(browser, ['Alice', 'Bob']);
  const [alice, bob] = people as [Person, Person];
  await expectOneSecurityCode(people);
  await openChat(alice.page);
  await openChat(bob.page);

  await sendChat(bob.page, 'before the outage');
  await expect(ownLine(bob.page, 'before the outage')).toContainText('Sent');
  await expect(messages(alice.page)).toContainText('before the outage');

  alice.network.cut();
  await expect(connectionStatus(alice.page)).toContainText('Reconnecting');
  await sendChat(alice.page, 'written while offline');
  const line = ownLine(alice.page, 'written while offline');
  await expect(line).toContainText('Not sent');
  await expect(line.getByRole('button', { name: 'Retry' })).toBeVisible();

  alice.network.restore();
  await expect(connectionStatus(alice.page)).toBeHidden({ timeout: 15_000 });
  await expectOneSecurityCode(people);
  // What Alice received while connected is still there after the reconnect.
  await expect(messages(alice.page)).toContainText('before the outage');
  await expect(messages(bob.page)).not.toContainText('written while offline');

  await line.getByRole('button', { name: 'Retry' }).click();
  await expect(line).toContainText('Sent');
  await expect(line).not.toContainText('Not sent');
  await expect(messages(bob.page)).toContainText('written while offline');
});

function chatPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Chat' });
}

function messages(page: Page) {
  return chatPanel(page).getByRole('list', { name: 'Messages' });
}

function ownLine(page: Page, text: string) {
  return messages(page).getByRole('listitem').filter({ hasText: text });
}

async function openChat(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Chat' }).click();
  await expect(chatPanel(page)).toBeVisible();
}

async function sendChat(page: Page, text: string): Promise<void> {
  await chatPanel(page).getByRole('textbox', { name: 'Message' }).fill(text);
  await chatPanel(page).getByRole('button', { name: 'Send' }).click();
}

/** The members listed in the "Security code" dialog (one per MLS leaf). */
async function readMembers(page: Page): Promise<string[]> {
  await chooseMoreOption(page, 'Security code');
  const dialog = page.getByRole('dialog', { name: 'Security code' });
  await expect(dialog).toBeVisible();
  const members = await dialog.getByRole('list', { name: 'Members' }).getByRole('listitem').allInnerTexts();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  return members;
}
