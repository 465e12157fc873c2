// SFU state at scrape time: rooms, peers, transports, producers and consumers, and the RTP
// streams' loss, jitter and round-trip time aggregated over every live stream (from mediasoup's
// Producer and Consumer getStats(): producers are the streams the SFU receives, consumers those
// it sends).
import type { types } from 'mediasoup';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { gauge, type MetricFamily } from './prometheus.ts';

type Direction = 'inbound' | 'outbound';

/** What one direction's streams add up to. */
class StreamTotals {
  streams = 0;
  packets = 0;
  packetsLost = 0;
  fractionLostSum = 0;
  jitterSeconds: number[] = [];
  roundTripSeconds: number[] = [];

  add(stat: types.ProducerStat | types.ConsumerStat, clockRate: number): void {
    this.streams += 1;
    this.packets += stat.packetCount;
    this.packetsLost += Math.max(0, stat.packetsLost);
    // RTCP's fraction lost is an 8-bit fixed-point fraction.
    this.fractionLostSum += stat.fractionLost / 256;
    // RFC 3550 interarrival jitter is in RTP timestamp units.
    if ('jitter' in stat && clockRate > 0) this.jitterSeconds.push(stat.jitter / clockRate);
    if (stat.roundTripTime !== undefined && stat.roundTripTime > 0)
      this.roundTripSeconds.push(stat.roundTripTime / 1000);
  }
}

export async function collectMedia(rooms: RoomRegistry): Promise<MetricFamily[]> {
  let peers = 0;
  let transports = 0;
  const producers = { audio: 0, video: 0 };
  const consumers = { audio: 0, video: 0 };
  const statRequests: Promise<void>[] = [];
  const totals: Record<Direction, StreamTotals> = {
    inbound: new StreamTotals(),
    outbound: new StreamTotals(),
  };

  for (const room of rooms.rooms.values()) {
    for (const peer of room.peers.values()) {
      peers += 1;
      transports += peer.transports.size;
      for (const producer of peer.producers.values()) {
        producers[producer.kind] += 1;
        statRequests.push(addStats(producer, 'inbound-rtp', totals.inbound));
      }
      for (const consumer of peer.consumers.values()) {
        consumers[consumer.kind] += 1;
        statRequests.push(addStats(consumer, 'outbound-rtp', totals.outbound));
      }
    }
  }
  await Promise.all(statRequests);

  const byKind = (counts: Record<'audio' | 'video', number>) =>
    (['audio', 'video'] as const).map((kind) => ({ labels: { kind }, value: counts[kind] }));
  return [
    gauge('conclave_rooms', 'Rooms open on the SFU.', [{ value: rooms.rooms.size }]),
    gauge('conclave_peers', 'Participants connected to signaling, in any room.', [{ value: peers }]),
    gauge('conclave_transports', 'WebRTC transports open on the SFU.', [{ value: transports }]),
    gauge('conclave_producers', 'Producers (media sent to the SFU) by kind.', byKind(producers)),
    gauge('conclave_consumers', 'Consumers (media sent by the SFU) by kind.', byKind(consumers)),
    ...rtpFamilies(totals),
  ];
}

/** One producer's or consumer's stream stats of `type`; a stream closed meanwhile counts for nothing. */
async function addStats(
  source: types.Producer | types.Consumer,
  type: 'inbound-rtp' | 'outbound-rtp',
  into: StreamTotals,
): Promise<void> {
  let stats: (types.ProducerStat | types.ConsumerStat)[];
  try {
    stats = await source.getStats();
  } catch {
    return;
  }
  const clockRate = source.rtpParameters.codecs[0]?.clockRate ?? 0;
  for (const stat of stats) if (stat.type === type) into.add(stat, clockRate);
}

function rtpFamilies(totals: Record<Direction, StreamTotals>): MetricFamily[] {
  const directions = ['inbound', 'outbound'] as const;
  const perDirection = (value: (t: StreamTotals) => number) =>
    directions.map((direction) => ({ labels: { direction }, value: value(totals[direction]) }));
  const meanAndMax = (values: (t: StreamTotals) => number[], only: readonly Direction[] = directions) =>
    only.flatMap((direction) => {
      const list = values(totals[direction]);
      return [
        { labels: { direction, stat: 'mean' }, value: mean(list) },
        { labels: { direction, stat: 'max' }, value: list.length === 0 ? 0 : Math.max(...list) },
      ];
    });
  return [
    gauge(
      'conclave_rtp_streams',
      'Live RTP streams: inbound are received by the SFU (producers), outbound sent by it (consumers).',
      perDirection((t) => t.streams),
    ),
    gauge(
      'conclave_rtp_packets',
      'RTP packets of the live streams.',
      perDirection((t) => t.packets),
    ),
    gauge(
      'conclave_rtp_packets_lost',
      'RTP packets lost on the live streams (as received or as reported by receivers).',
      perDirection((t) => t.packetsLost),
    ),
    gauge(
      'conclave_rtp_fraction_lost',
      'Mean fraction of packets lost over the last RTCP interval, over live streams.',
      perDirection((t) => (t.streams === 0 ? 0 : t.fractionLostSum / t.streams)),
    ),
    gauge(
      'conclave_rtp_jitter_seconds',
      'Interarrival jitter of the streams the SFU receives: mean and max over live streams.',
      meanAndMax((t) => t.jitterSeconds, ['inbound']),
    ),
    gauge(
      'conclave_rtp_round_trip_seconds',
      'Round-trip time from RTCP: mean and max over the live streams that have one.',
      meanAndMax((t) => t.roundTripSeconds),
    ),
  ];
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
