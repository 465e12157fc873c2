// The SFU's gauges (conclave_rooms, conclave_peers, conclave_transports, conclave_producers,
// conclave_consumers and the conclave_rtp_* stream figures: packets, loss, bitrate, jitter, RTT),
// set from one media reading per scrape in their collect() callbacks. Names, labels and meanings are part of the operator's contract
// (docs/operations.md, docs/grafana/conclave.json): never rename one.
import { Gauge, type Registry } from 'prom-client';
import type { Direction, MediaKind, MediaReading, StreamTotals } from './mediaReading.ts';
import { PerScrape } from './perScrape.ts';

const DIRECTIONS = ['inbound', 'outbound'] as const;
const KINDS = ['audio', 'video'] as const;

/** Registers the SFU's gauges on `registry`; `read` gives the live state at each scrape. */
export function registerMediaMetrics(registry: Registry, read: () => Promise<MediaReading>): void {
  const reading = new PerScrape(read);
  /** A gauge set afresh from each scrape's reading (series no longer set disappear). */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    set: (gauge: Gauge<L>, media: MediaReading) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const media = await reading.get();
        this.reset();
        set(this, media);
      },
    });

  gauge('conclave_rooms', 'Rooms open on the SFU.', [], (g, m) => g.set(m.rooms));
  gauge('conclave_peers', 'Participants connected to signaling, in any room.', [], (g, m) => g.set(m.peers));
  gauge('conclave_transports', 'WebRTC transports open on the SFU.', [], (g, m) => g.set(m.transports));
  const byKind = (g: Gauge<'kind'>, counts: Record<MediaKind, number>) => {
    for (const kind of KINDS) g.set({ kind }, counts[kind]);
  };
  gauge('conclave_producers', 'Producers (media sent to the SFU) by kind.', ['kind'], (g, m) =>
    byKind(g, m.producers),
  );
  gauge('conclave_consumers', 'Consumers (media sent by the SFU) by kind.', ['kind'], (g, m) =>
    byKind(g, m.consumers),
  );

  const perDirection = (name: string, help: string, value: (t: StreamTotals) => number) =>
    gauge(name, help, ['direction'], (g, m) => {
      for (const direction of DIRECTIONS) g.set({ direction }, value(m.streams[direction]));
    });
  perDirection(
    'conclave_rtp_streams',
    'Live RTP streams: inbound are received by the SFU (producers), outbound sent by it (consumers).',
    (t) => t.streams,
  );
  perDirection('conclave_rtp_packets', 'RTP packets of the live streams.', (t) => t.packets);
  perDirection(
    'conclave_rtp_packets_lost',
    'RTP packets lost on the live streams (as received or as reported by receivers).',
    (t) => t.packetsLost,
  );
  perDirection(
    'conclave_rtp_bitrate_bits_per_second',
    'Bitrate of the live streams, in bits per second, added up (mediasoup measures each over its last second).',
    (t) => t.bitsPerSecond,
  );
  perDirection(
    'conclave_rtp_fraction_lost',
    'Mean fraction of packets lost over the last RTCP interval, over live streams.',
    (t) => (t.streams === 0 ? 0 : t.fractionLostSum / t.streams),
  );

  const meanAndMax = (
    name: string,
    help: string,
    values: (t: StreamTotals) => number[],
    directions: readonly Direction[],
  ) =>
    gauge(name, help, ['direction', 'stat'], (g, m) => {
      for (const direction of directions) {
        const list = values(m.streams[direction]);
        g.set({ direction, stat: 'mean' }, mean(list));
        g.set({ direction, stat: 'max' }, list.length === 0 ? 0 : Math.max(...list));
      }
    });
  meanAndMax(
    'conclave_rtp_jitter_seconds',
    'Interarrival jitter of the streams the SFU receives: mean and max over live streams.',
    (t) => t.jitterSeconds,
    ['inbound'],
  );
  meanAndMax(
    'conclave_rtp_round_trip_seconds',
    'Round-trip time from RTCP: mean and max over the live streams that have one.',
    (t) => t.roundTripSeconds,
    DIRECTIONS,
  );
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
