// The capture verifier (audit/src/verify.ts): SFrame frames sealed by the real library pass and
// are summarised per stream (KIDs, MLS readings, CTR ranges, sequence numbers); plaintext VP8 and
// Opus fail with the packets named; loss, duplicates, replays, codecs the audit cannot check and
// non-RTP datagrams are each reported for what they are.
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import type { StreamMapEntry } from '../../../audit/src/streamMap.ts';
import {
  verifyCapture,
  verifyReportToJson,
  type CapturedDatagram,
  type VerifyReport,
} from '../../../audit/src/index.ts';
import { readIvfFrames, readOggOpusPackets } from '../../support/codecFixtures.ts';
import { sealConclaveFrame } from '../../support/conclaveFrames.ts';
import { OpusRtpStream, Vp8RtpStream, serializeRtpPacket } from '../../support/rtpPackets.ts';

const VP8_PT = 96;
const OPUS_PT = 111;
const PT_MAP = new Map([
  [VP8_PT, 'vp8'],
  [OPUS_PT, 'opus'],
]);
const baseKey = new Uint8Array(16).fill(9);
const vp8Frames = readIvfFrames();
const opusPackets = readOggOpusPackets();
/** Leaf 2 of a group with S = 2, epoch 21 (low bits 5). */
const cameraKid = mlsKid({ context: STREAM_CONTEXTS.camera, index: 2n, epoch: 21n, indexBits: 2 });
const audioKid = mlsKid({ context: STREAM_CONTEXTS.mic, index: 2n, epoch: 21n, indexBits: 2 });

const numbered = (packets: Uint8Array[], from = 1): CapturedDatagram[] =>
  packets.map((payload, i) => ({ number: from + i, payload }));

async function sealedCamera(frames = 9, ssrc = 0x1111, firstCtr = 0): Promise<Uint8Array[]> {
  const stream = new Vp8RtpStream({ ssrc, payloadType: VP8_PT, maxPayloadSize: 400 });
  const packets: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    const frame = vp8Frames[i % vp8Frames.length]!;
    const sealed = await sealConclaveFrame('vp8', frame, {
      baseKey,
      kid: cameraKid,
      ctr: BigInt(firstCtr + i),
    });
    packets.push(...stream.packetize(sealed, 3000 * i));
  }
  return packets;
}

async function sealedMic(frames = 12, ssrc = 0x2222, sequenceNumber = 2000): Promise<Uint8Array[]> {
  const stream = new OpusRtpStream({ ssrc, payloadType: OPUS_PT, sequenceNumber });
  const packets: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    const packet = opusPackets[i % opusPackets.length]!;
    packets.push(
      stream.packetize(
        await sealConclaveFrame('opus', packet, { baseKey, kid: audioKid, ctr: BigInt(i) }),
        960 * i,
      ),
    );
  }
  return packets;
}

function plainCamera(ssrc = 0x3333): Uint8Array[] {
  const stream = new Vp8RtpStream({ ssrc, payloadType: VP8_PT, maxPayloadSize: 400 });
  return vp8Frames.flatMap((frame, i) => stream.packetize(frame, 3000 * i));
}

function plainMic(frames = 24, ssrc = 0x4444): Uint8Array[] {
  const stream = new OpusRtpStream({ ssrc, payloadType: OPUS_PT });
  return Array.from({ length: frames }, (_, i) =>
    stream.packetize(opusPackets[i % opusPackets.length]!, 960 * i),
  );
}

const MAP: StreamMapEntry[] = [
  { ssrc: 0x1111, payloadType: VP8_PT, codec: 'vp8', kind: 'video', source: 'camera', participant: 'alice' },
  { ssrc: 0x2222, payloadType: OPUS_PT, codec: 'opus', kind: 'audio', source: 'mic', participant: 'alice' },
];

function stream(report: VerifyReport, ssrc: number) {
  const found = report.streams.find((s) => s.ssrc === ssrc);
  expect(found, `stream ${ssrc}`).toBeDefined();
  return found!;
}

describe('verifyCapture: Conclave ciphertext', () => {
  it('passes sealed VP8 and Opus and reports KIDs, MLS readings, CTR ranges and sequence numbers', async () => {
    const camera = await sealedCamera();
    const mic = await sealedMic();
    const report = verifyCapture(numbered([...camera, ...mic]), { streams: MAP });
    expect(report).toMatchObject({
      ok: true,
      problems: [],
      suite: 4,
      datagrams: { total: camera.length + mic.length, rtp: camera.length + mic.length, rtcp: 0 },
      malformed: [],
      frames: 21,
      okFrames: 21,
      violations: 0,
      unverifiedStreams: 0,
      absentMappedStreams: [],
    });
    expect(stream(report, 0x1111)).toMatchObject({
      mappedBy: 'map',
      codec: 'vp8',
      kind: 'video',
      source: 'camera',
      participant: 'alice',
      payloadTypes: [VP8_PT],
      verifiable: true,
      packets: camera.length,
      firstPacket: 1,
      lastPacket: camera.length,
      sequence: { first: 1000, last: 1000 + camera.length - 1, missing: 0, gaps: [] },
      frames: 9,
      okFrames: 9,
      keyframes: 3,
      packetsInIncompleteFrames: 0,
      violations: [],
      epochLowBits: [5n],
      kids: [
        {
          kid: cameraKid,
          epochLowBits: 5n,
          // The map says camera, so of the two readings (screen with S = 1) only this one is left.
          mls: [{ stream: 'camera', index: 2n, indexBits: { min: 2, max: 2 } }],
          frames: 9,
          keyframes: 3,
          ctr: { first: 0n, min: 0n, max: 8n },
          outOfOrder: 0,
          reusedCtrs: 0,
        },
      ],
    });
    expect(stream(report, 0x2222)).toMatchObject({
      codec: 'opus',
      kind: 'audio',
      firstPacket: camera.length + 1,
      frames: 12,
      okFrames: 12,
      kids: [{ kid: audioKid, mls: [{ stream: 'mic', index: 2n, indexBits: { min: 2, max: 32 } }] }],
    });
  });

  it('maps streams by payload type too', async () => {
    const report = verifyCapture(numbered(await sealedCamera(3)), { payloadTypes: PT_MAP });
    expect(report.ok).toBe(true);
    expect(stream(report, 0x1111)).toMatchObject({
      mappedBy: 'payload-type',
      codec: 'vp8',
      kind: 'video',
      source: undefined,
      kids: [{ kid: cameraKid, mls: [{ stream: 'camera', index: 2n, indexBits: { min: 2, max: 2 } }] }],
    });
  });

  it('unwraps sequence numbers across 65535 → 0 without inventing gaps', async () => {
    const report = verifyCapture(numbered(await sealedMic(6, 0x2222, 0xfffd)), { payloadTypes: PT_MAP });
    expect(stream(report, 0x2222).sequence).toEqual({ first: 0xfffd, last: 2, missing: 0, gaps: [] });
    expect(report.ok).toBe(true);
  });

  it('passes identical duplicates (counted) and reports lost packets as gaps and incomplete frames', async () => {
    const mic = await sealedMic(10);
    const withLoss = [...mic.slice(0, 3), mic[2]!, ...mic.slice(6)]; // seq 2003-2005 lost, 2002 twice
    const camera = await sealedCamera(4);
    const cameraLoss = camera.filter((_, i) => i !== 1); // the key frame's second packet
    const report = verifyCapture(numbered([...withLoss, ...cameraLoss]), { streams: MAP });
    expect(report.ok).toBe(true);
    expect(stream(report, 0x2222)).toMatchObject({
      packets: 8,
      duplicatePackets: 1,
      frames: 7,
      okFrames: 7,
      sequence: { first: 2000, last: 2009, missing: 3, gaps: [{ from: 2003, to: 2005, count: 3 }] },
    });
    expect(stream(report, 0x1111)).toMatchObject({
      frames: 3,
      packetsInIncompleteFrames: 3,
      sequence: { missing: 1, gaps: [{ from: 1001, to: 1001, count: 1 }] },
    });
  });
});

describe('verifyCapture: violations', () => {
  it('fails plaintext VP8, naming each frame`s packets and what it parses as', async () => {
    const camera = await sealedCamera(3);
    const plain = plainCamera();
    const report = verifyCapture(numbered([...camera, ...plain]), { payloadTypes: PT_MAP });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['3 violations in 1 stream']);
    const bad = stream(report, 0x3333);
    const first = camera.length + 1;
    expect(bad).toMatchObject({ frames: 3, okFrames: 0, violationCount: 3 });
    expect(bad.violations.map((v) => v.code)).toEqual([
      'kid-outside-policy',
      'kid-outside-policy',
      'kid-outside-policy',
    ]);
    // The key frame (1174 bytes) took 3 packets of ≤ 396 bytes; each delta frame took 1.
    expect(bad.violations.map((v) => v.packets)).toEqual([
      [first, first + 1, first + 2],
      [first + 3],
      [first + 4],
    ]);
    expect(bad.violations[0]).toMatchObject({
      sequenceNumbers: [1000, 1002],
      timestamp: 0,
      kid: 0n,
      plaintext: 'VP8 key frame 64×48, first partition 222 bytes, 1 token partition, q 4',
    });
    expect(bad.violations[1]!.plaintext).toMatch(/^VP8 delta frame/);
    expect(stream(report, 0x1111).violationCount).toBe(0);
  });

  it('fails plaintext Opus: its TOC byte reads as a KID whose CTRs repeat', () => {
    const report = verifyCapture(numbered(plainMic()), { payloadTypes: PT_MAP });
    expect(report.ok).toBe(false);
    const mic = stream(report, 0x4444);
    expect(new Set(mic.violations.map((v) => v.code))).toEqual(new Set(['ctr-reuse']));
    expect(mic.okFrames).toBeLessThan(mic.frames);
    const reuse = mic.violations[0]!;
    expect(reuse.message).toMatch(/^CTR \d+ sealed a second frame under KID 7 \(first at #\d+\)$/);
    expect(reuse.packets).toHaveLength(1);
  });

  it('flags a CTR sealing two different frames under one KID', async () => {
    const stream0 = new OpusRtpStream({ ssrc: 0x2222, payloadType: OPUS_PT });
    const packets = [];
    for (const [i, ctr] of [0n, 1n, 1n].entries()) {
      packets.push(
        stream0.packetize(
          await sealConclaveFrame('opus', opusPackets[i]!, { baseKey, kid: audioKid, ctr }),
          960 * i,
        ),
      );
    }
    const report = verifyCapture(numbered(packets), { streams: MAP });
    expect(stream(report, 0x2222).violations).toMatchObject([
      {
        code: 'ctr-reuse',
        packets: [3],
        sequenceNumbers: [2002, 2002],
        kid: audioKid,
        ctr: 1n,
        message: expect.stringMatching(/first at #2/),
      },
    ]);
    expect(report.ok).toBe(false);
  });

  it('flags a sequence number reused with different bytes, and does not check that packet', async () => {
    const mic = await sealedMic(3);
    const forged = serializeRtpPacket({
      payloadType: OPUS_PT,
      sequenceNumber: 2001,
      timestamp: 960,
      ssrc: 0x2222,
      payload: Uint8Array.from([0x78, 1, 2, 3]),
    });
    const report = verifyCapture(numbered([...mic, forged]), { streams: MAP });
    expect(stream(report, 0x2222)).toMatchObject({
      frames: 3,
      uncheckedPackets: 1,
      violations: [{ code: 'sequence-reuse', packets: [4], message: expect.stringMatching(/first at #2/) }],
    });
  });

  it('flags a payload type the map does not give the SSRC, and a VP8 payload that is not VP8', async () => {
    const camera = await sealedCamera(1);
    const wrongPt = serializeRtpPacket({
      payloadType: 97,
      sequenceNumber: 1500,
      timestamp: 9000,
      ssrc: 0x1111,
      payload: Uint8Array.from([0x10, 1, 2]),
    });
    const notVp8 = serializeRtpPacket({
      payloadType: VP8_PT,
      sequenceNumber: 1501,
      timestamp: 9000,
      ssrc: 0x1111,
      payload: Uint8Array.from([0x80]),
    });
    const report = verifyCapture(numbered([...camera, wrongPt, notVp8]), { streams: MAP });
    expect(stream(report, 0x1111).violations.map((v) => [v.code, v.packets])).toEqual([
      ['unexpected-payload-type', [camera.length + 1]],
      ['malformed-payload', [camera.length + 2]],
    ]);
    expect(report.ok).toBe(false);
  });

  it('keeps details of at most maxViolationsPerStream violations but counts them all', () => {
    const report = verifyCapture(numbered(plainCamera()), {
      payloadTypes: PT_MAP,
      maxViolationsPerStream: 1,
    });
    expect(stream(report, 0x3333)).toMatchObject({ violationCount: 3 });
    expect(stream(report, 0x3333).violations).toHaveLength(1);
    expect(report.violations).toBe(3);
  });
});

describe('verifyCapture: what it cannot verify', () => {
  it('fails a stream of a codec it cannot reassemble unless allowUnverified', async () => {
    const av1 = new Vp8RtpStream({ ssrc: 0x5555, payloadType: 98 }).packetize(new Uint8Array(50), 0);
    const packets = numbered([...(await sealedMic(3)), ...av1]);
    const payloadTypes = new Map([...PT_MAP, [98, 'AV1']]);
    const strict = verifyCapture(packets, { payloadTypes });
    expect(strict.ok).toBe(false);
    expect(strict.problems).toEqual([
      '1 unverifiable stream (SSRC 21845); --allow-unverified passes them unchecked',
    ]);
    expect(stream(strict, 0x5555)).toMatchObject({
      verifiable: false,
      codec: 'av1',
      uncheckedPackets: 1,
      frames: 0,
      unverifiedReason: 'av1: the audit cannot reassemble this codec',
    });
    expect(verifyCapture(packets, { payloadTypes, allowUnverified: true })).toMatchObject({
      ok: true,
      unverifiedStreams: 1,
    });
  });

  it('names a stream with no known codec, and lets a padding-only stream pass', async () => {
    const unknown = serializeRtpPacket({
      payloadType: 100,
      sequenceNumber: 1,
      timestamp: 1,
      ssrc: 9,
      payload: Uint8Array.from([1, 2, 3]),
    });
    const probe = serializeRtpPacket({
      payloadType: 127,
      sequenceNumber: 1,
      timestamp: 1,
      ssrc: 1234,
      payload: new Uint8Array(0),
      padding: 200,
    });
    const report = verifyCapture(numbered([...(await sealedMic(2)), unknown, probe]), { streams: MAP });
    expect(stream(report, 9)).toMatchObject({
      mappedBy: 'none',
      verifiable: false,
      unverifiedReason:
        'payload type 100: the audit cannot reassemble this codec (no codec known: give --map or --pt)',
    });
    expect(stream(report, 1234)).toMatchObject({ verifiable: true, paddingPackets: 1, frames: 0 });
    expect(report.absentMappedStreams).toEqual([0x1111]);
  });

  it('counts RTCP, STUN, DTLS and other datagrams without checking them; malformed RTP fails', async () => {
    const rtcp = Uint8Array.from([0x80, 200, 0, 6, ...new Uint8Array(24)]);
    const stun = Uint8Array.from([0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
    const dtls = Uint8Array.from([22, 0xfe, 0xfd]);
    const other = Uint8Array.from([0x40, 1]);
    const shortRtp = Uint8Array.from([0x80, OPUS_PT, 0, 1, 0]);
    const mic = await sealedMic(2);
    const report = verifyCapture(numbered([rtcp, stun, dtls, other, new Uint8Array(0), shortRtp, ...mic]), {
      streams: MAP,
    });
    expect(report.datagrams).toEqual({ total: 8, rtp: 3, rtcp: 1, stun: 1, dtls: 1, other: 2 });
    expect(report.malformed).toEqual([{ packet: 6, message: expect.stringMatching(/^rtp truncated/) }]);
    expect(report.problems).toEqual(['1 malformed RTP packet']);
  });

  it('fails a capture with no media frames: nothing was verified', () => {
    expect(verifyCapture([], { payloadTypes: PT_MAP })).toMatchObject({
      ok: false,
      problems: ['no media frames in the capture: nothing was verified'],
    });
  });
});

describe('report helpers', () => {
  it('writes JSON with KIDs and CTRs as decimal strings', async () => {
    const report = verifyCapture(numbered(await sealedMic(2)), { streams: MAP });
    const json = JSON.parse(verifyReportToJson(report)) as {
      ok: boolean;
      streams: { kids: { kid: string; ctr: { max: string } }[]; epochLowBits: string[] }[];
    };
    expect(json.ok).toBe(true);
    expect(json.streams[0]!.kids[0]).toMatchObject({ kid: String(audioKid), ctr: { max: '1' } });
    expect(json.streams[0]!.epochLowBits).toEqual(['5']);
  });
});
