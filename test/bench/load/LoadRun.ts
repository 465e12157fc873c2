// A load run: the server in its own process, rooms filled by simulated participants at a steady
// ramp, then a fixed time of churn (a random participant leaves, a newcomer takes its place in the
// same room), then a check that every room converged, and the figures as bench metrics.
import { prng } from '../../support/prng.ts';
import type { Metric } from '../metric.ts';
import { ApiClient, deviceAddress } from './apiClient.ts';
import type { LoadOptions } from './options.ts';
import { ProcessSampler, type ProcessSample } from './processSampler.ts';
import { ServerProcess } from './serverProcess.ts';
import { LoadError, SimulatedParticipant, type JoinTimes } from './SimulatedParticipant.ts';
import { MEMORY_GROWTH_RULE, cpuPercent, judgeMemory, percentile } from './stats.ts';

/** How long the remaining members of a room may take to commit and process a leaver's removal. */
const REMOVAL_TIMEOUT_MS = 20_000;
/** How long the rooms may take to agree after the churn stops. */
const SETTLE_TIMEOUT_MS = 20_000;
/** Producers per participant (microphone and camera): each other member consumes both. */
const PRODUCERS = 2;

export interface LoadRunOptions extends LoadOptions {
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
  /** CONCLAVE_* settings for the server process. */
  serverEnv?: Record<string, string>;
}

export class LoadRun {
  readonly #options: LoadRunOptions;
  readonly #errors = new Map<string, { count: number; example: string }>();
  readonly #present = new Set<SimulatedParticipant>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #rampJoins: JoinTimes[] = [];
  readonly #churnJoins: JoinTimes[] = [];
  readonly #removals: number[] = [];
  readonly #random = prng(0x10ad);
  #invites = new Map<string, string>();
  #devices = 0;
  #leaves = 0;
  #peak = 0;
  #phase: 'ramp' | 'churn' | 'settle' = 'ramp';

  constructor(options: LoadRunOptions) {
    this.#options = options;
  }

  async run(): Promise<Metric[]> {
    const { log } = this.#options;
    const server = await ServerProcess.start({ env: this.#options.serverEnv });
    const sampler = new ProcessSampler(server.pid);
    sampler.start();
    try {
      log(`server ${server.url} (pid ${server.pid})`);
      await this.#openRooms(server.url);
      await this.#ramp(server.url);
      log(`ramp done: ${this.#present.size} present, ${this.#errorCount()} errors`);
      this.#phase = 'churn';
      const churnStart = sampler.sample()!;
      const cpuStart = process.cpuUsage();
      await this.#churn(server.url);
      const churnEnd = sampler.sample()!;
      const generatorCpu = process.cpuUsage(cpuStart);
      this.#phase = 'settle';
      await this.#drain();
      await this.#checkConverged();
      const churnSamples = sampler.samples.filter((s) => s.at >= churnStart.at && s.at <= churnEnd.at);
      if (!server.running) this.#error('server:exited', 'the server process exited during the run');
      for (const line of server.errorLines) this.#error('server:error-log', line.slice(0, 200));
      return this.#metrics(churnStart, churnEnd, churnSamples, generatorCpu);
    } finally {
      sampler.stop();
      for (const p of this.#present) p.leave();
      await server.stop();
    }
  }

  get errors(): ReadonlyMap<string, { count: number; example: string }> {
    return this.#errors;
  }

  /** One invite per room, as the meeting's creator would make it ("New meeting"). */
  async #openRooms(baseUrl: string): Promise<void> {
    for (let r = 0; r < this.#options.rooms; r++) {
      const name = `load-room-${String(r).padStart(3, '0')}`;
      const api = new ApiClient(baseUrl, deviceAddress(this.#devices++));
      this.#invites.set(name, (await api.createRoom(name)).invite);
    }
  }

  async #ramp(baseUrl: string): Promise<void> {
    const rooms = [...this.#invites.keys()];
    const interval = 1000 / this.#options.rampPerSecond;
    for (let i = 0; i < this.#options.participants; i++) {
      this.#track(this.#join(baseUrl, rooms[i % rooms.length]!, this.#rampJoins));
      await sleep(interval);
    }
    await this.#drain();
  }

  /** Every 1/churn seconds a random present participant leaves and a newcomer joins its room. */
  async #churn(baseUrl: string): Promise<void> {
    const { seconds, churn, log } = this.#options;
    const end = performance.now() + seconds * 1000;
    const interval = churn > 0 ? 1000 / churn : Infinity;
    let next = performance.now();
    let lastLog = performance.now();
    while (performance.now() < end) {
      next += interval;
      await sleep(Math.min(next, end) - performance.now());
      if (performance.now() >= end) break;
      const leaver = this.#pick();
      if (leaver !== undefined) {
        this.#track(this.#leave(leaver));
        this.#track(this.#join(baseUrl, leaver.room, this.#churnJoins));
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`churn: ${this.#leaves} leaves, ${this.#churnJoins.length} joins, ${this.#errorCount()} errors`);
      }
    }
  }

  async #join(baseUrl: string, room: string, into: JoinTimes[]): Promise<void> {
    const p = new SimulatedParticipant({
      baseUrl,
      room,
      invite: this.#invites.get(room)!,
      device: this.#devices++,
      report: (kind, message) => this.#error(kind, message),
    });
    try {
      const times = await p.join();
      into.push(times);
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

  /** After the churn: each room's members agree on the epoch, its security code and roster, and
   *  each holds a consumer for every other member's two producers. */
  async #checkConverged(): Promise<void> {
    const deadline = performance.now() + SETTLE_TIMEOUT_MS;
    const rooms = [...this.#invites.keys()];
    let problems = rooms.map((r) => this.#roomProblem(r)).filter((p) => p !== undefined);
    while (problems.length > 0 && performance.now() < deadline) {
      await sleep(250);
      problems = rooms.map((r) => this.#roomProblem(r)).filter((p) => p !== undefined);
    }
    for (const [kind, message] of problems) this.#error(kind, message);
  }

  #roomProblem(room: string): [string, string] | undefined {
    const members = [...this.#present].filter((p) => p.room === room);
    if (members.length === 0) return undefined;
    const ids = members.map((p) => p.userId).sort();
    const first = members[0]!.keys;
    for (const p of members) {
      const keys = p.keys;
      if (keys === undefined || first === undefined)
        return ['final:mls-not-in-group', `${room}: a member holds no epoch`];
      if (keys.epoch !== first.epoch || keys.securityCode !== first.securityCode) {
        return ['final:mls-divergence', `${room}: members on different epochs or security codes`];
      }
      const roster = keys.members.map((m) => m.userId).sort();
      if (roster.join() !== ids.join()) {
        return ['final:mls-roster', `${room}: the MLS roster is not the room's participants`];
      }
      if (p.consumers !== PRODUCERS * (members.length - 1)) {
        return [
          'final:consumers',
          `${room}: a member has ${p.consumers} consumers, expected ${PRODUCERS * (members.length - 1)}`,
        ];
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
    const entry = this.#errors.get(kind);
    if (entry === undefined) {
      this.#errors.set(kind, { count: 1, example: message });
      this.#options.log(`error ${kind} (${this.#phase}): ${message}`);
    } else entry.count += 1;
  }

  #errorCount(): number {
    return [...this.#errors.values()].reduce((s, e) => s + e.count, 0);
  }

  #metrics(
    start: ProcessSample,
    end: ProcessSample,
    churnSamples: ProcessSample[],
    generatorCpu: NodeJS.CpuUsage,
  ): Metric[] {
    const { log } = this.#options;
    const memory = judgeMemory(churnSamples);
    const seconds = (end.at - start.at) / 1000;
    log(
      `memory: ${memory.startMb.toFixed(1)} MB → ${memory.endMb.toFixed(1)} MB ` +
        `(${memory.growthMb >= 0 ? '+' : ''}${memory.growthMb.toFixed(1)} MB, trend ${memory.slopeMbPerMinute.toFixed(2)} MB/min): ` +
        `${memory.grew ? 'GREW' : 'no growth'}\n#   (${MEMORY_GROWTH_RULE})`,
    );
    for (const [kind, e] of this.#errors) log(`errors ${kind}: ${e.count} (e.g. ${e.example})`);
    const latency = (name: string, values: number[]): Metric[] =>
      values.length === 0
        ? []
        : [
            ...[50, 95, 99].map((p) => ({
              metric: `${name}.p${p}`,
              value: percentile(values, p),
              unit: 'ms',
            })),
            { metric: `${name}.max`, value: Math.max(...values), unit: 'ms' },
          ];
    const joins = this.#churnJoins;
    return [
      { metric: 'load.rooms', value: this.#options.rooms, unit: 'rooms' },
      { metric: 'load.participants_peak', value: this.#peak, unit: 'participants' },
      { metric: 'load.churn_seconds', value: seconds, unit: 's' },
      { metric: 'load.joins', value: this.#rampJoins.length + joins.length, unit: 'joins' },
      { metric: 'load.leaves', value: this.#leaves, unit: 'leaves' },
      ...latency(
        'load.join_ms',
        joins.map((j) => j.totalMs),
      ),
      ...latency(
        'load.join_signaling_ms',
        joins.map((j) => j.signalingMs),
      ),
      ...latency(
        'load.join_mls_ms',
        joins.map((j) => j.mlsMs),
      ),
      ...latency(
        'load.ramp_join_ms',
        this.#rampJoins.map((j) => j.totalMs),
      ),
      ...latency('load.leave_to_removal_ms', this.#removals),
      { metric: 'load.errors', value: this.#errorCount(), unit: 'errors' },
      ...[...this.#errors].map(([kind, e]) => ({
        metric: `load.errors.${kind}`,
        value: e.count,
        unit: 'errors',
      })),
      { metric: 'load.server_cpu_percent', value: cpuPercent(start, end, 'serverCpu'), unit: '% of a core' },
      {
        metric: 'load.workers_cpu_percent',
        value: cpuPercent(start, end, 'workersCpu'),
        unit: '% of a core',
      },
      {
        metric: 'load.generator_cpu_percent',
        value: ((generatorCpu.user + generatorCpu.system) / 1e6 / seconds) * 100,
        unit: '% of a core',
      },
      { metric: 'load.server_rss_mb', value: end.serverRssMb, unit: 'MB' },
      { metric: 'load.workers_rss_mb', value: end.workersRssMb, unit: 'MB' },
      { metric: 'load.rss_start_mb', value: memory.startMb, unit: 'MB' },
      { metric: 'load.rss_end_mb', value: memory.endMb, unit: 'MB' },
      { metric: 'load.rss_growth_mb', value: memory.growthMb, unit: 'MB' },
      { metric: 'load.rss_slope_mb_per_min', value: memory.slopeMbPerMinute, unit: 'MB/min' },
      { metric: 'load.memory_grew', value: memory.grew ? 1 : 0, unit: 'bool' },
    ];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
