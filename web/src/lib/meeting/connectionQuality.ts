// How good one participant's connection looks from here, from WebRTC statistics (getStats()).
//
// For someone else: packet loss and jitter of what we receive from them (their uplink, the SFU and
// our downlink together) and our own round trip to the SFU, the only leg we can time. For
// ourselves: what the SFU reports back about what we send (RTCP receiver reports: loss, jitter,
// round trip). Loss is counted between two samples, so an old burst does not stay on screen.
// Jitter is audio's when there is audio: a video frame leaves as a burst of packets, so video's
// inter-arrival jitter runs high on a busy machine with a sound network.

export type QualityLevel = 'good' | 'fair' | 'poor';

export interface ConnectionQuality {
  level: QualityLevel;
  /** Round trip to the SFU in milliseconds, when measured. */
  roundTripMs: number | null;
  /** Packets lost since the previous sample, in percent of those expected. */
  lossPercent: number | null;
  jitterMs: number | null;
}

/** Cumulative packet counters of one sample, kept to compute loss over the next interval. */
export interface PacketCounters {
  /** Packets that should have arrived: received + lost for what we receive, sent for what we send. */
  expected: number;
  lost: number;
}

/** Limits of each level (inclusive): a connection is as good as its worst figure. */
const LIMITS: Record<
  Exclude<QualityLevel, 'poor'>,
  { roundTripMs: number; lossPercent: number; jitterMs: number }
> = {
  good: { roundTripMs: 200, lossPercent: 2, jitterMs: 30 },
  fair: { roundTripMs: 400, lossPercent: 8, jitterMs: 60 },
};

export function qualityLevel(figures: Omit<ConnectionQuality, 'level'>): QualityLevel {
  const within = (limit: (typeof LIMITS)['good']) =>
    (figures.roundTripMs ?? 0) <= limit.roundTripMs &&
    (figures.lossPercent ?? 0) <= limit.lossPercent &&
    (figures.jitterMs ?? 0) <= limit.jitterMs;
  if (within(LIMITS.good)) return 'good';
  if (within(LIMITS.fair)) return 'fair';
  return 'poor';
}

/** The fields of RTCStats this reads; everything else in a report is ignored. */
export interface StatsEntry {
  type: string;
  id: string;
  kind?: string;
  packetsReceived?: number;
  packetsLost?: number;
  packetsSent?: number;
  jitter?: number;
  roundTripTime?: number;
  currentRoundTripTime?: number;
  state?: string;
  nominated?: boolean;
  selectedCandidatePairId?: string;
}

/**
 * Summarises the stats reports of one participant's streams (each consumer's receiver, or each of
 * our producers' senders) into one quality; `previous` holds the counters of the last sample.
 */
export function summarizeStats(
  reports: StatsEntry[][],
  previous: PacketCounters | undefined,
): { quality: ConnectionQuality | null; counters: PacketCounters } {
  const counters: PacketCounters = { expected: 0, lost: 0 };
  const jitters: Record<'audio' | 'video', number[]> = { audio: [], video: [] };
  const roundTrips: number[] = [];
  let streams = 0;
  for (const entries of reports) {
    for (const s of entries) {
      if (s.type === 'inbound-rtp') {
        // Received from someone: what arrived here, and what should have.
        streams++;
        const lost = Math.max(0, s.packetsLost ?? 0);
        counters.expected += (s.packetsReceived ?? 0) + lost;
        counters.lost += lost;
        if (s.jitter !== undefined) jitters[s.kind === 'audio' ? 'audio' : 'video'].push(s.jitter * 1000);
      } else if (s.type === 'remote-inbound-rtp') {
        // Sent by us: what the SFU says it received (packetsReceived is not in these reports).
        streams++;
        counters.lost += Math.max(0, s.packetsLost ?? 0);
        if (s.jitter !== undefined) jitters[s.kind === 'audio' ? 'audio' : 'video'].push(s.jitter * 1000);
        if (s.roundTripTime !== undefined) roundTrips.push(s.roundTripTime * 1000);
      } else if (s.type === 'outbound-rtp') {
        counters.expected += s.packetsSent ?? 0;
      }
    }
    const pair = selectedPair(entries);
    if (pair?.currentRoundTripTime !== undefined) roundTrips.push(pair.currentRoundTripTime * 1000);
  }
  if (streams === 0) return { quality: null, counters };
  const figures = {
    roundTripMs: worst(roundTrips),
    lossPercent: lossBetween(previous, counters),
    jitterMs: worst(jitters.audio.length > 0 ? jitters.audio : jitters.video),
  };
  return { quality: { level: qualityLevel(figures), ...figures }, counters };
}

function worst(figures: number[]): number | null {
  return figures.length > 0 ? Math.max(...figures) : null;
}

function selectedPair(entries: StatsEntry[]): StatsEntry | undefined {
  const transport = entries.find((s) => s.type === 'transport' && s.selectedCandidatePairId !== undefined);
  if (transport !== undefined) return entries.find((s) => s.id === transport.selectedCandidatePairId);
  return entries.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated === true);
}

function lossBetween(previous: PacketCounters | undefined, now: PacketCounters): number | null {
  if (previous === undefined) return null;
  const lost = now.lost - previous.lost;
  const expected = now.expected - previous.expected;
  // A counter that went backwards means the streams changed (someone's consumer was replaced).
  if (lost < 0 || expected <= 0) return null;
  return Math.min(100, (100 * lost) / expected);
}
