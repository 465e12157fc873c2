// How one direction's RTP stream stats add up (server/src/observability/mediaReading.ts), from
// stats shaped as mediasoup's getStats() returns them: RTCP's 8-bit fraction lost, RFC 3550 jitter
// in RTP timestamp units, round-trip time in milliseconds, bitrate in bits per second.
import type { types } from 'mediasoup';
import { describe, expect, it } from 'vitest';
import { StreamTotals } from '../../../../server/src/observability/mediaReading.ts';

function producerStat(overrides: Partial<types.ProducerStat>): types.ProducerStat {
  return {
    type: 'inbound-rtp',
    timestamp: 0,
    ssrc: 1,
    kind: 'video',
    mimeType: 'video/VP8',
    packetsLost: 0,
    fractionLost: 0,
    packetsDiscarded: 0,
    packetsRetransmitted: 0,
    packetsRepaired: 0,
    nackCount: 0,
    nackPacketCount: 0,
    pliCount: 0,
    firCount: 0,
    score: 10,
    packetCount: 0,
    byteCount: 0,
    bitrate: 0,
    jitter: 0,
    ...overrides,
  };
}

describe('StreamTotals', () => {
  it('adds packets, loss and bitrate, and converts fraction lost, jitter and round-trip time', () => {
    const totals = new StreamTotals();
    totals.add(
      producerStat({
        packetCount: 900,
        packetsLost: 3,
        fractionLost: 64,
        bitrate: 1_200_000,
        jitter: 900,
        roundTripTime: 40,
      }),
      90_000,
    );
    totals.add(
      producerStat({ packetCount: 100, packetsLost: -2, fractionLost: 0, bitrate: 32_000, jitter: 480 }),
      48_000,
    );
    expect(totals.streams).toBe(2);
    expect(totals.packets).toBe(1000);
    // A negative cumulative loss (duplicates counted by the sender) counts as none.
    expect(totals.packetsLost).toBe(3);
    expect(totals.bitsPerSecond).toBe(1_232_000);
    expect(totals.fractionLostSum).toBe(0.25);
    expect(totals.jitterSeconds).toEqual([0.01, 0.01]);
    // Streams without a round-trip time add none.
    expect(totals.roundTripSeconds).toEqual([0.04]);
  });
});
