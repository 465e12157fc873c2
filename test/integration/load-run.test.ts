// The load generator (npm run load) at a tiny scale, so CI runs the whole script: the server in its
// own process, simulated participants joining through the HTTP API, signaling and the real key
// service from worker threads, churn, and the convergence check at the end.
import { describe, expect, it } from 'vitest';
import { runLoad } from '../bench/load/LoadRun.ts';

describe('npm run load, briefly', () => {
  it('fills 2 rooms with 3 participants each, churns for 5 s, with every join completed and no error', async () => {
    const lines: string[] = [];
    const result = await runLoad({
      rooms: 2,
      participants: 6,
      seconds: 5,
      churn: 1,
      rampPerSecond: 6,
      threads: 2,
      log: (line) => lines.push(line),
    });
    const metric = (name: string) => result.metrics.find((m) => m.metric === name)?.value;

    expect(result.errors).toEqual({});
    expect(metric('load.errors')).toBe(0);
    expect(metric('load.participants_peak')).toBe(6);
    // Every leave was replaced by a join that completed: the 6 of the ramp plus one per leave.
    const leaves = metric('load.leaves')!;
    expect(leaves).toBeGreaterThanOrEqual(3);
    expect(result.joins).toBe(6 + leaves);
    expect(metric('load.joins')).toBe(6 + leaves);
    // Each figure the report promises is there, and plausible.
    for (const name of ['load.join_ms', 'load.leave_to_removal_ms']) {
      expect(metric(`${name}.p50`)).toBeGreaterThan(0);
      expect(metric(`${name}.max`)).toBeGreaterThanOrEqual(metric(`${name}.p99`)!);
    }
    expect(metric('load.server_rss_mb')).toBeGreaterThan(10);
    expect(metric('load.workers_rss_mb')).toBeGreaterThan(1);
    expect(metric('load.memory_grew')).toBeTypeOf('number');
  }, 120_000);
});
