// A load run: the server in its own process, sampled once a second; rooms opened through the API
// and split over worker threads (RoomsDriver), which fill them, churn them for a fixed time and
// check that they converged; then the figures as bench metrics.
import type { Metric } from '../metric.ts';
import { ApiClient, deviceAddress } from './apiClient.ts';
import { DriverThreads } from './DriverThreads.ts';
import type { LoadOptions } from './options.ts';
import { ProcessSampler, type ProcessSample } from './processSampler.ts';
import type { DriverResult, DriverSetup, ErrorCount } from './RoomsDriver.ts';
import { ServerProcess } from './serverProcess.ts';
import { MEMORY_GROWTH_RULE, cpuPercent, judgeMemory, percentile, type MemoryVerdict } from './stats.ts';

/** A generator thread whose event loop lags this much no longer measures the server alone. */
const SATURATED_LOOP_DELAY_MS = 200;
/** Devices (loopback addresses) each driver may use: enough for any run's joins. */
const DEVICES_PER_DRIVER = 100_000;

export interface LoadRunOptions extends LoadOptions {
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
  /** CONCLAVE_* settings for the server process. */
  serverEnv?: Record<string, string>;
}

export interface LoadRunResult {
  metrics: Metric[];
  errors: Record<string, ErrorCount>;
  joins: number;
  memory: MemoryVerdict;
}

export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const { log } = options;
  const server = await ServerProcess.start({ env: options.serverEnv });
  const sampler = new ProcessSampler(server.pid);
  sampler.start();
  let threads: DriverThreads | undefined;
  try {
    log(`server ${server.url} (pid ${server.pid}); ${options.threads} generator thread(s)`);
    const invites = await openRooms(server.url, options.rooms);
    threads = new DriverThreads(driverSetups(server.url, invites, options), log);
    await threads.run({ phase: 'ramp' });
    log('ramp done');
    const start = sampler.sample()!;
    const cpuStart = process.cpuUsage();
    await threads.run({ phase: 'churn', seconds: options.seconds });
    const end = sampler.sample()!;
    const generatorCpu = process.cpuUsage(cpuStart);
    await threads.run({ phase: 'settle' });
    const results = await threads.close();
    threads = undefined;
    const errors = mergeErrors(results);
    if (!server.running) addError(errors, 'server:exited', 'the server process exited during the run');
    for (const line of server.errorLines) addError(errors, 'server:error-log', line.slice(0, 300));
    const churnSamples = sampler.samples.filter((s) => s.at >= start.at && s.at <= end.at);
    const memory = judgeMemory(churnSamples);
    logSummary(log, memory, errors);
    const loopDelay = Math.max(...results.map((r) => r.loopDelayP99Ms));
    if (loopDelay > SATURATED_LOOP_DELAY_MS) {
      log(
        `the generator was saturated (event-loop delay p99 ${loopDelay.toFixed(0)} ms): its latencies include ` +
          'its own queueing; give it more cores or lower --churn',
      );
    }
    return {
      metrics: metrics(options, results, errors, { start, end, memory, generatorCpu }),
      errors,
      joins: results.reduce((n, r) => n + r.rampJoins.length + r.churnJoins.length, 0),
      memory,
    };
  } finally {
    sampler.stop();
    await threads?.terminate();
    await server.stop();
  }
}

/**
 * One invite per room: the host invite "New meeting" gives its creator, shared by the room's simulated
 * participants, so that whoever comes first (again, after churn emptied the room) starts the group.
 * Their key clients create it with the lobby off (KeyClient's default): the load is the joins.
 */
async function openRooms(baseUrl: string, rooms: number): Promise<Record<string, string>> {
  const invites: Record<string, string> = {};
  for (let r = 0; r < rooms; r++) {
    const created = await new ApiClient(baseUrl, deviceAddress(r)).createRoom();
    invites[created.room] = created.hostInvite;
  }
  return invites;
}

/** Rooms dealt round robin to the threads; each thread's participants, ramp and churn in proportion. */
function driverSetups(baseUrl: string, invites: Record<string, string>, options: LoadOptions): DriverSetup[] {
  const rooms = Object.keys(invites);
  const perRoom = (r: number) =>
    Math.floor(options.participants / rooms.length) + (r < options.participants % rooms.length ? 1 : 0);
  const threads = Math.min(options.threads, rooms.length);
  return Array.from({ length: threads }, (_, t) => {
    const mine = rooms.map((_, r) => r).filter((r) => r % threads === t);
    const participants = mine.reduce((n, r) => n + perRoom(r), 0);
    const share = participants / options.participants;
    return {
      baseUrl,
      invites: Object.fromEntries(mine.map((r) => [rooms[r]!, invites[rooms[r]!]!])),
      participants,
      rampPerSecond: options.rampPerSecond * share,
      churnPerSecond: options.churn * share,
      firstDevice: (t + 1) * DEVICES_PER_DRIVER,
      seed: 0x10ad + t,
    };
  });
}

function mergeErrors(results: DriverResult[]): Record<string, ErrorCount> {
  const errors: Record<string, ErrorCount> = {};
  for (const r of results) {
    for (const [kind, e] of Object.entries(r.errors)) {
      const known = errors[kind];
      if (known === undefined) errors[kind] = { ...e };
      else known.count += e.count;
    }
  }
  return errors;
}

function addError(errors: Record<string, ErrorCount>, kind: string, example: string): void {
  const known = errors[kind];
  if (known === undefined) errors[kind] = { count: 1, example };
  else known.count += 1;
}

function logSummary(
  log: (line: string) => void,
  memory: MemoryVerdict,
  errors: Record<string, ErrorCount>,
): void {
  const sign = memory.growthMb >= 0 ? '+' : '';
  log(
    `memory: ${memory.startMb.toFixed(1)} MB → ${memory.endMb.toFixed(1)} MB (${sign}${memory.growthMb.toFixed(1)} MB, ` +
      `trend ${memory.slopeMbPerMinute.toFixed(2)} MB/min): ${memory.grew ? 'GREW' : 'no growth'}`,
  );
  log(`  (${MEMORY_GROWTH_RULE})`);
  for (const [kind, e] of Object.entries(errors)) log(`errors ${kind}: ${e.count} (e.g. ${e.example})`);
}

function latency(name: string, values: number[]): Metric[] {
  if (values.length === 0) return [];
  return [
    ...[50, 95, 99].map((p) => ({ metric: `${name}.p${p}`, value: percentile(values, p), unit: 'ms' })),
    { metric: `${name}.max`, value: Math.max(...values), unit: 'ms' },
  ];
}

function metrics(
  options: LoadOptions,
  results: DriverResult[],
  errors: Record<string, ErrorCount>,
  window: { start: ProcessSample; end: ProcessSample; memory: MemoryVerdict; generatorCpu: NodeJS.CpuUsage },
): Metric[] {
  const { start, end, memory, generatorCpu } = window;
  const seconds = (end.at - start.at) / 1000;
  const churnJoins = results.flatMap((r) => r.churnJoins);
  const rampJoins = results.flatMap((r) => r.rampJoins);
  const errorTotal = Object.values(errors).reduce((n, e) => n + e.count, 0);
  return [
    { metric: 'load.rooms', value: options.rooms, unit: 'rooms' },
    {
      metric: 'load.participants_peak',
      value: results.reduce((n, r) => n + r.peak, 0),
      unit: 'participants',
    },
    { metric: 'load.churn_seconds', value: seconds, unit: 's' },
    { metric: 'load.joins', value: rampJoins.length + churnJoins.length, unit: 'joins' },
    { metric: 'load.leaves', value: results.reduce((n, r) => n + r.leaves, 0), unit: 'leaves' },
    ...latency(
      'load.join_ms',
      churnJoins.map((j) => j.totalMs),
    ),
    ...latency(
      'load.join_signaling_ms',
      churnJoins.map((j) => j.signalingMs),
    ),
    ...latency(
      'load.join_mls_ms',
      churnJoins.map((j) => j.mlsMs),
    ),
    ...latency(
      'load.ramp_join_ms',
      rampJoins.map((j) => j.totalMs),
    ),
    ...latency(
      'load.leave_to_removal_ms',
      results.flatMap((r) => r.removals),
    ),
    { metric: 'load.errors', value: errorTotal, unit: 'errors' },
    ...Object.entries(errors).map(([kind, e]) => ({
      metric: `load.errors.${kind}`,
      value: e.count,
      unit: 'errors',
    })),
    { metric: 'load.server_cpu_percent', value: cpuPercent(start, end, 'serverCpu'), unit: '% of a core' },
    { metric: 'load.workers_cpu_percent', value: cpuPercent(start, end, 'workersCpu'), unit: '% of a core' },
    {
      metric: 'load.generator_loop_delay_p99_ms',
      value: Math.max(...results.map((r) => r.loopDelayP99Ms)),
      unit: 'ms',
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
