// What /metrics serves, from given readings of live state (server/src/observability): the conclave_*
// families keep their names, types and labels, readings become samples exactly, one reading serves
// a whole scrape, and two servers' registries never share a series. The readings here stand for
// the SFU, workers and key service; test/integration/metrics.test.ts reads the real ones.
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { KeyServiceReading } from '../../../../server/src/observability/keyServiceMetrics.ts';
import { StreamTotals, type MediaReading } from '../../../../server/src/observability/mediaReading.ts';
import {
  createMetricsRegistry,
  exposition,
  type MetricsReaders,
} from '../../../../server/src/observability/metricsRegistry.ts';
import { ServerMetrics } from '../../../../server/src/observability/ServerMetrics.ts';
import type { WorkerReading } from '../../../../server/src/observability/workerMetrics.ts';
import { parsePrometheusText, sampleValue } from '../../../support/prometheusText.ts';

function streams(jitters: number[], roundTrips: number[]): StreamTotals {
  const totals = new StreamTotals();
  totals.streams = jitters.length;
  totals.packets = 1000;
  totals.packetsLost = 7;
  totals.bitsPerSecond = 64_000 * jitters.length;
  totals.fractionLostSum = 0.5;
  totals.jitterSeconds = jitters;
  totals.roundTripSeconds = roundTrips;
  return totals;
}

const MEDIA: MediaReading = {
  rooms: 2,
  peers: 5,
  transports: 10,
  producers: { audio: 3, video: 2 },
  consumers: { audio: 12, video: 8 },
  streams: { inbound: streams([0.01, 0.03], [0.02]), outbound: streams([], [0.04, 0.08]) },
};
const WORKERS: WorkerReading = {
  live: 2,
  usage: [{ pid: 4242, userSeconds: 1.5, systemSeconds: 0.25, maxRssBytes: 50_000_000 }],
};
const KEYS: KeyServiceReading = {
  rooms: 2,
  sockets: 5,
  commits: 9,
  commitRejections: { 'stale-epoch': 3 },
  policyRefusals: {},
  requestRejections: { 'bad-request': 1, 'rate-limited': 4 },
  handshakeRefusals: { 'token-expired': 2 },
};

function registryOf(readers: Partial<MetricsReaders> = {}, instruments = new ServerMetrics()) {
  return createMetricsRegistry(instruments, {
    media: async () => MEDIA,
    workers: async () => WORKERS,
    keys: () => KEYS,
    ...readers,
  });
}

describe('the metrics registry', () => {
  it('turns readings into the conclave_* families, with their types, labels and values', async () => {
    const instruments = new ServerMetrics();
    instruments.observeCallSetup('joined', 0.3);
    instruments.observeCallSetup('joined', 7);
    instruments.observeCallSetup('media-connected', Number.NaN);
    instruments.requestRejections.inc({ code: 'bad-request' });
    instruments.connectionsRefused.inc({ reason: 'foreign-origin' }, 2);
    const metrics = parsePrometheusText(await exposition(registryOf({}, instruments)));
    const value = (family: string, labels: Record<string, string> = {}, name?: string) =>
      sampleValue(metrics, family, labels, name);

    expect(value('conclave_rooms')).toBe(2);
    expect(value('conclave_peers')).toBe(5);
    expect(value('conclave_transports')).toBe(10);
    expect(value('conclave_producers', { kind: 'audio' })).toBe(3);
    expect(value('conclave_consumers', { kind: 'video' })).toBe(8);
    expect(value('conclave_rtp_streams', { direction: 'inbound' })).toBe(2);
    expect(value('conclave_rtp_packets_lost', { direction: 'outbound' })).toBe(7);
    expect(value('conclave_rtp_bitrate_bits_per_second', { direction: 'inbound' })).toBe(128_000);
    expect(value('conclave_rtp_fraction_lost', { direction: 'inbound' })).toBe(0.25);
    expect(value('conclave_rtp_fraction_lost', { direction: 'outbound' })).toBe(0);
    expect(value('conclave_rtp_jitter_seconds', { direction: 'inbound', stat: 'mean' })).toBe(0.02);
    expect(value('conclave_rtp_jitter_seconds', { direction: 'inbound', stat: 'max' })).toBe(0.03);
    // Jitter is measured on what the SFU receives only.
    expect(metrics.get('conclave_rtp_jitter_seconds')?.samples).toHaveLength(2);
    expect(value('conclave_rtp_round_trip_seconds', { direction: 'outbound', stat: 'mean' })).toBeCloseTo(
      0.06,
    );
    expect(value('conclave_rtp_round_trip_seconds', { direction: 'outbound', stat: 'max' })).toBe(0.08);

    expect(value('conclave_workers')).toBe(2);
    expect(metrics.get('conclave_worker_cpu_seconds_total')?.type).toBe('counter');
    expect(value('conclave_worker_cpu_seconds_total', { pid: '4242', mode: 'user' })).toBe(1.5);
    expect(value('conclave_worker_cpu_seconds_total', { pid: '4242', mode: 'system' })).toBe(0.25);
    expect(value('conclave_worker_max_rss_bytes', { pid: '4242' })).toBe(50_000_000);

    expect(value('conclave_keys_rooms')).toBe(2);
    expect(value('conclave_keys_sockets')).toBe(5);
    expect(value('conclave_keys_epochs_total')).toBe(9);
    expect(value('conclave_keys_commit_rejections_total', { code: 'stale-epoch' })).toBe(3);
    expect(metrics.get('conclave_keys_policy_refusals_total')).toMatchObject({
      type: 'counter',
      samples: [],
    });
    expect(value('conclave_keys_request_rejections_total', { code: 'rate-limited' })).toBe(4);
    expect(value('conclave_keys_handshake_refusals_total', { code: 'token-expired' })).toBe(2);

    const setup = metrics.get('conclave_call_setup_seconds');
    expect(setup?.type).toBe('histogram');
    const joined = (le: string) =>
      value('conclave_call_setup_seconds', { stage: 'joined', le }, 'conclave_call_setup_seconds_bucket');
    expect([joined('0.25'), joined('0.5'), joined('5'), joined('10'), joined('+Inf')]).toEqual([
      0, 1, 1, 2, 2,
    ]);
    expect(value('conclave_call_setup_seconds', { stage: 'joined' }, 'conclave_call_setup_seconds_sum')).toBe(
      7.3,
    );
    // A non-finite duration is not a call setup.
    expect(setup?.samples.some((s) => s.labels['stage'] === 'media-connected')).toBe(false);
    expect(value('conclave_signaling_request_rejections_total', { code: 'bad-request' })).toBe(1);
    expect(value('conclave_connections_refused_total', { reason: 'foreign-origin' })).toBe(2);
    expect(metrics.get('conclave_signaling_handshake_refusals_total')?.samples).toEqual([]);
  });

  it('reads the media and the workers once per scrape, and afresh at the next', async () => {
    let mediaReads = 0;
    let workerReads = 0;
    let peers = 1;
    const registry = registryOf({
      media: async () => ({ ...MEDIA, peers: peers, rooms: (mediaReads += 1) }),
      workers: async () => ((workerReads += 1), WORKERS),
    });
    const first = parsePrometheusText(await exposition(registry));
    expect([mediaReads, workerReads]).toEqual([1, 1]);
    peers = 4;
    const second = parsePrometheusText(await exposition(registry));
    expect([mediaReads, workerReads]).toEqual([2, 2]);
    expect(sampleValue(first, 'conclave_peers')).toBe(1);
    expect(sampleValue(second, 'conclave_peers')).toBe(4);
  });

  it('drops the series of a worker that is gone', async () => {
    let reading: WorkerReading = WORKERS;
    const registry = registryOf({ workers: async () => reading });
    expect(
      sampleValue(parsePrometheusText(await exposition(registry)), 'conclave_worker_max_rss_bytes', {
        pid: '4242',
      }),
    ).toBe(50_000_000);
    reading = { live: 0, usage: [] };
    const after = parsePrometheusText(await exposition(registry));
    expect(after.get('conclave_worker_max_rss_bytes')?.samples).toEqual([]);
    expect(after.get('conclave_worker_cpu_seconds_total')?.samples).toEqual([]);
  });

  it("keeps each server's instruments apart, in one process", async () => {
    const a = new ServerMetrics();
    const b = new ServerMetrics();
    a.requestRejections.inc({ code: 'bad-request' });
    const served = (instruments: ServerMetrics) =>
      exposition(registryOf({}, instruments))
        .then(parsePrometheusText)
        .then((m) => sampleValue(m, 'conclave_signaling_request_rejections_total', { code: 'bad-request' }));
    expect(await served(a)).toBe(1);
    expect(await served(b)).toBeUndefined();
  });

  it('spells NaN as the text format does (prom-client writes Nan)', async () => {
    const registry = new Registry();
    new Gauge({ name: 'not_measured_yet', help: 'Nan', registers: [registry] }).set(Number.NaN);
    const text = await exposition(registry);
    expect(text).toContain('\nnot_measured_yet NaN\n');
    expect(text).toContain('# HELP not_measured_yet Nan\n');
    expect(sampleValue(parsePrometheusText(text), 'not_measured_yet')).toBeNaN();
  });
});
