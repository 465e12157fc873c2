// Timing benchmarks need the machine to themselves; say so when it is busy.
import os from 'node:os';

/** Prints the load average to stderr, with a warning when other work is running. */
export function noteMachineLoad(when: string): void {
  const [one] = os.loadavg();
  const cores = os.availableParallelism();
  const busy = (one ?? 0) > 0.5 * cores;
  console.error(
    `# ${when}: load average ${one?.toFixed(2)} on ${cores} cores${busy ? ' — busy: per-frame timings will be noisy' : ''}`,
  );
}
