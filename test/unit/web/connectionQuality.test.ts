// Connection quality from getStats(): loss counted between samples, the worst figure decides the
// level, and reports without RTP streams give no verdict.
import { describe, expect, it } from 'vitest';
import {
  qualityLevel,
  summarizeStats,
  type StatsEntry,
} from '../../../web/src/lib/meeting/connectionQuality.ts';

/** A receiver's report: its inbound stream and the transport's selected candidate pair. */
function received(
  packetsReceived: number,
  packetsLost: number,
  jitter: number,
  rtt: number,
  kind = 'video',
): StatsEntry[] {
  return [
    { type: 'inbound-rtp', id: 'in', kind, packetsReceived, packetsLost, jitter },
    { type: 'transport', id: 't', selectedCandidatePairId: 'p1' },
    { type: 'candidate-pair', id: 'p0', state: 'succeeded', nominated: true, currentRoundTripTime: 9 },
    { type: 'candidate-pair', id: 'p1', state: 'succeeded', nominated: true, currentRoundTripTime: rtt },
  ];
}

describe('qualityLevel', () => {
  it('is as good as the worst figure', () => {
    expect(qualityLevel({ roundTripMs: 40, lossPercent: 0, jitterMs: 5 })).toBe('good');
    expect(qualityLevel({ roundTripMs: 40, lossPercent: 5, jitterMs: 5 })).toBe('fair');
    expect(qualityLevel({ roundTripMs: 300, lossPercent: 0, jitterMs: 5 })).toBe('fair');
    expect(qualityLevel({ roundTripMs: 40, lossPercent: 0, jitterMs: 100 })).toBe('poor');
    expect(qualityLevel({ roundTripMs: 40, lossPercent: 12, jitterMs: 5 })).toBe('poor');
  });

  it('takes figures not measured yet as no evidence of trouble', () => {
    expect(qualityLevel({ roundTripMs: null, lossPercent: null, jitterMs: null })).toBe('good');
  });
});

describe('summarizeStats', () => {
  it('reads round trip from the selected pair, jitter in ms, and no loss figure on the first sample', () => {
    const { quality, counters } = summarizeStats([received(1000, 0, 0.004, 0.025)], undefined);
    expect(quality).toEqual({ level: 'good', roundTripMs: 25, lossPercent: null, jitterMs: 4 });
    expect(counters).toEqual({ expected: 1000, lost: 0 });
  });

  it('counts loss between two samples only, so an old burst does not linger', () => {
    const first = summarizeStats([received(1000, 200, 0.004, 0.025)], undefined);
    const second = summarizeStats([received(1950, 210, 0.004, 0.025)], first.counters);
    expect(second.quality?.lossPercent).toBeCloseTo((100 * 10) / 960, 6);
    expect(second.quality?.level).toBe('good');
    const burst = summarizeStats([received(2850, 310, 0.004, 0.025)], second.counters);
    expect(burst.quality?.lossPercent).toBeCloseTo(10, 6);
    expect(burst.quality?.level).toBe('poor');
  });

  it('sums a participant’s streams, keeps the worst round trip, and takes jitter from audio', () => {
    const audio = received(500, 0, 0.002, 0.02, 'audio');
    const video = received(1500, 0, 0.07, 0.03);
    const { quality } = summarizeStats([audio, video], undefined);
    expect(quality).toMatchObject({ roundTripMs: 30, jitterMs: 2, level: 'good' });
    expect(summarizeStats([video], undefined).quality).toMatchObject({ jitterMs: 70, level: 'poor' });
  });

  it('judges what we send from the SFU’s receiver reports against what we sent', () => {
    const sent = (packetsSent: number, packetsLost: number): StatsEntry[] => [
      { type: 'outbound-rtp', id: 'out', packetsSent },
      {
        type: 'remote-inbound-rtp',
        id: 'rin',
        kind: 'audio',
        packetsLost,
        jitter: 0.01,
        roundTripTime: 0.05,
      },
    ];
    const first = summarizeStats([sent(1000, 0)], undefined);
    const { quality } = summarizeStats([sent(2000, 50)], first.counters);
    expect(quality).toEqual({ level: 'fair', roundTripMs: 50, lossPercent: 5, jitterMs: 10 });
  });

  it('gives no loss figure when the counters went backwards (a stream was replaced)', () => {
    const first = summarizeStats([received(5000, 40, 0.004, 0.025)], undefined);
    expect(summarizeStats([received(100, 0, 0.004, 0.025)], first.counters).quality?.lossPercent).toBeNull();
  });

  it('gives no verdict without any RTP stream', () => {
    expect(summarizeStats([], undefined).quality).toBeNull();
    expect(summarizeStats([[{ type: 'transport', id: 't' }]], undefined).quality).toBeNull();
  });
});
