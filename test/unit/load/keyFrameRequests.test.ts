// The simulated camera's reading of the SFU's RTCP (test/support/media/keyFrameRequests.ts): PLI and
// FIR found in compound packets, other feedback and malformed input not, and the jump to the loop's
// next key frame.
import { describe, expect, it } from 'vitest';
import { hasKeyFrameRequest, isRtcp, nextKeyFrame } from '../../support/media/keyFrameRequests.ts';

/** One RTCP packet: V=2, the count/format field, the type, and `words` 32-bit words after the header. */
function rtcpPacket(format: number, type: number, words: number): Uint8Array {
  const packet = new Uint8Array(4 + 4 * words);
  packet[0] = 0x80 | format;
  packet[1] = type;
  packet[3] = words;
  return packet;
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const receiverReport = rtcpPacket(0, 201, 1);
const pli = rtcpPacket(1, 206, 2);
const fir = rtcpPacket(4, 206, 4);
const remb = rtcpPacket(15, 206, 4);
const nack = rtcpPacket(1, 205, 3);

describe('hasKeyFrameRequest', () => {
  it('finds a PLI or a FIR, alone or after other packets of a compound', () => {
    expect(hasKeyFrameRequest(pli)).toBe(true);
    expect(hasKeyFrameRequest(fir)).toBe(true);
    expect(hasKeyFrameRequest(concat(receiverReport, pli))).toBe(true);
    expect(hasKeyFrameRequest(concat(receiverReport, nack, fir))).toBe(true);
  });

  it('does not take other feedback (REMB, a NACK with FMT 1) for a key frame request', () => {
    expect(hasKeyFrameRequest(remb)).toBe(false);
    expect(hasKeyFrameRequest(nack)).toBe(false);
    expect(hasKeyFrameRequest(concat(receiverReport, remb))).toBe(false);
  });

  it('stops at malformed input without throwing', () => {
    expect(hasKeyFrameRequest(new Uint8Array(0))).toBe(false);
    expect(hasKeyFrameRequest(pli.subarray(0, 8))).toBe(false); // length says 12 bytes
    const badVersion = concat(pli);
    badVersion[0] = 0x41;
    expect(hasKeyFrameRequest(badVersion)).toBe(false);
    expect(hasKeyFrameRequest(concat(rtcpPacket(0, 201, 200).subarray(0, 12), pli))).toBe(false);
  });
});

describe('isRtcp', () => {
  it('tells RTCP (types 192–223) from RTP on a muxed port', () => {
    expect(isRtcp(concat(receiverReport, new Uint8Array(4)))).toBe(true);
    const rtp = new Uint8Array(12);
    rtp[0] = 0x80;
    rtp[1] = 96; // VP8
    expect(isRtcp(rtp)).toBe(false);
    rtp[1] = 0x80 | 96; // the marker bit set
    expect(isRtcp(rtp)).toBe(false);
    expect(isRtcp(new Uint8Array(4))).toBe(false);
  });
});

describe('nextKeyFrame', () => {
  it('moves to the next multiple of the key frame interval, or stays on a key frame', () => {
    expect(nextKeyFrame(0, 25)).toBe(0);
    expect(nextKeyFrame(1, 25)).toBe(25);
    expect(nextKeyFrame(24, 25)).toBe(25);
    expect(nextKeyFrame(25, 25)).toBe(25);
    expect(nextKeyFrame(26, 25)).toBe(50);
  });
});
