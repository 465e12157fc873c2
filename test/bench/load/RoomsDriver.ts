// Drives a set of rooms through a load run's phases: fill them at a steady ramp, churn for a fixed
// time (a random participant leaves, a newcomer takes its place in the same room), then check that
// every room converged. A run splits its rooms over several drivers, one per worker thread, since
// the simulated participants' MLS crypto is the load generator's main cost.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { prng } from '../../support/prng.ts';
import { LoadError, SimulatedParticipant, type JoinTimes } from './SimulatedParticipant.ts';

/** How long the remaining members of a room may take to commit and process a leaver's removal. */
const REMOVAL_TIMEOUT_MS = 20_000;
/** How long the rooms may take to agree after the churn stops. */
const SETTLE_TIMEOUT_MS = 20_000;
/** Producers per participant (microphone and camera): each other member consumes both. */
const PRODUCERS = 2;

export interface DriverSetup {
  baseUrl: string;
  /** room → invite */
  invites: Record<string, string>;
  participants: number;
  rampPerSecond: number;
  churnPerSecond: number;
  /** First device number of this driver: every participant has its own loopback address. */
  firstDevice: number;
  seed: number;
}

export interface ErrorCount {
  count: number;
  example: string;
}

export interface DriverResult {
  rampJoins: JoinTimes[];
  churnJoins: JoinTimes[];
  removals: number[];
  /** This thread's event-loop delay during the churn (ms): high means the generator itself is the
   *  bottleneck, and its latencies include its own queueing. */
  loopDelayP99Ms: number;
  leaves: number;
  peak: number;
  errors: Record<string, ErrorCount>;
}

export class RoomsDriver {
  readonly #setup: DriverSetup;
  readonly #log: (line: string) => void;
  readonly #errors: Record<string, ErrorCount> = {};
  readonly #present = new Set<SimulatedParticipant>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #rampJoins: JoinTimes[] = [];
  readonly #churnJoins: JoinTimes[] = [];
  readonly #removals: number[] = [];
  readonly #random: () => number;
  #devices: number;
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });
  #leaves = 0;
  #peak = 0;
  #phase = 'ramp';

  constructor(setup: DriverSetup, log: (line: string) => void) {
    this.#setup = setup;
    this.#log = log;
    this.#random = prng(setup.seed);
    this.#devices = setup.firstDevice;
  }

  get result(): DriverResult {
    return {
      rampJoins: this.#rampJoins,
      churnJoins: this.#churnJoins,
      removals: this.#removals,
      loopDelayP99Ms: this.#loopDelay.count > 0 ? this.#loopDelay.percentile(99) / 1e6 : 0,
      leaves: this.#leaves,
      peak: this.#peak,
      errors: this.#errors,
    };
  }

  async ramp(): Promise<void> {
    const rooms = Object.keys(this.#setup.invites);
    const interval = 1000 / this.#setup.rampPerSecond;
    let next = performance.now();
    for (let i = 0; i < this.#setup.participants; i++) {
      this.#track(this.#join(rooms[i % rooms.length]!, this.#rampJoins));
      next += interval;
      await sleep(next - performance.now());
    }
    await this.#drain();
  }

  /** Every 1/churn seconds a random present participant leaves and a newcomer joins its room. */
  async churn(seconds: number): Promise<void> {
    this.#phase = 'churn';
    this.#loopDelay.enable();
    const end = performance.now() + seconds * 1000;
    const interval = this.#setup.churnPerSecond > 0 ? 1000 / this.#setup.churnPerSecond : Infinity;
    // Drivers start together: a random first offset keeps their leaves from coinciding.
    let next = performance.now() + (this.#random() % 1000) * (Math.min(interval, 10_000) / 1000);
    for (;;) {
      await sleep(Math.min(next, end) - performance.now());
      if (performance.now() >= end) break;
      next += interval;
      const leaver = this.#pick();
      if (leaver === undefined) continue;
      this.#track(this.#leave(leaver));
      this.#track(this.#join(leaver.room, this.#churnJoins));
    }
    this.#loopDelay.disable();
  }

  /** Waits for joins and removals in flight, then checks that every room converged. */
  async settle(): Promise<void> {
    this.#phase = 'settle';
    await this.#drain();
    const deadline = performance.now() + SETTLE_TIMEOUT_MS;
    const rooms = Object.keys(this.#setup.invites);
    const problems = () => rooms.map((r) => this.#roomProblem(r)).filter((p) => p !== undefined);
    let found = problems();
    while (found.length > 0 && performance.now() < deadline) {
      await sleep(250);
      found = problems();
    }
    for (const [kind, message] of found) this.#error(kind, message);
  }

  close(): void {
    for (const p of this.#present) p.leave();
    this.#present.clear();
  }

  async #join(room: string, into: JoinTimes[]): Promise<void> {
    const p = new SimulatedParticipant({
      baseUrl: this.#setup.baseUrl,
      room,
      invite: this.#setup.invites[room]!,
      device: this.#devices++,
      report: (kind, message) => this.#error(kind, message),
    });
    try {
      into.push(await p.join());
      this.#present.add(p);
      this.#peak = Math.max(this.#peak, this.#present.size);
    } catch (error) {
      p.leave();
      this.#error(error instanceof LoadError ? error.kind : 'join:error', (error as Error).message);
    }
  }

  /** The leaver goes; every remaining member of its room must reach an epoch without it. */
  async #leave(leaver: SimulatedParticipant): Promise<void> {
    this.#present.delete(leaver);
    const remaining = [...this.#present].filter((p) => p.room === leaver.room);
    const gone = leaver.userId;
    const t0 = performance.now();
    leaver.leave();
    this.#leaves += 1;
    const results = await Promise.all(
      remaining.map(async (p) => ({
        p,
        ok: await p.waitForEpoch((k) => !k.members.some((m) => m.userId === gone), REMOVAL_TIMEOUT_MS),
      })),
    );
    const stuck = results.filter((r) => !r.ok && !r.p.left);
    if (stuck.length > 0) {
      this.#error(
        'mls:removal-timeout',
        `${stuck.length} member(s) still had the leaver after ${REMOVAL_TIMEOUT_MS} ms`,
      );
    } else if (remaining.length > 0) {
      this.#removals.push(performance.now() - t0);
    }
  }

  /** Each room's members agree on the epoch, its security code and roster, and each holds a
   *  consumer for every other member's two producers. */
  #roomProblem(room: string): [string, string] | undefined {
    const members = [...this.#present].filter((p) => p.room === room);
    const ids = members.map((p) => p.userId).sort();
    const first = members[0]?.keys;
    for (const p of members) {
      const keys = p.keys;
      if (keys === undefined || first === undefined) {
        return ['final:mls-not-in-group', `${room}: a member holds no epoch`];
      }
      if (keys.epoch !== first.epoch || keys.securityCode !== first.securityCode) {
        return ['final:mls-divergence', `${room}: members on different epochs or security codes`];
      }
      if (
        keys.members
          .map((m) => m.userId)
          .sort()
          .join() !== ids.join()
      ) {
        return ['final:mls-roster', `${room}: the MLS roster is not the room's participants`];
      }
      const expected = PRODUCERS * (members.length - 1);
      if (p.consumers !== expected) {
        return ['final:consumers', `${room}: a member has ${p.consumers} consumers, expected ${expected}`];
      }
    }
    return undefined;
  }

  #pick(): SimulatedParticipant | undefined {
    const present = [...this.#present];
    return present.length === 0 ? undefined : present[this.#random() % present.length];
  }

  #track(task: Promise<unknown>): void {
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #error(kind: string, message: string): void {
    const entry = this.#errors[kind];
    if (entry !== undefined) {
      entry.count += 1;
      return;
    }
    this.#errors[kind] = { count: 1, example: message };
    this.#log(`error ${kind} (${this.#phase}): ${message}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
