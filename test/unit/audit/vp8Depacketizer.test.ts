// VP8 payload descriptors (RFC 7741 §4.2) and reassembly of whole frames from packets of one SSRC:
// in order, reordered, lost, duplicated, late, and across the 16-bit sequence number wrap.
import { describe, expect, it } from 'vitest';
import {
  MalformedPacketError,
  Vp8Depacketizer,
  parseRtpPacket,
  parseVp8PayloadDescriptor,
  type RtpPacket,
  type Vp8Frame,
} from '../../../audit/src/index.ts';
import { readIvfFrames } from '../../support/codecFixtures.ts';
import { Vp8RtpStream, serializeRtpPacket } from '../../support/rtpPackets.ts';

const SSRC = 0x1234;

function descriptorError(bytes: number[]): MalformedPacketError {
  try {
    parseVp8PayloadDescriptor(Uint8Array.from(bytes));
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedPacketError);
    return error as MalformedPacketError;
  }
  throw new Error('parsed a malformed descriptor');
}

describe('parseVp8PayloadDescriptor', () => {
  it('reads the one-byte descriptor: N, S, PID', () => {
    expect(parseVp8PayloadDescriptor(Uint8Array.from([0x10, 0xaa]))).toMatchObject({
      extended: false,
      nonReference: false,
      startOfPartition: true,
      partitionIndex: 0,
      pictureId: undefined,
      length: 1,
    });
    expect(parseVp8PayloadDescriptor(Uint8Array.from([0x23, 0xaa]))).toMatchObject({
      nonReference: true,
      startOfPartition: false,
      partitionIndex: 3,
      length: 1,
    });
  });

  it('reads a 7-bit and a 15-bit PictureID', () => {
    expect(parseVp8PayloadDescriptor(Uint8Array.from([0x90, 0x80, 0x55, 0xaa]))).toMatchObject({
      pictureId: 0x55,
      pictureIdBits: 7,
      length: 3,
    });
    expect(parseVp8PayloadDescriptor(Uint8Array.from([0x90, 0x80, 0xf2, 0x34, 0xaa]))).toMatchObject({
      pictureId: 0x7234,
      pictureIdBits: 15,
      length: 4,
    });
  });

  it('reads TL0PICIDX and the TID/Y/KEYIDX byte (T, K, or both)', () => {
    // X; I L T K; 15-bit PictureID; TL0PICIDX 7; TID 2, Y, KEYIDX 5.
    const all = parseVp8PayloadDescriptor(Uint8Array.from([0x90, 0xf0, 0x80, 0x01, 0x07, 0xa5, 0xaa]));
    expect(all).toMatchObject({
      pictureId: 1,
      tl0PicIdx: 7,
      temporalLayerId: 2,
      layerSync: true,
      keyIndex: 5,
      length: 6,
    });
    const onlyK = parseVp8PayloadDescriptor(Uint8Array.from([0x80, 0x10, 0xc3, 0xaa]));
    expect(onlyK).toMatchObject({ temporalLayerId: undefined, layerSync: undefined, keyIndex: 3, length: 3 });
    const onlyT = parseVp8PayloadDescriptor(Uint8Array.from([0x80, 0x20, 0x40, 0xaa]));
    expect(onlyT).toMatchObject({ temporalLayerId: 1, layerSync: false, keyIndex: undefined, length: 3 });
  });

  it('rejects a descriptor cut off anywhere, and one with no VP8 data after it', () => {
    expect(descriptorError([]).code).toBe('truncated');
    expect(descriptorError([0x80]).code).toBe('truncated');
    expect(descriptorError([0x80, 0x80]).code).toBe('truncated');
    expect(descriptorError([0x80, 0x80, 0x80]).code).toBe('truncated');
    expect(descriptorError([0x80, 0x40]).code).toBe('truncated');
    expect(descriptorError([0x80, 0x30]).code).toBe('truncated');
    expect(descriptorError([0x10]).code).toBe('empty-payload');
    expect(descriptorError([0x90, 0xf0, 0x80, 0x01, 0x07, 0xa5])).toMatchObject({
      layer: 'vp8',
      code: 'empty-payload',
    });
  });
});

/** Frames of the real fixture, packetized into small packets so each spans several. */
function fixturePackets(
  sequenceNumber = 1000,
  maxPayloadSize = 100,
): { frames: Uint8Array[]; packets: RtpPacket[][] } {
  const frames = readIvfFrames();
  const stream = new Vp8RtpStream({ ssrc: SSRC, payloadType: 96, sequenceNumber, maxPayloadSize });
  const packets = frames.map((frame, i) => stream.packetize(frame, 3000 * (i + 1)).map(parseRtpPacket));
  return { frames, packets };
}

function pushAll(depacketizer: Vp8Depacketizer, packets: RtpPacket[]): Vp8Frame[] {
  return packets.flatMap((p) => depacketizer.push(p));
}

describe('Vp8Depacketizer', () => {
  it('reassembles real frames byte for byte, with key frame, PictureID and sequence numbers', () => {
    const { frames, packets } = fixturePackets();
    expect(packets[0]!.length).toBeGreaterThan(10);
    const d = new Vp8Depacketizer();
    const out = pushAll(d, packets.flat());
    expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f]));
    expect(out.map((f) => f.keyframe)).toEqual([true, false, false]);
    expect(out.map((f) => f.pictureId)).toEqual([0, 1, 2]);
    expect(out[0]).toMatchObject({
      codec: 'vp8',
      ssrc: SSRC,
      timestamp: 3000,
      firstSequenceNumber: 1000,
      packetCount: packets[0]!.length,
      lastSequenceNumber: 1000 + packets[0]!.length - 1,
    });
    expect(d.stats).toEqual({
      frames: 3,
      discardedFrames: 0,
      latePackets: 0,
      duplicatePackets: 0,
      paddingPackets: 0,
    });
    expect(d.ssrc).toBe(SSRC);
  });

  it('emits a one-packet frame from a packet with S = 1, PID = 0 and the marker', () => {
    const d = new Vp8Depacketizer();
    const packet = parseRtpPacket(
      serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: 5,
        timestamp: 9,
        ssrc: SSRC,
        marker: true,
        payload: Uint8Array.from([0x10, 0x01, 0x02]),
      }),
    );
    expect(d.push(packet).map((f) => [...f.data])).toEqual([[0x01, 0x02]]);
  });

  it('reorders packets within a frame and across frames', () => {
    const { frames, packets } = fixturePackets();
    const shuffled = packets.map((p) => [...p].reverse());
    const d = new Vp8Depacketizer();
    const out = pushAll(d, shuffled.flat());
    expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f]));
    expect(d.stats.discardedFrames).toBe(0);
  });

  it('reassembles frames that straddle the sequence number wrap', () => {
    const { frames, packets } = fixturePackets(0xfffa);
    const seqs = packets[0]!.map((p) => p.sequenceNumber);
    expect(seqs).toContain(0xffff);
    expect(seqs).toContain(0);
    // Reversed too, so the packet after the wrap comes first.
    const d = new Vp8Depacketizer();
    const out = pushAll(
      d,
      packets.flatMap((p) => [...p].reverse()),
    );
    expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f]));
  });

  it('discards a frame that lost a packet (or its start, or its marker) and goes on with the next', () => {
    for (const lose of ['middle', 'start', 'marker'] as const) {
      const { frames, packets } = fixturePackets();
      const first = [...packets[0]!];
      const index = lose === 'start' ? 0 : lose === 'marker' ? first.length - 1 : 3;
      first.splice(index, 1);
      const d = new Vp8Depacketizer();
      const out = pushAll(d, [...first, ...packets[1]!, ...packets[2]!]);
      expect(
        out.map((f) => [...f.data]),
        lose,
      ).toEqual(frames.slice(1).map((f) => [...f]));
      expect(d.stats.discardedFrames, lose).toBe(1);
      // The lost packet arriving late no longer makes a frame.
      expect(d.push(packets[0]![index]!), lose).toEqual([]);
      expect(d.stats.latePackets, lose).toBe(1);
    }
  });

  it('emits a newer frame first when it completes first, then drops the older one', () => {
    const { frames, packets } = fixturePackets();
    const [a, b] = [packets[0]!, packets[1]!];
    const d = new Vp8Depacketizer();
    const out = pushAll(d, [...a.slice(0, -1), ...b, a.at(-1)!]);
    expect(out.map((f) => [...f.data])).toEqual([[...frames[1]!]]);
    expect(d.stats).toMatchObject({ frames: 1, discardedFrames: 1, latePackets: 1 });
  });

  it('ignores duplicates and padding-only packets', () => {
    const { frames, packets } = fixturePackets();
    const d = new Vp8Depacketizer();
    const withDuplicates = packets[0]!.flatMap((p) => [p, p]);
    const probe = parseRtpPacket(
      serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: 1,
        timestamp: 1,
        ssrc: SSRC,
        payload: new Uint8Array(0),
        padding: 200,
      }),
    );
    const out = pushAll(d, [probe, ...withDuplicates, packets[0]![0]!]);
    expect(out.map((f) => [...f.data])).toEqual([[...frames[0]!]]);
    expect(d.stats).toMatchObject({
      frames: 1,
      duplicatePackets: packets[0]!.length - 1,
      // the marker packet completes the frame, so its duplicate comes late
      latePackets: 2,
      paddingPackets: 1,
    });
  });

  it('holds a bounded number of incomplete frames', () => {
    const d = new Vp8Depacketizer({ maxPendingFrames: 4 });
    // Twenty frames that each lack their marker packet.
    for (let i = 0; i < 20; i++) {
      const packet = serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: 2 * i,
        timestamp: 100 * i,
        ssrc: SSRC,
        payload: Uint8Array.from([0x10, i]),
      });
      expect(d.push(parseRtpPacket(packet))).toEqual([]);
    }
    expect(d.stats.discardedFrames).toBe(16);
    const big = new Vp8Depacketizer({ maxPacketsPerFrame: 3 });
    for (let i = 0; i < 5; i++) {
      const packet = serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: i,
        timestamp: 7,
        ssrc: SSRC,
        payload: Uint8Array.from([0x00, i]),
      });
      big.push(parseRtpPacket(packet));
    }
    expect(big.stats.discardedFrames).toBe(1);
  });

  it('refuses a bad descriptor or another SSRC with a typed error, and keeps working', () => {
    const { frames, packets } = fixturePackets();
    const d = new Vp8Depacketizer();
    d.push(packets[0]![0]!);
    const bad = parseRtpPacket(
      serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: 1,
        timestamp: 3000,
        ssrc: SSRC,
        payload: Uint8Array.from([0x80]),
      }),
    );
    expect(() => d.push(bad)).toThrow(expect.objectContaining({ code: 'truncated', layer: 'vp8' }));
    const other = { ...packets[0]![1]!, ssrc: SSRC + 1 };
    expect(() => d.push(other)).toThrow(expect.objectContaining({ code: 'wrong-ssrc' }));
    expect(pushAll(d, packets[0]!.slice(1)).map((f) => [...f.data])).toEqual([[...frames[0]!]]);
  });
});
