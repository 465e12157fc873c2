// Opus over RTP (RFC 7587): one packet's payload is one frame.
import { describe, expect, it } from 'vitest';
import { opusFrameFromPacket, parseRtpPacket } from '../../../audit/src/index.ts';
import { readOggOpusPackets } from '../../support/codecFixtures.ts';
import { OpusRtpStream, oneByteExtension, serializeRtpPacket } from '../../support/rtpPackets.ts';

describe('opusFrameFromPacket', () => {
  it('returns each real Opus packet as one frame, with its RTP fields', () => {
    const stream = new OpusRtpStream({ ssrc: 77, payloadType: 111, sequenceNumber: 0xffff });
    for (const [i, opus] of readOggOpusPackets().entries()) {
      const frame = opusFrameFromPacket(parseRtpPacket(stream.packetize(opus, 960 * i)));
      expect(frame).toMatchObject({
        codec: 'opus',
        ssrc: 77,
        timestamp: 960 * i,
        firstSequenceNumber: (0xffff + i) & 0xffff,
        lastSequenceNumber: (0xffff + i) & 0xffff,
        packetCount: 1,
      });
      expect([...frame!.data]).toEqual([...opus]);
    }
  });

  it('leaves header extensions and padding out of the frame, and has no frame for a padding-only packet', () => {
    const payload = Uint8Array.from([0x78, 1, 2, 3]);
    const spec = { payloadType: 111, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload };
    const audioLevel = oneByteExtension([{ id: 1, data: Uint8Array.from([0x80 | 30]) }]);
    const frame = opusFrameFromPacket(
      parseRtpPacket(serializeRtpPacket({ ...spec, extension: audioLevel, padding: 3 })),
    );
    expect([...frame!.data]).toEqual([...payload]);
    const probe = parseRtpPacket(serializeRtpPacket({ ...spec, payload: new Uint8Array(0), padding: 100 }));
    expect(opusFrameFromPacket(probe)).toBeUndefined();
  });
});
