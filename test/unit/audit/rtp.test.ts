// RTP parsing (RFC 3550 §5.1) with RFC 8285 header extensions, from packets built byte by byte.
import { describe, expect, it } from 'vitest';
import { MalformedPacketError, parseRtpPacket } from '../../../audit/src/index.ts';
import {
  oneByteExtension,
  serializeRtpPacket,
  twoByteExtension,
  type RtpPacketSpec,
} from '../../support/rtpPackets.ts';

const payload = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01]);
const base: RtpPacketSpec = {
  payloadType: 96,
  sequenceNumber: 0xfffe,
  timestamp: 0xfedcba98,
  ssrc: 0x89abcdef,
  payload,
};

function malformed(bytes: Uint8Array): MalformedPacketError {
  try {
    parseRtpPacket(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedPacketError);
    return error as MalformedPacketError;
  }
  throw new Error('parsed a malformed packet');
}

describe('parseRtpPacket', () => {
  it('reads every fixed header field and the payload', () => {
    const packet = parseRtpPacket(serializeRtpPacket({ ...base, marker: true }));
    expect(packet).toMatchObject({
      version: 2,
      padding: false,
      marker: true,
      payloadType: 96,
      sequenceNumber: 0xfffe,
      timestamp: 0xfedcba98,
      ssrc: 0x89abcdef,
      csrcs: [],
      extension: undefined,
      headerLength: 12,
      paddingLength: 0,
    });
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('a hand-written packet: V=2, M=1, PT=111, seq 1, ts 2, SSRC 3, payload 0xaa', () => {
    const bytes = Uint8Array.from([0x80, 0xef, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xaa]);
    expect(parseRtpPacket(bytes)).toMatchObject({
      marker: true,
      payloadType: 111,
      sequenceNumber: 1,
      timestamp: 2,
      ssrc: 3,
      payload: Uint8Array.from([0xaa]),
    });
  });

  it('skips CSRCs and lists them', () => {
    const packet = parseRtpPacket(serializeRtpPacket({ ...base, csrcs: [1, 0xffffffff, 3] }));
    expect(packet.csrcs).toEqual([1, 0xffffffff, 3]);
    expect(packet.headerLength).toBe(24);
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('skips a one-byte-form extension block (RFC 8285 §4.2) and lists its elements, padding left out', () => {
    const extension = oneByteExtension([
      { id: 1, data: Uint8Array.from([0x7f]) }, // e.g. audio level
      { id: 4, data: Uint8Array.from([1, 2, 3]) },
    ]);
    // A padding byte between elements is legal: put one in by hand.
    const withPadding = Uint8Array.from([0x10, 0x7f, 0x00, 0x42, 1, 2, 3, 0]);
    for (const ext of [extension, { profile: 0xbede, data: withPadding }]) {
      const packet = parseRtpPacket(serializeRtpPacket({ ...base, csrcs: [7], extension: ext }));
      expect(packet.extension?.profile).toBe(0xbede);
      expect(packet.extension?.elements.map((e) => [e.id, [...e.data]])).toEqual([
        [1, [0x7f]],
        [4, [1, 2, 3]],
      ]);
      expect(packet.headerLength).toBe(12 + 4 + 4 + ext.data.length);
      expect([...packet.payload]).toEqual([...payload]);
    }
  });

  it('stops reading one-byte elements at the reserved ID 15 but still skips the whole block', () => {
    const data = Uint8Array.from([0x10, 0xaa, 0xf3, 0x99, 0x20, 0xbb, 0, 0]);
    const packet = parseRtpPacket(serializeRtpPacket({ ...base, extension: { profile: 0xbede, data } }));
    expect(packet.extension?.elements.map((e) => e.id)).toEqual([1]);
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('skips a two-byte-form extension block (RFC 8285 §4.3), including a zero-length element', () => {
    const long = new Uint8Array(20).fill(9);
    const extension = twoByteExtension([
      { id: 200, data: long },
      { id: 3, data: new Uint8Array(0) },
    ]);
    const packet = parseRtpPacket(
      serializeRtpPacket({ ...base, extension: { ...extension, profile: 0x1005 } }),
    );
    expect(packet.extension?.elements.map((e) => [e.id, e.data.length])).toEqual([
      [200, 20],
      [3, 0],
    ]);
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('skips an extension of another profile by its length without reading elements', () => {
    const data = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    const packet = parseRtpPacket(serializeRtpPacket({ ...base, extension: { profile: 0x1234, data } }));
    expect(packet.extension).toMatchObject({ profile: 0x1234, elements: [] });
    expect(packet.extension?.data.length).toBe(8);
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('removes padding, counted by the last byte', () => {
    const packet = parseRtpPacket(serializeRtpPacket({ ...base, padding: 7 }));
    expect(packet).toMatchObject({ padding: true, paddingLength: 7 });
    expect([...packet.payload]).toEqual([...payload]);
    // A padding-only packet (a bandwidth probe) has an empty payload.
    const probe = parseRtpPacket(serializeRtpPacket({ ...base, payload: new Uint8Array(0), padding: 255 }));
    expect(probe.payload.length).toBe(0);
  });

  it('returns views into the input, also for a subarray input', () => {
    const bytes = serializeRtpPacket(base);
    const framed = new Uint8Array(bytes.length + 10);
    framed.set(bytes, 5);
    const packet = parseRtpPacket(framed.subarray(5, 5 + bytes.length));
    expect(packet.ssrc).toBe(base.ssrc);
    expect(packet.payload.buffer).toBe(framed.buffer);
    expect([...packet.payload]).toEqual([...payload]);
  });

  it('rejects malformed packets with a typed reason', () => {
    const good = serializeRtpPacket({ ...base, csrcs: [1, 2], extension: oneByteExtension([]) });
    expect(malformed(new Uint8Array(0)).code).toBe('truncated');
    expect(malformed(good.subarray(0, 11)).code).toBe('truncated');
    expect(malformed(serializeRtpPacket({ ...base, version: 1 })).code).toBe('bad-version');
    expect(malformed(serializeRtpPacket({ ...base, version: 0 })).code).toBe('bad-version');
    // CSRC count says 2, only one fits.
    expect(malformed(good.subarray(0, 16)).code).toBe('truncated');
    // The extension header, then its declared length, cut off.
    const extended = serializeRtpPacket({
      ...base,
      extension: oneByteExtension([{ id: 1, data: new Uint8Array(8) }]),
    });
    expect(malformed(extended.subarray(0, 14)).code).toBe('truncated');
    expect(malformed(extended.subarray(0, 20)).code).toBe('truncated');
    // Padding count 0, and padding longer than the payload.
    const zeroPad = serializeRtpPacket({ ...base, padding: 1 });
    zeroPad[zeroPad.length - 1] = 0;
    expect(malformed(zeroPad).code).toBe('bad-padding');
    const longPad = serializeRtpPacket({ ...base, padding: 1 });
    longPad[longPad.length - 1] = payload.length + 2;
    expect(malformed(longPad).code).toBe('bad-padding');
    const noRoom = Uint8Array.from([0xa0, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    expect(malformed(noRoom).code).toBe('bad-padding');
    // An element that says it is longer than its block.
    const overrun = { profile: 0xbede, data: Uint8Array.from([0x1f, 0, 0, 0]) };
    expect(malformed(serializeRtpPacket({ ...base, extension: overrun })).code).toBe('bad-extension');
    const twoOverrun = { profile: 0x1000, data: Uint8Array.from([5, 9, 0, 0]) };
    expect(malformed(serializeRtpPacket({ ...base, extension: twoOverrun })).code).toBe('bad-extension');
    const noLength = { profile: 0x1000, data: Uint8Array.from([0, 0, 0, 5]) };
    expect(malformed(serializeRtpPacket({ ...base, extension: noLength })).code).toBe('bad-extension');
    expect(malformed(good.subarray(0, 1)).layer).toBe('rtp');
  });
});
