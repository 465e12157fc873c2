// The instruments the running server updates as things happen (call setup times, refusals), next
// to the state read at scrape time by the collectors. One instance per server.
import { Counter } from './Counter.ts';
import { Histogram } from './Histogram.ts';
import type { MetricFamily } from './prometheus.ts';

/** Call setup is seconds to minutes of work by a browser; the buckets span that. */
const CALL_SETUP_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

/** Stages of a participant's call setup, timed from its signaling socket's connection. */
export type CallSetupStage = 'joined' | 'media-connected';

export class ServerMetrics {
  readonly callSetup = new Histogram(
    'conclave_call_setup_seconds',
    'Seconds from a signaling connection to its join completing (stage="joined") and to its first transport finishing DTLS (stage="media-connected").',
    CALL_SETUP_BOUNDS,
  );
  readonly requestRejections = new Counter(
    'conclave_signaling_request_rejections_total',
    'Signaling requests answered with an error, by error code.',
  );
  readonly handshakeRefusals = new Counter(
    'conclave_signaling_handshake_refusals_total',
    'Signaling connections refused at the handshake, by error code.',
  );
  readonly connectionsRefused = new Counter(
    'conclave_connections_refused_total',
    'socket.io connections refused by the per-IP limits, by reason.',
  );

  observeCallSetup(stage: CallSetupStage, seconds: number): void {
    this.callSetup.observe(seconds, { stage });
  }

  families(): MetricFamily[] {
    return [
      this.callSetup.family(),
      this.requestRejections.family(),
      this.handshakeRefusals.family(),
      this.connectionsRefused.family(),
    ];
  }
}
