// The audit's H.264 side, without any key: RFC 6184 depacketization (single NAL unit, STAP-A, FU-A)
// of real libx264 frames, and the layout check: frames sealed in Conclave's NAL unit layout pass
// with their KIDs and CTRs, and plaintext (a real IDR slice, or one slice left clear in an otherwise
// sealed frame) is flagged, through the inspector and through verifyCapture.
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import {
  H264Depacketizer,
  inspectSFrameFrame,
  parseH264Payload,
  parseRtpPacket,
  verifyCapture,
  type H264Frame,
} from '../../../audit/src/index.ts';
import { readH264AccessUnits } from '../../support/codecFixtures.ts';
import { sealConclaveH264Frame } from '../../support/conclaveFrames.ts';
import { H264RtpStream, annexBNalUnits, serializeRtpPacket } from '../../support/rtpPackets.ts';

const accessUnits = readH264AccessUnits();
const baseKey = new Uint8Array(16).fill(0x42);
const kid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 0n, epoch: 3n, indexBits: 1 });
const PT = 102;

function depacketize(packets: Uint8Array[]): { frames: H264Frame[]; depacketizer: H264Depacketizer } {
  const depacketizer = new H264Depacketizer();
  const frames = packets.flatMap((bytes) => depacketizer.push(parseRtpPacket(bytes)));
  return { frames, depacketizer };
}

function packetizeAll(frames: Uint8Array[], maxPayloadSize = 300, sequenceNumber = 65530): Uint8Array[] {
  const stream = new H264RtpStream({ ssrc: 0x4242, payloadType: PT, sequenceNumber, maxPayloadSize });
  return frames.flatMap((frame, i) => stream.packetize(frame, 9000 * (i + 1)));
}

async function sealAll(frames: Uint8Array[]): Promise<Uint8Array[]> {
  return Promise.all(
    frames.map((frame, i) => sealConclaveH264Frame(frame, { baseKey, kid, ctr: BigInt(i) })),
  );
}

describe('H264Depacketizer (RFC 6184 mode 1)', () => {
  it('puts real frames back together from STAP-A, single NAL unit and FU-A packets, across a sequence wrap', () => {
    const packets = packetizeAll(accessUnits);
    const types = packets.map((p) => parseRtpPacket(p).payload[0]! & 0x1f);
    expect(types).toContain(24);
    expect(types).toContain(28);
    const { frames } = depacketize(packets);
    expect(frames.map((f) => f.nalUnits)).toEqual(accessUnits.map(annexBNalUnits));
    expect(frames.map((f) => f.keyframe)).toEqual([true, false, false]);
  });

  it('waits for reordered packets and discards a frame that lost one', () => {
    const packets = packetizeAll(accessUnits);
    const swapped = [packets[1]!, packets[0]!, ...packets.slice(2)];
    expect(depacketize(swapped).frames.map((f) => f.nalUnits)).toEqual(accessUnits.map(annexBNalUnits));
    const firstFramePackets = packetizeAll(accessUnits.slice(0, 1)).length;
    const lossy = packets.filter((_, i) => i !== 2);
    const { frames, depacketizer } = depacketize(lossy);
    // The key frame lost a packet; the next two frames still complete and are emitted.
    expect(frames.map((f) => f.timestamp)).toEqual([18000, 27000]);
    expect(depacketizer.stats.discardedFrames).toBe(1);
    expect(firstFramePackets).toBeGreaterThan(2);
  });

  it('does not start a frame at a packet that cannot open one, when the one before was never seen', () => {
    const packets = packetizeAll(accessUnits.slice(1, 2), 200);
    expect(depacketize(packets).frames).toHaveLength(1);
    // Without its access unit delimiter, the first slice (first_mb_in_slice 0) still opens it, as in
    // libwebrtc; without that slice's first fragment as well, nothing can tell where the frame began.
    expect(depacketize(packets.slice(1)).frames).toHaveLength(1);
    expect(depacketize(packets.slice(2)).frames).toHaveLength(0);
  });

  it('refuses payloads that are not RFC 6184 mode 1', () => {
    expect(() => parseH264Payload(Uint8Array.of(24, 0, 5, 0x67))).toThrow(/overruns/);
    expect(() => parseH264Payload(Uint8Array.of(24, 0))).toThrow(/inside a NAL unit size/);
    expect(() => parseH264Payload(Uint8Array.of(28, 0x85))).toThrow(/FU-A without a fragment/);
    expect(() => parseH264Payload(Uint8Array.of(25, 1, 2))).toThrow(/type 25/);
    const fuMiddle = serializeRtpPacket({
      payloadType: PT,
      sequenceNumber: 1,
      timestamp: 1,
      ssrc: 1,
      marker: true,
      payload: Uint8Array.of(0x7c, 0x05, 1, 2, 3),
    });
    const start = serializeRtpPacket({
      payloadType: PT,
      sequenceNumber: 0,
      timestamp: 1,
      ssrc: 1,
      marker: false,
      payload: Uint8Array.of(0x09, 0x10),
    });
    expect(() => depacketize([start, fuMiddle])).toThrow(/FU-A fragment without its start/);
  });
});

describe('H.264 frames through the inspector', () => {
  it('flags every plaintext libx264 frame, naming its first slice (an IDR slice in the key frame)', () => {
    const inspections = accessUnits.map((frame) => inspectSFrameFrame(frame, 'h264'));
    expect(inspections.map((i) => (i.ok ? 'ok' : i.violation.code))).toEqual([
      'h264-plaintext',
      'h264-plaintext',
      'h264-plaintext',
    ]);
    const [key] = inspections;
    expect(key?.ok === false && key.violation).toMatchObject({
      keyframe: true,
      plaintext: 'IDR slice (type 5) of 505 bytes, first_mb_in_slice 0, slice_type 7',
    });
  });

  it('passes sealed frames with their KID and CTR, and flags a sealed frame whose IDR slice went out clear', async () => {
    const sealed = await sealAll(accessUnits);
    const inspections = sealed.map((frame) => inspectSFrameFrame(frame, 'h264', { indexBits: 1 }));
    expect(inspections.map((i) => i.ok && [i.kid, i.ctr, i.keyframe])).toEqual([
      [kid, 0n, true],
      [kid, 1n, false],
      [kid, 2n, false],
    ]);
    // The sealed key frame with its second IDR slice swapped for the plaintext one.
    const wire = annexBNalUnits(sealed[0]!);
    const plain = annexBNalUnits(accessUnits[0]!);
    const mixed = Uint8Array.from([...wire.slice(0, 5), plain[5]!].flatMap((u) => [0, 0, 0, 1, ...u]));
    const inspection = inspectSFrameFrame(mixed, 'h264');
    expect(inspection.ok === false && inspection.violation.code).toBe('h264-plaintext');
    // An SPS is clear by design and no violation; an unspecified NAL unit type is.
    const odd = Uint8Array.from([...sealed[1]!, 0, 0, 1, 0x1f, 1, 2]);
    const oddInspection = inspectSFrameFrame(odd, 'h264');
    expect(oddInspection.ok === false && oddInspection.violation.code).toBe('bad-nal-unit');
  });

  it('verifyCapture: a sealed H.264 stream passes, the same frames in the clear fail with a plaintext IDR slice', async () => {
    const streams = [
      {
        ssrc: 0x4242,
        payloadType: PT,
        codec: 'video/H264',
        kind: 'video' as const,
        source: 'camera' as const,
      },
    ];
    const asDatagrams = (packets: Uint8Array[]) => packets.map((payload, i) => ({ number: i + 1, payload }));
    const sealedReport = verifyCapture(asDatagrams(packetizeAll(await sealAll(accessUnits))), { streams });
    expect(sealedReport).toMatchObject({ ok: true, frames: 3, okFrames: 3, violations: 0 });
    expect(sealedReport.streams[0]).toMatchObject({ codec: 'h264', verifiable: true, keyframes: 1 });
    expect(sealedReport.streams[0]!.kids).toMatchObject([{ kid, frames: 3, ctr: { min: 0n, max: 2n } }]);

    const plainReport = verifyCapture(asDatagrams(packetizeAll(accessUnits)), { streams });
    expect(plainReport.ok).toBe(false);
    expect(plainReport.streams[0]!.violations.map((v) => v.code)).toEqual([
      'h264-plaintext',
      'h264-plaintext',
      'h264-plaintext',
    ]);
    expect(plainReport.streams[0]!.violations[0]!.plaintext).toMatch(/^IDR slice/);
  });
});
