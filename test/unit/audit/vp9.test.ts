// The audit's VP9 side, without any key: RFC 9628 payload descriptors and frame reassembly of real
// libvpx-vp9 frames; frames sealed in Conclave's layout (no clear prefix: SFrame from the first
// byte) pass, a plaintext key frame is flagged by its frame_sync_code, through verifyCapture.
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import {
  Vp9Depacketizer,
  parseRtpPacket,
  parseVp9PayloadDescriptor,
  verifyCapture,
  vp9PlaintextPicture,
} from '../../../audit/src/index.ts';
import { VP9_FIXTURE, readIvfFrames } from '../../support/codecFixtures.ts';
import { sealConclaveFrame } from '../../support/conclaveFrames.ts';
import { Vp9RtpStream } from '../../support/rtpPackets.ts';

const frames = readIvfFrames(VP9_FIXTURE);
const keyframes = [true, false, false];
const baseKey = new Uint8Array(16).fill(9);
const kid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 1n, epoch: 2n, indexBits: 1 });
const PT = 98;
const streams = [
  { ssrc: 0x9999, payloadType: PT, codec: 'VP9', kind: 'video' as const, source: 'camera' as const },
];

function packetizeAll(payloads: Uint8Array[]): Uint8Array[] {
  const stream = new Vp9RtpStream({
    ssrc: 0x9999,
    payloadType: PT,
    sequenceNumber: 65534,
    maxPayloadSize: 400,
  });
  return payloads.flatMap((frame, i) => stream.packetize(frame, 3000 * (i + 1), keyframes[i]!));
}

const datagrams = (packets: Uint8Array[]) => packets.map((payload, i) => ({ number: i + 1, payload }));

describe('VP9 (RFC 9628)', () => {
  it('parses payload descriptors, flexible and not, with layer indices and a scalability structure', () => {
    expect(parseVp9PayloadDescriptor(Uint8Array.of(0x8c, 0x80, 0x05, 0xaa))).toMatchObject({
      beginsFrame: true,
      endsFrame: true,
      interPicturePredicted: false,
      pictureId: 5,
      length: 3,
    });
    // L (TID 1, SID 2) with TL0PICIDX; V with one layer size (Y) and no picture group.
    expect(
      parseVp9PayloadDescriptor(Uint8Array.of(0x2e, 0x24, 0x07, 0x10, 0, 64, 0, 48, 0xaa)),
    ).toMatchObject({ spatialLayerId: 2, length: 8 });
    // F and P: two P_DIFF bytes (N set on the first).
    expect(parseVp9PayloadDescriptor(Uint8Array.of(0x5c, 0x03, 0x02, 0xaa)).length).toBe(3);
    expect(() => parseVp9PayloadDescriptor(Uint8Array.of(0x8c, 0x80))).toThrow(/15-bit picture ID/);
    expect(() => parseVp9PayloadDescriptor(Uint8Array.of(0x0c))).toThrow(/no VP9 data/);
  });

  it('reassembles real frames byte for byte across a sequence wrap', () => {
    const depacketizer = new Vp9Depacketizer();
    const out = packetizeAll(frames).flatMap((p) => depacketizer.push(parseRtpPacket(p)));
    expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f]));
    expect(out.map((f) => f.keyframe)).toEqual(keyframes);
  });

  it('reads the plaintext key frame by its sync code, and no sealed frame', async () => {
    expect(frames.map((f) => vp9PlaintextPicture(f) !== undefined)).toEqual([true, false, false]);
    const sealed = await Promise.all(
      frames.map((f, i) => sealConclaveFrame('vp9', f, { baseKey, kid, ctr: BigInt(i) })),
    );
    expect(sealed.map((f) => vp9PlaintextPicture(f))).toEqual([undefined, undefined, undefined]);
  });

  it('verifyCapture: a sealed VP9 stream passes; the same frames in the clear fail', async () => {
    const sealed = await Promise.all(
      frames.map((f, i) => sealConclaveFrame('vp9', f, { baseKey, kid, ctr: BigInt(i) })),
    );
    const report = verifyCapture(datagrams(packetizeAll(sealed)), { streams });
    expect(report).toMatchObject({ ok: true, frames: 3, okFrames: 3, violations: 0 });
    expect(report.streams[0]).toMatchObject({ codec: 'vp9', verifiable: true, keyframes: 1 });
    expect(report.streams[0]!.kids).toMatchObject([{ kid, frames: 3, ctr: { min: 0n, max: 2n } }]);

    const plain = verifyCapture(datagrams(packetizeAll(frames)), { streams });
    expect(plain.ok).toBe(false);
    const violations = plain.streams[0]!.violations;
    expect(violations.length).toBeGreaterThan(0);
    // The key frame's header reads as an SFrame header with a 3-byte KID 0x498342 (the sync code):
    // it would pass the KID policy, so the sync code itself gives it away.
    expect(violations[0]).toMatchObject({ code: 'vp9-plaintext', timestamp: 3000 });
    expect(violations[0]!.plaintext).toMatch(/key frame \(frame_sync_code 49 83 42\)/);
  });
});
