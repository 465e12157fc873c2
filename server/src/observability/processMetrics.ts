// The Node.js process's own metrics, under the names every Node exporter uses (prom-client's
// default metrics: process_cpu_seconds_total, process_resident_memory_bytes,
// nodejs_eventloop_lag_seconds, nodejs_gc_duration_seconds, nodejs_heap_size_used_bytes, …), so
// stock dashboards work. What must hold: one set per process, on a registry of our own (never
// prom-client's global one). The process is one however many ConclaveServers it runs, and
// prom-client's event-loop and GC monitors cannot be stopped once started, so a set per server would
// pile up monitors in a process that starts many (the tests do).
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

let processRegistry: Registry | undefined;

/** The process's registry, made on first use. */
export function processMetrics(): Registry {
  processRegistry ??= createProcessRegistry();
  return processRegistry;
}

function createProcessRegistry(): Registry {
  const registry = new Registry();
  // prom-client counts CPU from the moment its counters exist; Prometheus' convention (and our
  // metric before prom-client) is CPU since the process started. So the counters start from the
  // CPU used so far, read just before they begin counting (they miss only their own set-up).
  const before = process.cpuUsage();
  collectDefaultMetrics({ register: registry });
  const seconds = (micros: number) => micros / 1e6;
  counterIn(registry, 'process_cpu_user_seconds_total').inc(seconds(before.user));
  counterIn(registry, 'process_cpu_system_seconds_total').inc(seconds(before.system));
  counterIn(registry, 'process_cpu_seconds_total').inc(seconds(before.user + before.system));
  new Gauge({
    // Served before prom-client, and kept so that existing dashboards and checks go on working; the
    // standard name for the same figure is nodejs_heap_size_used_bytes.
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use (the same figure as nodejs_heap_size_used_bytes).',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  return registry;
}

function counterIn(registry: Registry, name: string): { inc(value: number): void } {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined || !('inc' in metric)) throw new Error(`prom-client serves no counter ${name}`);
  return metric as { inc(value: number): void };
}
