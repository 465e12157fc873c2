// Everything /metrics serves, as one prom-client registry: the server's instruments
// (ServerMetrics), the SFU, its workers and the key service read at scrape time, and the process's
// standard metrics. The readers are functions so that the set of metrics does not depend on where
// the state comes from (docs/grafana/conclave.json is checked against this set).
import { Registry } from 'prom-client';
import { registerKeyServiceMetrics, type KeyServiceReading } from './keyServiceMetrics.ts';
import { registerMediaMetrics } from './mediaMetrics.ts';
import type { MediaReading } from './mediaReading.ts';
import { processMetrics } from './processMetrics.ts';
import type { ServerMetrics } from './ServerMetrics.ts';
import { registerWorkerMetrics, type WorkerReading } from './workerMetrics.ts';

export interface MetricsReaders {
  media: () => Promise<MediaReading>;
  workers: () => Promise<WorkerReading>;
  keys: () => KeyServiceReading;
}

/**
 * Registers the scrape-time metrics on `instruments.registry` (once per server) and returns the
 * registry to serve: that one merged with the process's.
 * @throws Error if called twice for the same instruments (a metric would be registered twice)
 */
export function createMetricsRegistry(instruments: ServerMetrics, readers: MetricsReaders): Registry {
  registerMediaMetrics(instruments.registry, readers.media);
  registerWorkerMetrics(instruments.registry, readers.workers);
  registerKeyServiceMetrics(instruments.registry, readers.keys);
  return Registry.merge([instruments.registry, processMetrics()]);
}

/**
 * The registry's samples in the text format (version 0.0.4). prom-client writes a NaN value as
 * `Nan` (the format's spelling is `NaN`; Prometheus reads either, stricter parsers do not): the
 * event-loop lag figures are NaN until the first delay has been measured.
 */
export async function exposition(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/^([^#].* )Nan$/gm, '$1NaN');
}
