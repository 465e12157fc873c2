// A join storm into one room: a host's meeting, then `joins` people joining at random moments within
// `seconds` (seeded), each with the real KeyClient (external commit, in turn, through the standalone
// key service process). Join latency is from the KeyClient's start (connect, sync, wait for the
// turn, build and send the external commit, hold the epoch) to holding the group's keys.
//
// The generator runs every joiner's MLS on node:crypto (nodeCryptoProvider.ts) and keeps only the
// host and `full` sampled joiners processing every later commit, in a worker thread of their own
// (fullMembersThread.ts: the other core); the others go passive after joining (RoomMember.ts says
// why). At the end the key service's epoch must be `joins` and every full member must hold it with
// one security code.
import { nodeCryptoProvider } from '../load/nodeCryptoProvider.ts';
import { percentile } from '../load/stats.ts';
import { ProcessSampler } from '../load/processSampler.ts';
import { prng } from '../../support/prng.ts';
import type { Metric } from '../metric.ts';
import type { KeyServiceProcess } from './keyServiceProcess.ts';
import { FullMembers } from './FullMembers.ts';
import { RoomMember, type MemberContext } from './RoomMember.ts';

export interface StormOptions {
  joins: number;
  seconds: number;
  /** Joiners (besides the host) that keep processing every commit, evenly spread over the storm. */
  full: number;
  seed: number;
  log: (line: string) => void;
}

const CONVERGE_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runJoinStorm(service: KeyServiceProcess, options: StormOptions): Promise<Metric[]> {
  const { joins, seconds, log } = options;
  const errors = new Map<string, number>();
  const report = (kind: string, message: string) => {
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
    if ((errors.get(kind) ?? 0) <= 3) log(`error ${kind}: ${message}`);
  };
  const room = 'storm-room';
  const ctx: MemberContext = {
    url: service.url,
    room,
    mintToken: (sub, host) => service.tokens.mintSession({ room, sub, name: sub, host }),
    report,
  };
  const fullMembers = new FullMembers({ url: service.url, room, secret: service.secret }, report);
  await fullMembers.join(0, true); // the host creates the group
  const full = new Set(
    Array.from({ length: options.full }, (_, k) => Math.floor((k * joins) / options.full)),
  );
  const passive = await Promise.all(
    Array.from({ length: joins }, (_, i) => (full.has(i) ? undefined : RoomMember.connect(ctx, i + 1))),
  );
  const probe = await RoomMember.connect(ctx, joins + 1);
  const random = prng(options.seed);
  const startAt = passive.map(() => (random() / 2 ** 32) * seconds * 1000);

  const sampler = new ProcessSampler(service.pid);
  sampler.start(500);
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const latencies: number[] = [];
  await Promise.all(
    passive.map(async (member, i) => {
      await sleep(startAt[i]! - (performance.now() - t0));
      try {
        latencies.push(
          await (member === undefined ? fullMembers.join(i + 1) : member.join(nodeCryptoProvider)),
        );
      } catch (error) {
        report(`join:${(error as { code?: string }).code ?? 'error'}`, (error as Error).message);
      }
      member?.goPassive();
    }),
  );
  const stormMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const serviceSample = sampler.sample();
  sampler.stop();
  const first = sampler.samples[0];

  const serviceEpoch = await probe.serviceEpoch();
  const converged =
    serviceEpoch === joins
      ? await fullMembers.disagreement(joins, CONVERGE_TIMEOUT_MS)
      : `the key service is at epoch ${serviceEpoch}, not ${joins}`;
  if (converged !== undefined) report('converge', converged);
  for (const m of [probe, ...passive]) m?.close();
  await fullMembers.close();

  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  log(
    `storm: ${latencies.length}/${joins} joined in ${(stormMs / 1000).toFixed(1)} s; join p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
      `p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; ${errorCount} errors` +
      (errorCount > 0 ? ` (${JSON.stringify(Object.fromEntries(errors))})` : ''),
  );
  const seconds_ = stormMs / 1000;
  const serviceCpu =
    first === undefined || serviceSample === undefined
      ? NaN
      : ((serviceSample.serverCpu - first.serverCpu) / seconds_) * 100;
  return [
    { metric: 'large.join_storm.p50_ms', value: percentile(latencies, 50), unit: 'ms' },
    { metric: 'large.join_storm.p95_ms', value: percentile(latencies, 95), unit: 'ms' },
    { metric: 'large.join_storm.max_ms', value: Math.max(...latencies), unit: 'ms' },
    { metric: 'large.join_storm.joined', value: latencies.length, unit: 'joins' },
    { metric: 'large.join_storm.errors', value: errorCount, unit: 'errors' },
    { metric: 'large.join_storm.duration_ms', value: stormMs, unit: 'ms' },
    { metric: 'large.join_storm.key_service_cpu_percent', value: serviceCpu, unit: '% of a core' },
    {
      metric: 'large.join_storm.generator_cpu_percent',
      value: ((cpu.user + cpu.system) / 1000 / stormMs) * 100,
      unit: '% of a core',
    },
  ];
}
