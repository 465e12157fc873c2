// Meeting latencies in the real app: the real server (SFU, signaling, in-process key service) in
// this process, the built web app, and Debian's Chromium with the fake camera and microphone the
// end-to-end tests use, one browser context per participant. Timings come from the app's own
// performance marks (they carry no data), converted to wall-clock (timeOrigin + startTime):
// - conclave:join               Join clicked;
// - conclave:first-remote-frame a remote tile shows its first decrypted video frame ({peerId});
// - conclave:entered           the page is past the lobby (its keys are in place, or no lobby);
// - conclave:media-joined      its meeting connection is in the SFU room, transports made;
// - conclave:sender-epoch       one of the page's own streams sends its first frame under a new
//                               epoch's key ({epoch, context: 'mic' | 'camera' | 'screen'}).
//
// Metrics, each the median of CONCLAVE_BENCH_RUNS runs (default 5) with .min and .max:
// - meeting.join_to_first_frame_ms: a third participant joins a running two-person meeting, from its
//   conclave:join to its first conclave:first-remote-frame (either participant's); the lobby is on,
//   so this includes the knock and the host's Admit click, made as soon as the card shows;
// - meeting.join_to_all_frames_ms: the same, until it has frames from both;
// - meeting.join_to_mls_commit_ms: the same join, from the Admit click until the host's Add commit
//   reaches the key service
//   (the rest of join_to_first_frame is the others switching keys and sending a key frame);
// - meeting.leave_to_new_epoch_ms: in that three-person meeting the second participant (MLS leaf 1)
//   clicks Leave; from the click (its pointerdown in the page) until both remaining participants'
//   audio and camera senders have each sent under an epoch newer than the one they were in (the
//   latest of those four marks); split, as the in-process key service sees it, into leave → its
//   'remove-request' to the lowest remaining leaf (meeting.leave_to_remove_request_ms), → that
//   member's commit arriving (meeting.remove_request_to_commit_ms), → the last of those four marks
//   (meeting.commit_to_new_epoch_ms: fan-out, processing, key install, first frame under the key).
// - meeting.admit_to_first_frame_ms: Carol waits in the lobby; from Alice's click on "Admit Carol"
//   (its pointerdown) to Carol's first decrypted remote frame (the host's Add and Welcome, Carol's
//   join of the group, the others' key switch and a key frame); split into Admit → Carol past the
//   lobby (meeting.admit_to_entered_ms), → her meeting connection in the SFU room
//   (meeting.entered_to_media_joined_ms), → the first decrypted frame
//   (meeting.media_joined_to_first_frame_ms);
// - meeting.remove_to_cutoff_ms: after Bob left, Alice removes Carol (Remove in the confirmation);
//   from that click to Alice's audio and camera both sending under an epoch without Carol's leaf.
// - meeting.failed_runs: runs abandoned (a step over 30 s, a browser gone); the medians leave them out.
//
// Each run is a new meeting in a freshly launched browser; one server serves them all. The web app
// is built (npm run build) first when web/dist is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { Socket } from 'socket.io';
import type { ConclaveServer } from '../../server/src/ConclaveServer.ts';
import { AUDIO_FIXTURE, VIDEO_FIXTURE, writeMediaFixtures } from '../fixtures/media.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { startInProcessServer } from '../support/inProcessServer.ts';
import { median, type Benchmark, type Metric } from './metric.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGETS = { join: 1500, epoch: 1000, admit: 1500, remove: 1000 };
/** How long any one step may take before the run is abandoned as broken. */
const STEP_TIMEOUT_MS = 30_000;

/** What the web bundle is built from: if any of it is newer than web/dist, the bundle is stale. */
const WEB_SOURCES = [
  'web/src',
  'web/public',
  'web/index.html',
  'web/vite.config.ts',
  'crypto-worker/src',
  'key-service/src',
  'server/src/signaling',
];

function runs(): number {
  const raw = process.env['CONCLAVE_BENCH_RUNS'];
  if (raw === undefined || raw === '') return 5;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`CONCLAVE_BENCH_RUNS must be a positive integer, not ${raw}`);
  return n;
}

function newestMtime(file: string): number {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

function ensureWebBuild(): void {
  const built = fs.statSync(path.join(ROOT, 'web/dist/index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(...WEB_SOURCES.map((p) => newestMtime(path.join(ROOT, p))));
  if (built >= sources) return;
  console.error('# web/dist is missing or older than its sources: npm run build');
  // The build's output goes to stderr: stdout carries only the metric lines.
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
}

function ensureMediaFixtures(): void {
  // Rewritten only when missing: an end-to-end run may be reading them right now.
  if (!fs.existsSync(VIDEO_FIXTURE) || !fs.existsSync(AUDIO_FIXTURE)) writeMediaFixtures();
}

/** Wall-clock ms, comparable with a page's performance.timeOrigin + startTime. */
function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

interface Mark {
  at: number;
  detail: unknown;
}

function marks(page: Page, name: string): Promise<Mark[]> {
  return page.evaluate(
    (n) =>
      performance
        .getEntriesByName(n, 'mark')
        .map((e) => ({ at: performance.timeOrigin + e.startTime, detail: (e as PerformanceMark).detail })),
    name,
  );
}

/** Polls `read` until it returns a value, or fails naming `what`. */
async function poll<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${STEP_TIMEOUT_MS} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** When the page last made the mark `name` (wall-clock ms); a run without it is broken. */
async function lastMark(page: Page, name: string): Promise<number> {
  const found = await marks(page, name);
  if (found.length === 0) throw new Error(`the page made no ${name} mark`);
  return found.at(-1)!.at;
}

/** When each remote peer's first decrypted frame showed (peerId → wall-clock ms). */
async function firstFrames(page: Page): Promise<Map<string, number>> {
  const frames = new Map<string, number>();
  for (const m of await marks(page, 'conclave:first-remote-frame')) {
    const peerId = (m.detail as { peerId?: unknown } | null)?.peerId;
    if (typeof peerId !== 'string') continue;
    frames.set(peerId, Math.min(frames.get(peerId) ?? Infinity, m.at));
  }
  return frames;
}

type SenderContext = 'mic' | 'camera';
const SENDERS: SenderContext[] = ['mic', 'camera'];
const LEAVE_KEY = 'conclave-bench-leave-at';

async function senderEpochs(page: Page): Promise<Array<{ at: number; epoch: number; context: string }>> {
  return (await marks(page, 'conclave:sender-epoch')).flatMap((m) => {
    const d = m.detail as { epoch?: unknown; context?: unknown } | null;
    return typeof d?.epoch === 'number' && typeof d.context === 'string'
      ? [{ at: m.at, epoch: d.epoch, context: d.context }]
      : [];
  });
}

/** The epoch a page's audio and camera both send under, once they agree. */
async function sendingEpoch(page: Page): Promise<number | undefined> {
  const marks = await senderEpochs(page);
  const latest = SENDERS.map((c) =>
    Math.max(-1, ...marks.filter((m) => m.context === c).map((m) => m.epoch)),
  );
  return latest[0]! >= 0 && latest.every((e) => e === latest[0]) ? latest[0] : undefined;
}

class Participant {
  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, name: string): Promise<Participant> {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`# [${name} console.error] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`# [${name} exception] ${e.message}`));
    page.on('crash', () => console.error(`# [${name}] the page crashed`));
    return new Participant(name, context, page);
  }

  /** Home page → New meeting; the pre-join page's invite link. */
  async createMeeting(baseUrl: string): Promise<string> {
    await this.page.goto(`${baseUrl}/`);
    await this.page.getByRole('button', { name: 'New meeting' }).click();
    const link = this.page.getByRole('textbox', { name: 'Invite link' });
    return poll('the invite link', async () => {
      const value = await link.inputValue();
      return /\/r\/[^#]+#t=/.test(value) ? value : undefined;
    });
  }

  async openPreJoin(link: string): Promise<void> {
    await this.page.goto(link);
    await this.page.getByRole('textbox', { name: 'Your name' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  /** Fills in the name and clicks Join; resolves once the click is done (not once joined). */
  async clickJoin(): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Your name' }).fill(this.name);
    await this.page.getByRole('button', { name: 'Join' }).click();
  }

  async joined(): Promise<void> {
    await this.page
      .getByRole('group', { name: `${this.name} (you)` })
      .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/**
 * Clicks Leave; returns the wall-clock time of the click's pointerdown as the page saw it, which
 * leaves out Playwright's own actionability checks and round trips. The page navigates away on
 * Leave, so the time is kept in sessionStorage and read back from the next document.
 */
async function clickLeave(page: Page): Promise<number> {
  // (No named functions inside: tsx would wrap them in a helper the page does not have.)
  await page.evaluate((key) => {
    document.addEventListener(
      'pointerdown',
      (e) => sessionStorage.setItem(key, String(performance.timeOrigin + e.timeStamp)),
      { capture: true, once: true },
    );
  }, LEAVE_KEY);
  const beforeClick = wallNow();
  await page.getByRole('button', { name: 'Leave' }).click();
  await page.waitForURL((url) => url.pathname === '/', { timeout: STEP_TIMEOUT_MS });
  const at = Number(await page.evaluate((key) => sessionStorage.getItem(key), LEAVE_KEY));
  if (!(at >= beforeClick)) throw new Error('the Leave click was not recorded');
  return at;
}

/** Clicks `locator`; the wall-clock time of its pointerdown in the page (as clickLeave). */
async function clickAt(page: Page, locator: ReturnType<Page['getByRole']>): Promise<number> {
  const key = 'conclave-bench-click-at';
  await page.evaluate((k) => {
    sessionStorage.removeItem(k);
    document.addEventListener(
      'pointerdown',
      (e) => sessionStorage.setItem(k, String(performance.timeOrigin + e.timeStamp)),
      { capture: true, once: true },
    );
  }, key);
  await locator.click({ timeout: STEP_TIMEOUT_MS });
  const at = Number(await page.evaluate((k) => sessionStorage.getItem(k), key));
  if (!(at > 0)) throw new Error('the click was not recorded');
  return at;
}

/** The host admits `name` from the lobby card; returns the click's time. */
async function admit(host: Page, name: string): Promise<number> {
  return clickAt(
    host,
    host.getByRole('region', { name: 'Waiting to join' }).getByRole('button', { name: `Admit ${name}` }),
  );
}

interface RunResult {
  /** Admit clicked → the admitted person's first decrypted frame, and where that time went. */
  admitToFirst: number;
  admitToEntered: number;
  enteredToMediaJoined: number;
  mediaJoinedToFirst: number;
  /** Remove confirmed → the host's senders on an epoch without the removed leaf. */
  removeToCutoff: number;
  joinToFirst: number;
  joinToAll: number;
  /** Admit clicked → the host's Add commit reaching the key service. */
  joinToCommit: number;
  leaveToEpoch: number;
  /** Where the leave's time went, seen from the key service in this process. */
  leaveToRemoveRequest: number;
  removeRequestToCommit: number;
  commitToEpoch: number;
  /** How many members the key service asked to commit the removal (more than one: a handover). */
  removeRequests: number;
}

/**
 * Watches the in-process key service's sockets (socket.io's public any-listeners): when it asks a
 * member to commit a removal (outgoing 'remove-request') and when a member's commit arrives.
 */
class KeyServiceTap {
  readonly #events: Array<{ at: number; name: string }> = [];

  constructor(server: ConclaveServer) {
    server.keys.namespace.on('connection', (socket: Socket) => {
      socket.onAnyOutgoing((name: string) => this.#events.push({ at: wallNow(), name: `out:${name}` }));
      socket.onAny((name: string) => this.#events.push({ at: wallNow(), name: `in:${name}` }));
    });
  }

  /** The first such event after `since`. */
  first(name: string, since: number): number | undefined {
    return this.#events.find((e) => e.name === name && e.at >= since)?.at;
  }

  count(name: string, from: number, to: number): number {
    return this.#events.filter((e) => e.name === name && e.at >= from && e.at <= to).length;
  }
}

async function oneRun(browser: Browser, baseUrl: string, tap: KeyServiceTap): Promise<RunResult> {
  const people: Participant[] = [];
  try {
    const open = async (name: string) => {
      const p = await Participant.open(browser, name);
      people.push(p);
      return p;
    };
    const a = await open('Alice');
    const b = await open('Bob');
    const c = await open('Carol');

    // A running two-person meeting: Alice creates it, Bob joins, each sees the other's picture.
    const link = await a.createMeeting(baseUrl);
    await a.clickJoin();
    await a.joined();
    await b.openPreJoin(link);
    await b.clickJoin();
    await admit(a.page, 'Bob');
    await b.joined();
    for (const p of [a, b]) {
      await poll(`${p.name} seeing a remote frame`, async () =>
        (await firstFrames(p.page)).size >= 1 ? true : undefined,
      );
    }

    // Carol joins it: from her Join to the first remote frame, and to frames from both.
    await c.openPreJoin(link);
    await c.clickJoin();
    const admittedAt = await admit(a.page, 'Carol');
    const frames = await poll('Carol seeing frames from both others', async () => {
      const f = await firstFrames(c.page);
      return f.size >= 2 ? f : undefined;
    });
    const joinMarks = await marks(c.page, 'conclave:join');
    if (joinMarks.length !== 1) throw new Error(`expected one conclave:join mark, found ${joinMarks.length}`);
    const joinAt = joinMarks[0]!.at;
    const joinToFirst = Math.min(...frames.values()) - joinAt;
    const joinToAll = Math.max(...frames.values()) - joinAt;
    const enteredAt = await lastMark(c.page, 'conclave:entered');
    const mediaJoinedAt = await lastMark(c.page, 'conclave:media-joined');
    const joinCommit = tap.first('in:commit', admittedAt);
    if (joinCommit === undefined) throw new Error("the key service saw no commit after Carol's join");

    // A settled three-person meeting: everyone sees everyone, every sender on the same epoch.
    for (const p of [a, b]) {
      await poll(`${p.name} seeing frames from both others`, async () =>
        (await firstFrames(p.page)).size >= 2 ? true : undefined,
      );
    }
    const epoch = await poll('all three sending under the same epoch', async () => {
      const epochs = await Promise.all([a, b, c].map((p) => sendingEpoch(p.page)));
      return epochs.every((e) => e !== undefined && e === epochs[0]) ? epochs[0] : undefined;
    });

    // Bob (leaf 1) leaves; Alice (leaf 0) is asked to commit his removal, Carol processes it.
    const remaining = [a, c];
    const leftAt = await clickLeave(b.page);
    const newEpochAt = await poll('the remaining senders on a new epoch', async () => {
      const firsts: number[] = [];
      for (const p of remaining) {
        const sent = await senderEpochs(p.page);
        for (const context of SENDERS) {
          const newer = sent.filter((m) => m.context === context && m.epoch > epoch).map((m) => m.at);
          if (newer.length === 0) return undefined;
          firsts.push(Math.min(...newer));
        }
      }
      return Math.max(...firsts);
    });
    const asked = tap.first('out:remove-request', leftAt);
    const committed = asked === undefined ? undefined : tap.first('in:commit', asked);
    if (asked === undefined || committed === undefined)
      throw new Error('the key service saw no remove-request and commit after the leave');

    // Alice removes Carol, who is still here: until Alice's senders use an epoch without her.
    const before = await poll('Alice sending under one epoch', () => sendingEpoch(a.page));
    const panel = a.page.getByRole('complementary', { name: 'Participants' });
    if (!(await panel.isVisible())) await a.page.getByRole('button', { name: 'Participants' }).click();
    await panel.getByRole('button', { name: 'Remove Carol' }).click({ timeout: STEP_TIMEOUT_MS });
    const removedAt = await clickAt(
      a.page,
      a.page
        .getByRole('dialog', { name: 'Remove Carol?' })
        .getByRole('button', { name: 'Remove', exact: true }),
    );
    const cutoffAt = await poll('Alice sending under the epoch without Carol', async () => {
      const sent = await senderEpochs(a.page);
      const firsts = SENDERS.map((context) =>
        Math.min(...sent.filter((m) => m.context === context && m.epoch > before).map((m) => m.at)),
      );
      return firsts.every(Number.isFinite) ? Math.max(...firsts) : undefined;
    });
    return {
      admitToFirst: Math.min(...frames.values()) - admittedAt,
      admitToEntered: enteredAt - admittedAt,
      enteredToMediaJoined: mediaJoinedAt - enteredAt,
      mediaJoinedToFirst: Math.min(...frames.values()) - mediaJoinedAt,
      removeToCutoff: cutoffAt - removedAt,
      joinToFirst,
      joinToAll,
      joinToCommit: joinCommit - admittedAt,
      leaveToEpoch: newEpochAt - leftAt,
      leaveToRemoveRequest: asked - leftAt,
      removeRequestToCommit: committed - asked,
      commitToEpoch: newEpochAt - committed,
      removeRequests: tap.count('out:remove-request', leftAt, committed),
    };
  } finally {
    for (const p of people) await p.close().catch(() => undefined);
  }
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

function describeRun(r: RunResult): string {
  return (
    `join→first frame ${ms(r.joinToFirst)}, join→all frames ${ms(r.joinToAll)} ` +
    `(join→MLS commit in ${ms(r.joinToCommit)}), leave→new epoch ${ms(r.leaveToEpoch)} ` +
    `(leave→remove-request ${ms(r.leaveToRemoveRequest)}, →commit in ${ms(r.removeRequestToCommit)}, ` +
    `→senders on new epoch ${ms(r.commitToEpoch)}; ${r.removeRequests} member(s) asked to commit), ` +
    `admit→first frame ${ms(r.admitToFirst)} (→past the lobby ${ms(r.admitToEntered)}, ` +
    `→in the SFU room ${ms(r.enteredToMediaJoined)}, →first frame ${ms(r.mediaJoinedToFirst)}), ` +
    `remove→cut off ${ms(r.removeToCutoff)}`
  );
}

/** Reported metrics: name, the run's figure, and the target printed next to the median. */
const SUMMARIES: Array<[string, Exclude<keyof RunResult, 'removeRequests'>, number | undefined]> = [
  ['meeting.join_to_first_frame_ms', 'joinToFirst', TARGETS.join],
  ['meeting.join_to_all_frames_ms', 'joinToAll', undefined],
  ['meeting.join_to_mls_commit_ms', 'joinToCommit', undefined],
  ['meeting.leave_to_new_epoch_ms', 'leaveToEpoch', TARGETS.epoch],
  ['meeting.leave_to_remove_request_ms', 'leaveToRemoveRequest', undefined],
  ['meeting.remove_request_to_commit_ms', 'removeRequestToCommit', undefined],
  ['meeting.commit_to_new_epoch_ms', 'commitToEpoch', undefined],
  ['meeting.admit_to_first_frame_ms', 'admitToFirst', TARGETS.admit],
  ['meeting.admit_to_entered_ms', 'admitToEntered', undefined],
  ['meeting.entered_to_media_joined_ms', 'enteredToMediaJoined', undefined],
  ['meeting.media_joined_to_first_frame_ms', 'mediaJoinedToFirst', undefined],
  ['meeting.remove_to_cutoff_ms', 'removeToCutoff', TARGETS.remove],
];

function summary(metric: string, values: number[], target?: number): Metric[] {
  const med = median(values);
  const verdict = target === undefined ? '' : `  target ≤ ${target} ms: ${med <= target ? 'met' : 'MISSED'}`;
  console.error(
    `# ${metric}: median ${med.toFixed(0)} ms, min ${Math.min(...values).toFixed(0)}, ` +
      `max ${Math.max(...values).toFixed(0)} over ${values.length} runs${verdict}`,
  );
  return [
    { metric, value: med, unit: 'ms' },
    { metric: `${metric}.min`, value: Math.min(...values), unit: 'ms' },
    { metric: `${metric}.max`, value: Math.max(...values), unit: 'ms' },
  ];
}

const benchmark: Benchmark = {
  name: 'Meeting: join to first decrypted frame, leave to new epoch (real server, Chromium, fake media)',
  reproduce:
    'npm run bench -- meeting (CONCLAVE_BENCH_RUNS=5 by default; builds web/dist first when stale; ' +
    'Debian Chromium at /usr/bin/chromium or CONCLAVE_CHROMIUM; alone on the machine: 3 browsers encode video)',
  async run() {
    const n = runs();
    ensureWebBuild();
    ensureMediaFixtures();
    const conclave = await startInProcessServer();
    const { server } = conclave;
    try {
      console.error(`# server ${server.url}, ${n} runs, a fresh Chromium for each`);
      const tap = new KeyServiceTap(server);
      const results: RunResult[] = [];
      let failed = 0;
      for (let i = 1; i <= n; i++) {
        // A fresh browser per run: nothing carries over, and a browser that dies costs one run only.
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
        try {
          if (i === 1) console.error(`# Chromium ${browser.version()}`);
          const r = await oneRun(browser, server.url, tap);
          console.error(`# run ${i}/${n}: ${describeRun(r)}`);
          results.push(r);
        } catch (error) {
          failed += 1;
          console.error(`# run ${i}/${n} FAILED: ${(error as Error).message.split('\n')[0]}`);
        } finally {
          await browser.close().catch(() => undefined);
        }
      }
      if (results.length === 0) throw new Error(`all ${n} runs failed`);
      return [
        ...SUMMARIES.flatMap(([metric, key, target]) =>
          summary(
            metric,
            results.map((r) => r[key]),
            target,
          ),
        ),
        { metric: 'meeting.failed_runs', value: failed, unit: 'runs' },
      ];
    } finally {
      await conclave.close();
    }
  },
};

export default benchmark;
