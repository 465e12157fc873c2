// The instruments the running server updates as things happen (call setup times, refusals), on
// the server's own prom-client registry; the state read at scrape time joins them there
// (metricsRegistry.ts). One instance per server: two servers in one process never share a series.
import { Counter, Histogram, Registry } from 'prom-client';

/** Call setup is seconds to minutes of work by a browser; the buckets span that. */
const CALL_SETUP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

/** Stages of a participant's call setup, timed from its signaling socket's connection. */
export type CallSetupStage = 'joined' | 'media-connected';

export class ServerMetrics {
  /** Every conclave_* metric of this server (the instruments below and the scrape-time ones). */
  readonly registry = new Registry();
  readonly callSetup = new Histogram({
    name: 'conclave_call_setup_seconds',
    help: 'Seconds from a signaling connection to its join completing (stage="joined") and to its first transport finishing DTLS (stage="media-connected").',
    labelNames: ['stage'],
    buckets: CALL_SETUP_BUCKETS,
    registers: [this.registry],
  });
  readonly requestRejections = new Counter({
    name: 'conclave_signaling_request_rejections_total',
    help: 'Signaling requests answered with an error, by error code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly handshakeRefusals = new Counter({
    name: 'conclave_signaling_handshake_refusals_total',
    help: 'Signaling connections refused at the handshake, by error code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'conclave_connections_refused_total',
    help: 'socket.io connections refused by the per-IP limits, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  observeCallSetup(stage: CallSetupStage, seconds: number): void {
    // A clock oddity is no reason to throw in the middle of a join.
    if (Number.isFinite(seconds)) this.callSetup.observe({ stage }, seconds);
  }
}
