// The load run's figures (test/bench/load/stats.ts): nearest-rank percentiles, and what counts as
// memory growth over the churn phase.
import { describe, expect, it } from 'vitest';
import type { ProcessSample } from '../../bench/load/processSampler.ts';
import { cpuPercent, judgeMemory, percentile } from '../../bench/load/stats.ts';

function samples(rssMb: (i: number) => number, count = 100): ProcessSample[] {
  return Array.from({ length: count }, (_, i) => ({
    at: i * 1000,
    serverCpu: i * 0.5,
    workersCpu: i * 0.1,
    serverRssMb: rssMb(i),
    workersRssMb: 50,
    workers: 2,
  }));
}

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('judgeMemory', () => {
  it('calls a flat run with GC noise no growth', () => {
    const verdict = judgeMemory(samples((i) => 200 + (i % 7) * 1.5));
    expect(verdict.grew).toBe(false);
    expect(Math.abs(verdict.slopeMbPerMinute)).toBeLessThan(1);
  });

  it('leaves the warm-up (first fifth) out', () => {
    const verdict = judgeMemory(samples((i) => (i < 20 ? 100 + i * 5 : 200)));
    expect(verdict.startMb).toBe(250);
    expect(verdict.grew).toBe(false);
  });

  it('calls a steady climb of more than 5% growth, with its trend per minute', () => {
    // 0.3 MB a second: +18 MB/min; the last fifth's median is 18 MB (7%) above the second fifth's.
    const verdict = judgeMemory(samples((i) => 200 + i * 0.3));
    expect(verdict.grew).toBe(true);
    expect(verdict.slopeMbPerMinute).toBeCloseTo(18, 5);
    expect(verdict.growthMb).toBeCloseTo(18, 5);
  });

  it('tolerates growth up to 5%', () => {
    // 0.2 MB a second: 12 MB (4.7%) between the second and the last fifth.
    const verdict = judgeMemory(samples((i) => 200 + i * 0.2));
    expect(verdict.growthMb).toBeCloseTo(12, 5);
    expect(verdict.grew).toBe(false);
  });
});

describe('cpuPercent', () => {
  it('is CPU seconds over wall seconds, in % of one core', () => {
    const run = samples(() => 1);
    const [first, last] = [run[0]!, run[99]!];
    expect(cpuPercent(first, last, 'serverCpu')).toBeCloseTo(50);
    expect(cpuPercent(first, last, 'workersCpu')).toBeCloseTo(10);
  });
});
