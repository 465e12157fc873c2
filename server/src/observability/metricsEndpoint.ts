// GET /metrics: everything in Prometheus text format (version 0.0.4, written by prom-client). It
// exposes counts only (rooms, peers, streams, CPU), no ids or names; an operator who does not want
// even that public sets CONCLAVE_METRICS_TOKEN (scrapers send `Authorization: Bearer <token>`) or
// CONCLAVE_METRICS=off.
import type { KeyService } from '@conclave/key-service/server';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { WorkerPool } from '../media/WorkerPool.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { readMedia } from './mediaReading.ts';
import { createMetricsRegistry, exposition } from './metricsRegistry.ts';
import type { ServerMetrics } from './ServerMetrics.ts';
import { readWorkers } from './workerMetrics.ts';

export const METRICS_PATH = '/metrics';

export interface MetricsSources {
  rooms: RoomRegistry;
  pool: WorkerPool;
  keys: KeyService;
  metrics: ServerMetrics;
}

export class MetricsEndpoint {
  readonly #registry: Registry;
  readonly #tokenDigest: Buffer | undefined;

  constructor(sources: MetricsSources, token: string | undefined) {
    this.#registry = createMetricsRegistry(sources.metrics, {
      media: () => readMedia(sources.rooms),
      workers: () => readWorkers(sources.pool),
      keys: () => sources.keys.stats(),
    });
    this.#tokenDigest = token === undefined ? undefined : digest(token);
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (!this.#authorized(req.headers.authorization)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('a bearer token is needed\n');
      return;
    }
    const text = await exposition(this.#registry);
    res.writeHead(200, {
      'Content-Type': this.#registry.contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  #authorized(header: string | undefined): boolean {
    if (this.#tokenDigest === undefined) return true;
    const match = /^Bearer (\S{1,512})$/.exec(header ?? '');
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), this.#tokenDigest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
