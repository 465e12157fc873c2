// SFU state read at scrape time: rooms, peers, transports, producers and consumers, and the RTP
// streams' loss, jitter and round-trip time gathered over every live stream (from mediasoup's
// Producer and Consumer getStats(): producers are the streams the SFU receives, consumers those
// it sends). mediaMetrics.ts turns a reading into gauges.
import type { types } from 'mediasoup';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

export type Direction = 'inbound' | 'outbound';
export type MediaKind = 'audio' | 'video';

/** What one direction's streams add up to. */
export class StreamTotals {
  streams = 0;
  packets = 0;
  packetsLost = 0;
  /** mediasoup's bitrate of each stream (over its last second), added up. */
  bitsPerSecond = 0;
  fractionLostSum = 0;
  jitterSeconds: number[] = [];
  roundTripSeconds: number[] = [];

  add(stat: types.ProducerStat | types.ConsumerStat, clockRate: number): void {
    this.streams += 1;
    this.packets += stat.packetCount;
    this.packetsLost += Math.max(0, stat.packetsLost);
    this.bitsPerSecond += stat.bitrate;
    // RTCP's fraction lost is an 8-bit fixed-point fraction.
    this.fractionLostSum += stat.fractionLost / 256;
    // RFC 3550 interarrival jitter is in RTP timestamp units.
    if ('jitter' in stat && clockRate > 0) this.jitterSeconds.push(stat.jitter / clockRate);
    if (stat.roundTripTime !== undefined && stat.roundTripTime > 0)
      this.roundTripSeconds.push(stat.roundTripTime / 1000);
  }
}

export interface MediaReading {
  rooms: number;
  peers: number;
  transports: number;
  producers: Record<MediaKind, number>;
  consumers: Record<MediaKind, number>;
  streams: Record<Direction, StreamTotals>;
}

export async function readMedia(rooms: RoomRegistry): Promise<MediaReading> {
  const reading: MediaReading = {
    rooms: rooms.rooms.size,
    peers: 0,
    transports: 0,
    producers: { audio: 0, video: 0 },
    consumers: { audio: 0, video: 0 },
    streams: { inbound: new StreamTotals(), outbound: new StreamTotals() },
  };
  const statRequests: Promise<void>[] = [];
  for (const room of rooms.rooms.values()) {
    for (const peer of room.peers.values()) {
      reading.peers += 1;
      reading.transports += peer.transports.size;
      for (const producer of peer.producers.values()) {
        reading.producers[producer.kind] += 1;
        statRequests.push(addStats(producer, 'inbound-rtp', reading.streams.inbound));
      }
      for (const consumer of peer.consumers.values()) {
        reading.consumers[consumer.kind] += 1;
        statRequests.push(addStats(consumer, 'outbound-rtp', reading.streams.outbound));
      }
    }
  }
  await Promise.all(statRequests);
  return reading;
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
