// GET /metrics against a real server: a two-person room with producers and consumers on a real
// mediasoup worker and an MLS group on the key service, read back through a strict parser of the
// Prometheus text format. (RTP loss, jitter and round-trip figures need real WebRTC media: see
// test/e2e/operations.spec.ts.)
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue, type ParsedFamily } from '../support/prometheusText.ts';
import { serverFixture } from './support/serverFixture.ts';
import { opusParameters, vp8SimulcastParameters, waitUntil, type TestServer } from './support/testServer.ts';

const fixture = serverFixture();

async function scrape(t: TestServer, headers: Record<string, string> = {}) {
  return fetch(`${t.url}/metrics`, { headers });
}

function histogramBuckets(family: ParsedFamily | undefined, stage: string): [number, number][] {
  return (family?.samples ?? [])
    .filter((s) => s.name.endsWith('_bucket') && s.labels['stage'] === stage)
    .map((s) => [s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']), s.value]);
}

describe('/metrics', () => {
  it('reports a live room: counts, worker usage, call setup, key-service epochs and refusals', async () => {
    const t = await fixture.start();
    const alice = await fixture.member('metrics-room', 'Alice');
    await alice.signaling.ok('produce', {
      transportId: alice.joined.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    await alice.signaling.ok('produce', {
      transportId: alice.joined.sendTransportId,
      kind: 'video',
      rtpParameters: vp8SimulcastParameters(),
      source: 'camera',
    });
    const bob = await fixture.member('metrics-room', 'Bob');
    await waitUntil(
      () => bob.signaling.notifications.some((n) => n.type === 'newConsumer'),
      5000,
      'the microphone consumer',
    );
    // The camera is received on demand, as a tile on screen asks for it.
    const camera = await bob.signaling.waitFor('producerAvailable');
    await bob.signaling.ok('consume', { producerId: camera.data.producerId });
    await expect.poll(() => alice.keys.current?.members.length, { timeout: 15_000 }).toBe(2);
    const refused = await bob.signaling.request('createTransport', { direction: 'sideways' });
    expect(refused.ok).toBe(false);

    const response = await scrape(t);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const metrics = parsePrometheusText(await response.text());
    const value = (family: string, labels: Record<string, string> = {}, name?: string) =>
      sampleValue(metrics, family, labels, name);

    // SFU state.
    expect(value('conclave_rooms')).toBe(1);
    expect(value('conclave_peers')).toBe(2);
    expect(value('conclave_transports')).toBe(4);
    expect(value('conclave_producers', { kind: 'audio' })).toBe(1);
    expect(value('conclave_producers', { kind: 'video' })).toBe(1);
    expect(value('conclave_consumers', { kind: 'audio' })).toBe(1);
    expect(value('conclave_consumers', { kind: 'video' })).toBe(1);
    for (const family of [
      'conclave_rtp_streams',
      'conclave_rtp_packets',
      'conclave_rtp_packets_lost',
      'conclave_rtp_bitrate_bits_per_second',
      'conclave_rtp_fraction_lost',
      'conclave_rtp_jitter_seconds',
      'conclave_rtp_round_trip_seconds',
    ]) {
      expect(metrics.get(family)?.type, family).toBe('gauge');
    }
    // No DTLS here, so no media flows yet: streams exist only once packets arrive.
    expect(value('conclave_rtp_streams', { direction: 'inbound' })).toBe(0);

    // The mediasoup worker.
    const pid = String(t.server.pool.workers[0]?.pid);
    expect(value('conclave_workers')).toBe(1);
    expect(metrics.get('conclave_worker_cpu_seconds_total')?.type).toBe('counter');
    const cpu =
      (value('conclave_worker_cpu_seconds_total', { pid, mode: 'user' }) ?? -1) +
      (value('conclave_worker_cpu_seconds_total', { pid, mode: 'system' }) ?? -1);
    expect(cpu).toBeGreaterThan(0);
    expect(value('conclave_worker_max_rss_bytes', { pid })).toBeGreaterThan(1024 * 1024);

    // Call setup: both joins timed; cumulative buckets never decrease and +Inf is the count.
    const setup = metrics.get('conclave_call_setup_seconds');
    expect(setup?.type).toBe('histogram');
    const buckets = histogramBuckets(setup, 'joined');
    expect(buckets.at(-1)).toEqual([Infinity, 2]);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]![0]).toBeGreaterThan(buckets[i - 1]![0]);
      expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    }
    expect(
      value('conclave_call_setup_seconds', { stage: 'joined' }, 'conclave_call_setup_seconds_count'),
    ).toBe(2);
    const sum = value('conclave_call_setup_seconds', { stage: 'joined' }, 'conclave_call_setup_seconds_sum');
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(30);
    expect(value('conclave_signaling_request_rejections_total', { code: 'bad-request' })).toBe(1);

    // The key service: one group, Bob's join was one accepted commit.
    expect(value('conclave_keys_rooms')).toBe(1);
    expect(value('conclave_keys_sockets')).toBe(2);
    expect(value('conclave_keys_epochs_total')).toBe(Number(alice.keys.current?.epoch));
    expect(value('conclave_keys_epochs_total')).toBeGreaterThanOrEqual(1);
    expect(metrics.get('conclave_keys_commit_rejections_total')?.type).toBe('counter');

    // The Node.js process.
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value('nodejs_heap_used_bytes')).toBeGreaterThan(0);

    // Every family has help text.
    for (const [name, family] of metrics) expect(family.help.length, name).toBeGreaterThan(5);

    // Once everyone leaves, the gauges come back to zero.
    for (const m of [alice, bob]) {
      m.signaling.close();
      m.keys.close();
    }
    await waitUntil(() => t.server.rooms.rooms.size === 0, 5000, 'room closed');
    const after = parsePrometheusText(await (await scrape(t)).text());
    expect(sampleValue(after, 'conclave_rooms')).toBe(0);
    expect(sampleValue(after, 'conclave_peers')).toBe(0);
    expect(sampleValue(after, 'conclave_transports')).toBe(0);
  });

  it("serves prom-client's standard process and Node.js metrics beside each server's own, all parseable", async () => {
    const t = await fixture.start();
    await fixture.member('one-server-room', 'Alice');
    const other = await fixture.start();
    const cpuBefore = process.cpuUsage();
    const text = await (await scrape(t)).text();
    // The strict parser throws on any line it cannot place.
    const metrics = parsePrometheusText(text);
    const value = (family: string, labels: Record<string, string> = {}) =>
      sampleValue(metrics, family, labels);

    expect(metrics.get('process_cpu_seconds_total')?.type).toBe('counter');
    // CPU since the process started, as Prometheus means it (not since the metrics were created).
    expect(value('process_cpu_seconds_total')).toBeGreaterThanOrEqual(
      (cpuBefore.user + cpuBefore.system) / 1e6 - 0.05,
    );
    expect(value('process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('process_open_fds')).toBeGreaterThan(0);
    expect(metrics.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(metrics.get('nodejs_gc_duration_seconds')?.type).toBe('histogram');
    expect(value('nodejs_version_info', { version: process.version })).toBe(1);
    for (const [name, family] of metrics) expect(family.help.length, name).toBeGreaterThan(5);

    // Each server counts its own: the other one, in the same process, has no room.
    const elsewhere = parsePrometheusText(await (await scrape(other)).text());
    expect(value('conclave_rooms')).toBe(1);
    expect(sampleValue(elsewhere, 'conclave_rooms')).toBe(0);
    expect(sampleValue(elsewhere, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('asks for the bearer token when CONCLAVE_METRICS_TOKEN is set, and answers only GET and HEAD', async () => {
    const t = await fixture.start({ CONCLAVE_METRICS_TOKEN: 'scrape-token-0123456789' });
    expect((await scrape(t)).status).toBe(401);
    expect((await scrape(t, { Authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await scrape(t, { Authorization: 'Basic c2NyYXBlOnRva2Vu' })).status).toBe(401);
    const ok = await scrape(t, { Authorization: 'Bearer scrape-token-0123456789' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE conclave_rooms gauge');
    const head = await fetch(`${t.url}/metrics`, {
      method: 'HEAD',
      headers: { Authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(head.status).toBe(200);
    expect((await fetch(`${t.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('is not served with CONCLAVE_METRICS=off', async () => {
    const t = await fixture.start({ CONCLAVE_METRICS: 'off' });
    expect((await scrape(t)).status).toBe(404);
  });
});
