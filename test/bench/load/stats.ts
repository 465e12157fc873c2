// Percentiles, and the memory-growth judgement of a load run.
import type { ProcessSample } from './processSampler.ts';

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** What "no memory growth" means for a run, and whether the run met it. */
export const MEMORY_GROWTH_RULE =
  'no memory growth: over the steady churn phase (population constant, every leave replaced by a join), ' +
  'after a warm-up of its first fifth, the median RSS of the server plus its mediasoup workers in the ' +
  "phase's last fifth is at most 5% above its median in the second fifth (GC and allocator noise stay " +
  'well inside 5%; a per-join leak adds up over hundreds of joins)';
const ALLOWED_GROWTH = 0.05;

export interface MemoryVerdict {
  /** Medians of server + worker RSS in the second and last fifth of the churn phase, MB. */
  startMb: number;
  endMb: number;
  growthMb: number;
  /** Linear trend after the warm-up, MB per minute. */
  slopeMbPerMinute: number;
  grew: boolean;
}

export function judgeMemory(samples: readonly ProcessSample[]): MemoryVerdict {
  const total = (s: ProcessSample) => s.serverRssMb + s.workersRssMb;
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const warm = samples.length > 2 * fifth ? samples.slice(fifth) : samples;
  const startMb = median(warm.slice(0, fifth).map(total));
  const endMb = median(warm.slice(-fifth).map(total));
  const slopeMbPerMinute = slope(warm.map((s) => [s.at / 60_000, total(s)]));
  return {
    startMb,
    endMb,
    growthMb: endMb - startMb,
    slopeMbPerMinute,
    grew: endMb > startMb * (1 + ALLOWED_GROWTH),
  };
}

/** CPU use between two samples, in % of one core. */
export function cpuPercent(
  from: ProcessSample,
  to: ProcessSample,
  which: 'serverCpu' | 'workersCpu',
): number {
  const seconds = (to.at - from.at) / 1000;
  return seconds <= 0 ? 0 : ((to[which] - from[which]) / seconds) * 100;
}
