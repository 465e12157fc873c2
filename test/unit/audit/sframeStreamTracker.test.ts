// Per-stream KID/CTR bookkeeping: nonce reuse is flagged, reordering is counted, and a plaintext
// Opus stream (whose single packets can pass as SFrame) gives itself away by repeating "CTRs".
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import { SFrameStreamTracker, inspectSFrameFrame } from '../../../audit/src/index.ts';
import { readOggOpusPackets } from '../../support/codecFixtures.ts';

const kidA = mlsKid({ context: STREAM_CONTEXTS.camera, index: 1n, epoch: 3n, indexBits: 1 });
const kidB = mlsKid({ context: STREAM_CONTEXTS.camera, index: 1n, epoch: 4n, indexBits: 1 });

describe('SFrameStreamTracker', () => {
  it('counts frames and CTR ranges per KID, in first-seen order', () => {
    const tracker = new SFrameStreamTracker();
    for (let ctr = 0n; ctr < 5n; ctr++)
      expect(tracker.record({ kid: kidA, ctr, keyframe: ctr === 0n })).toBeUndefined();
    for (let ctr = 5n; ctr < 8n; ctr++)
      expect(tracker.record({ kid: kidB, ctr, keyframe: ctr === 5n })).toBeUndefined();
    expect(tracker.frames).toBe(8);
    expect(tracker.reuses).toBe(0);
    expect(tracker.kids).toEqual([
      {
        kid: kidA,
        epochLowBits: 3n,
        frames: 5,
        keyframes: 1,
        firstCtr: 0n,
        minCtr: 0n,
        maxCtr: 4n,
        outOfOrder: 0,
        reusedCtrs: 0,
      },
      {
        kid: kidB,
        epochLowBits: 4n,
        frames: 3,
        keyframes: 1,
        firstCtr: 5n,
        minCtr: 5n,
        maxCtr: 7n,
        outOfOrder: 0,
        reusedCtrs: 0,
      },
    ]);
    // Copies: changing a report does not change the tracker.
    tracker.kids[0]!.frames = 99;
    expect(tracker.kid(kidA)?.frames).toBe(5);
    expect(tracker.kid(999n)).toBeUndefined();
  });

  it('flags a CTR seen twice under one KID, but not the same CTR under another KID', () => {
    const tracker = new SFrameStreamTracker();
    tracker.record({ kid: kidA, ctr: 10n, keyframe: false });
    expect(tracker.record({ kid: kidB, ctr: 10n, keyframe: false })).toBeUndefined();
    expect(tracker.record({ kid: kidA, ctr: 10n, keyframe: false })).toMatchObject({
      code: 'ctr-reuse',
      kid: kidA,
      ctr: 10n,
    });
    expect(tracker.reuses).toBe(1);
    expect(tracker.kid(kidA)).toMatchObject({ frames: 2, reusedCtrs: 1 });
  });

  it('counts reordered CTRs without calling them reuse', () => {
    const tracker = new SFrameStreamTracker();
    for (const ctr of [1n, 3n, 2n, 0n, 4n])
      expect(tracker.record({ kid: kidA, ctr, keyframe: false })).toBeUndefined();
    expect(tracker.kid(kidA)).toMatchObject({ outOfOrder: 2, minCtr: 0n, maxCtr: 4n, firstCtr: 1n });
  });

  it('catches a plaintext Opus stream that passes frame by frame: its TOC byte reads as KID 7', () => {
    const packets = readOggOpusPackets();
    const tracker = new SFrameStreamTracker();
    const reuses = packets.flatMap((packet) => {
      const inspection = inspectSFrameFrame(packet, 'opus');
      if (!inspection.ok) return [];
      expect(inspection.kid).toBe(7n);
      const reuse = tracker.record(inspection);
      return reuse === undefined ? [] : [reuse];
    });
    expect(reuses.length).toBeGreaterThan(0);
  });
});
