// mediasoup workers at scrape time: CPU time and peak memory of each live worker process
// (worker.getResourceUsage(), getrusage(2) of the worker).
import type { WorkerPool } from '../media/WorkerPool.ts';
import { gauge, type MetricFamily, type Sample } from './prometheus.ts';

export async function collectWorkers(pool: WorkerPool): Promise<MetricFamily[]> {
  const live = pool.workers.filter((w) => !w.died && !w.closed);
  const cpu: Sample[] = [];
  const rss: Sample[] = [];
  await Promise.all(
    live.map(async (worker) => {
      let usage;
      try {
        usage = await worker.getResourceUsage();
      } catch {
        return; // died during the scrape
      }
      const pid = String(worker.pid);
      cpu.push({ labels: { pid, mode: 'user' }, value: usage.ru_utime / 1000 });
      cpu.push({ labels: { pid, mode: 'system' }, value: usage.ru_stime / 1000 });
      // Linux reports ru_maxrss in kibibytes.
      rss.push({ labels: { pid }, value: usage.ru_maxrss * 1024 });
    }),
  );
  return [
    gauge('conclave_workers', 'Live mediasoup worker processes.', [{ value: live.length }]),
    {
      name: 'conclave_worker_cpu_seconds_total',
      help: 'CPU time used by each mediasoup worker process, by mode.',
      type: 'counter',
      samples: cpu,
    },
    gauge('conclave_worker_max_rss_bytes', 'Peak resident memory of each mediasoup worker process.', rss),
  ];
}
