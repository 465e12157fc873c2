// The Node.js process itself: CPU time and memory (the signaling, API and key-service side).
import { gauge, type MetricFamily } from './prometheus.ts';

export function collectProcess(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    {
      name: 'process_cpu_seconds_total',
      help: 'CPU time used by the Node.js process (user and system).',
      type: 'counter',
      samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    gauge('process_resident_memory_bytes', 'Resident memory of the Node.js process.', [
      { value: memory.rss },
    ]),
    gauge('nodejs_heap_used_bytes', 'V8 heap in use.', [{ value: memory.heapUsed }]),
  ];
}
