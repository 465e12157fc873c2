// mediasoup workers at scrape time: how many are live, and the CPU time and peak memory of each
// worker process (worker.getResourceUsage(), getrusage(2) of the worker). Read once per scrape and
// set in the metrics' collect() callbacks; a worker that died meanwhile drops out of the series.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerPool } from '../media/WorkerPool.ts';
import { PerScrape } from './perScrape.ts';

export interface WorkerUsage {
  pid: number;
  userSeconds: number;
  systemSeconds: number;
  maxRssBytes: number;
}

/** The live workers' usage; `live` counts those alive at the start, whose usage may be missing. */
export interface WorkerReading {
  live: number;
  usage: WorkerUsage[];
}

export async function readWorkers(pool: WorkerPool): Promise<WorkerReading> {
  const live = pool.workers.filter((w) => !w.died && !w.closed);
  const usage = await Promise.all(
    live.map(async (worker): Promise<WorkerUsage | undefined> => {
      try {
        const rusage = await worker.getResourceUsage();
        // getrusage's times are in milliseconds here; Linux reports ru_maxrss in kibibytes.
        return {
          pid: worker.pid,
          userSeconds: rusage.ru_utime / 1000,
          systemSeconds: rusage.ru_stime / 1000,
          maxRssBytes: rusage.ru_maxrss * 1024,
        };
      } catch {
        return undefined; // died during the scrape
      }
    }),
  );
  return { live: live.length, usage: usage.filter((u) => u !== undefined) };
}

/** Registers conclave_workers, conclave_worker_cpu_seconds_total and conclave_worker_max_rss_bytes. */
export function registerWorkerMetrics(registry: Registry, read: () => Promise<WorkerReading>): void {
  const reading = new PerScrape(read);
  const registers = [registry];
  new Gauge({
    name: 'conclave_workers',
    help: 'Live mediasoup worker processes.',
    registers,
    async collect() {
      this.set((await reading.get()).live);
    },
  });
  new Counter({
    name: 'conclave_worker_cpu_seconds_total',
    help: 'CPU time used by each mediasoup worker process, by mode.',
    labelNames: ['pid', 'mode'],
    registers,
    // The worker keeps the count (getrusage); this mirrors it, so it is set, not added to.
    async collect() {
      const { usage } = await reading.get();
      this.reset();
      for (const { pid, userSeconds, systemSeconds } of usage) {
        this.inc({ pid: String(pid), mode: 'user' }, userSeconds);
        this.inc({ pid: String(pid), mode: 'system' }, systemSeconds);
      }
    },
  });
  new Gauge({
    name: 'conclave_worker_max_rss_bytes',
    help: 'Peak resident memory of each mediasoup worker process.',
    labelNames: ['pid'],
    registers,
    async collect() {
      const { usage } = await reading.get();
      this.reset();
      for (const { pid, maxRssBytes } of usage) this.set({ pid: String(pid) }, maxRssBytes);
    },
  });
}
