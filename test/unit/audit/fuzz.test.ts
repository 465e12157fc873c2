// Random and mutated bytes through every audit parser: the only failure allowed is a
// MalformedPacketError, never anything else thrown, and the inspector never throws at all.
// Seeded, bounded iterations, so a failure reproduces.
import { describe, expect, it } from 'vitest';
import {
  H264Depacketizer,
  MalformedPacketError,
  Vp8Depacketizer,
  inspectSFrameFrame,
  opusFrameFromPacket,
  parseH264Payload,
  parseRtpPacket,
  parseVp8PayloadDescriptor,
  type RtpPacket,
} from '../../../audit/src/index.ts';
import { readH264AccessUnits, readIvfFrames } from '../../support/codecFixtures.ts';
import { sealConclaveH264Frame } from '../../support/conclaveFrames.ts';
import {
  H264RtpStream,
  Vp8RtpStream,
  oneByteExtension,
  serializeRtpPacket,
} from '../../support/rtpPackets.ts';
import { prng } from '../../support/prng.ts';

function bytesFrom(next: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => next() & 0xff);
}

function mutate(bytes: Uint8Array, next: () => number): Uint8Array {
  const at = bytes.length === 0 ? 0 : next() % bytes.length;
  switch (next() % 4) {
    case 0:
      return bytes.subarray(0, at);
    case 1:
      return Uint8Array.from([...bytes.subarray(0, at), next() & 0xff, ...bytes.subarray(at)]);
    case 2: {
      const copy = bytes.slice();
      copy[at] = (copy[at] ?? 0) ^ (1 << (next() % 8));
      return copy;
    }
    default: {
      const copy = bytes.slice();
      copy[at] = next() & 0xff;
      return copy;
    }
  }
}

/** Runs `fn`; a MalformedPacketError is an allowed outcome, anything else fails the test. */
function allowMalformed<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof MalformedPacketError) return undefined;
    throw error;
  }
}

const validPackets: Uint8Array[] = (() => {
  const stream = new Vp8RtpStream({ ssrc: 5, payloadType: 96, maxPayloadSize: 300 });
  const packets = readIvfFrames().flatMap((frame, i) => stream.packetize(frame, 3000 * i));
  const extension = oneByteExtension([{ id: 3, data: Uint8Array.from([1, 2, 3]) }]);
  packets.push(
    serializeRtpPacket({
      payloadType: 96,
      sequenceNumber: 9,
      timestamp: 9,
      ssrc: 5,
      csrcs: [1],
      extension,
      padding: 4,
      payload: Uint8Array.from([0x10, 0, 0, 0]),
    }),
  );
  return packets;
})();

describe('fuzz', { timeout: 30_000 }, () => {
  it('random bytes: RTP parsing, VP8 descriptors, Opus frames and the inspector (20 000 inputs)', () => {
    const next = prng(0xc0ffee);
    for (let i = 0; i < 20_000; i++) {
      const input = bytesFrom(next, next() % 80);
      const packet = allowMalformed(() => parseRtpPacket(input));
      if (packet !== undefined) {
        expect(packet.headerLength + packet.payload.length + packet.paddingLength).toBe(input.length);
        opusFrameFromPacket(packet);
      }
      allowMalformed(() => parseVp8PayloadDescriptor(input));
      allowMalformed(() => parseH264Payload(input));
      for (const codec of ['vp8', 'opus'] as const) {
        const inspection = inspectSFrameFrame(input, codec);
        if (inspection.ok)
          expect(inspection.prefixLength + inspection.headerLength + inspection.payloadLength).toBe(
            input.length,
          );
      }
    }
  });

  it('mutated real packets through parser, depacketizer and inspector (10 000 inputs)', () => {
    const next = prng(0x5eed);
    const depacketizer = new Vp8Depacketizer({ maxPendingFrames: 8 });
    let parsed = 0;
    let frames = 0;
    for (let i = 0; i < 10_000; i++) {
      let input = validPackets[next() % validPackets.length]!;
      for (let m = next() % 4; m >= 0; m--) input = mutate(input, next);
      const packet: RtpPacket | undefined = allowMalformed(() => parseRtpPacket(input));
      if (packet === undefined) continue;
      parsed++;
      // Keep every packet on one SSRC so the reassembly state itself is fuzzed.
      const out = allowMalformed(() => depacketizer.push({ ...packet, ssrc: 5 })) ?? [];
      for (const frame of out) {
        frames++;
        inspectSFrameFrame(frame.data, 'vp8');
      }
    }
    expect(parsed).toBeGreaterThan(1000);
    expect(frames).toBeGreaterThan(0);
  });

  it('mutated sealed and plaintext H.264 packets through depacketizer and inspector (10 000 inputs)', async () => {
    const units = readH264AccessUnits();
    const sealed = await Promise.all(
      units.map((u, i) =>
        sealConclaveH264Frame(u, { baseKey: new Uint8Array(16), kid: 48n, ctr: BigInt(i) }),
      ),
    );
    const stream = new H264RtpStream({ ssrc: 5, payloadType: 102, maxPayloadSize: 200 });
    const packets = [...units, ...sealed].flatMap((frame, i) => stream.packetize(frame, 9000 * (i + 1)));
    const next = prng(0x264);
    const depacketizer = new H264Depacketizer({ maxPendingFrames: 8 });
    let frames = 0;
    for (let i = 0; i < 10_000; i++) {
      let input = packets[next() % packets.length]!;
      for (let m = next() % 3; m > 0; m--) input = mutate(input, next);
      const packet = allowMalformed(() => parseRtpPacket(input));
      if (packet === undefined) continue;
      for (const frame of allowMalformed(() => depacketizer.push({ ...packet, ssrc: 5 })) ?? []) {
        frames++;
        inspectSFrameFrame(frame.data, 'h264');
      }
      inspectSFrameFrame(packet.payload, 'h264');
    }
    expect(frames).toBeGreaterThan(0);
  });
});
