// Telling a plaintext VP8 picture from Conclave ciphertext by its frame header (audit/src/vp8Picture.ts):
// real libvpx frames parse as the pictures they are; frames sealed by the real SFrame library under
// Conclave camera and screen KIDs never do; and every frame that reads as a picture is one the
// inspector already rejects, so the heuristic names plaintext without ever contradicting the inspector.
import { STREAM_CONTEXTS, mlsKid } from '@conclave/crypto-worker/sframe';
import { describe, expect, it } from 'vitest';
import {
  describeVp8Picture,
  parseVp8PictureHeader,
  vp8PlaintextPicture,
  type Vp8PictureFailure,
} from '../../../audit/src/vp8Picture.ts';
import { inspectSFrameFrame } from '../../../audit/src/index.ts';
import { readIvfFrames } from '../../support/codecFixtures.ts';
import { sealConclaveFrame, vp8Frame } from '../../support/conclaveFrames.ts';
import { seededBytes } from '../../support/prng.ts';

const vp8Frames = readIvfFrames();
const baseKey = new Uint8Array(16).fill(3);

/** A frame tag (RFC 6386 §9.1) for a given first partition size. */
function tag(keyframe: boolean, firstPartitionSize: number, version = 0): number[] {
  const value = (keyframe ? 0 : 1) | (version << 1) | (1 << 4) | (firstPartitionSize << 5);
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
}

describe('parseVp8PictureHeader', () => {
  it('reads the real libvpx frames as the 64×48 pictures they are', () => {
    const parsed = vp8Frames.map((f) => parseVp8PictureHeader(f));
    expect(parsed[0]).toEqual({
      ok: true,
      keyframe: true,
      version: 0,
      showFrame: true,
      firstPartitionSize: 222,
      width: 64,
      height: 48,
      colorSpace: 0,
      segmentationEnabled: false,
      filterType: 0,
      loopFilterLevel: 0,
      sharpness: 0,
      tokenPartitions: 1,
      yAcQi: 4,
    });
    expect(parsed.slice(1)).toMatchObject([
      { ok: true, keyframe: false, firstPartitionSize: 55, tokenPartitions: 1, yAcQi: 4 },
      { ok: true, keyframe: false, firstPartitionSize: 30, tokenPartitions: 1, yAcQi: 4 },
    ]);
    expect(vp8Frames.map((f) => vp8PlaintextPicture(f) !== undefined)).toEqual([true, true, true]);
    expect(describeVp8Picture(vp8PlaintextPicture(vp8Frames[0]!)!)).toBe(
      'VP8 key frame 64×48, first partition 222 bytes, 1 token partition, q 4',
    );
    expect(describeVp8Picture(vp8PlaintextPicture(vp8Frames[1]!)!)).toBe(
      'VP8 delta frame, first partition 55 bytes, 1 token partition, q 4',
    );
  });

  it('names the first rule a frame breaks', () => {
    const key = vp8Frames[0]!;
    const withBytes = (frame: Uint8Array, at: number, bytes: number[]) => {
      const copy = frame.slice();
      copy.set(bytes, at);
      return copy;
    };
    const cases: [Uint8Array, Vp8PictureFailure][] = [
      [key.subarray(0, 2), 'truncated'],
      [key.subarray(0, 9), 'truncated'],
      [withBytes(key, 0, tag(true, 222, 5)), 'bad-version'],
      [withBytes(key, 3, [0x9d, 0x01, 0x2b]), 'bad-start-code'],
      [withBytes(key, 6, [0, 0]), 'bad-dimensions'],
      [withBytes(key, 8, [0, 0xc0]), 'bad-dimensions'], // 14-bit height 0 under scaling bits
      [withBytes(key, 0, tag(true, key.length)), 'bad-first-partition-size'],
      [withBytes(key, 0, tag(true, 1)), 'bad-first-partition-size'],
      [withBytes(key, 10, [0x80]), 'reserved-color-space'],
      // A first partition of 2 bytes cannot hold the header's bits.
      [withBytes(key, 0, tag(true, 2)), 'header-overruns-partition'],
      // The first partition ends exactly at the end of the frame: no token partition left.
      [key.subarray(0, 10 + 222), 'bad-partition-layout'],
      // The hand-built frames of conclaveFrames.ts (0x5a fill) announce 4 token partitions of 5.9 MB.
      [vp8Frame(true, 300), 'bad-partition-layout'],
      [vp8Frame(false, 300), 'bad-partition-layout'],
    ];
    for (const [frame, failure] of cases)
      expect(parseVp8PictureHeader(frame)).toEqual({ ok: false, failure });
  });
});

describe('vp8PlaintextPicture against Conclave ciphertext', () => {
  it('never flags frames sealed by the SFrame library under camera and screen KIDs', async () => {
    let sealed = 0;
    for (let s = 1; s <= 8; s++) {
      for (const context of [STREAM_CONTEXTS.camera, STREAM_CONTEXTS.screen]) {
        for (const epoch of [0n, 7n, 15n]) {
          const kid = mlsKid({ context, index: BigInt((1 << s) - 1), epoch, indexBits: s });
          for (const [i, frame] of vp8Frames.entries()) {
            const ciphertext = await sealConclaveFrame('vp8', frame, {
              baseKey,
              kid,
              ctr: BigInt(i * 1000 + s),
            });
            expect(vp8PlaintextPicture(ciphertext)).toBeUndefined();
            expect(inspectSFrameFrame(ciphertext, 'vp8')).toMatchObject({ ok: true });
            sealed++;
          }
        }
      }
    }
    expect(sealed).toBe(8 * 2 * 3 * 3);
  });

  /** `original`'s first `prefix` bytes followed by `tail` (copied with set(): spreading 5 000 frames into arrays is slow). */
  const withTail = (original: Uint8Array, prefix: number, tail: Uint8Array): Uint8Array => {
    const frame = new Uint8Array(prefix + tail.length);
    frame.set(original.subarray(0, prefix));
    frame.set(tail, prefix);
    return frame;
  };

  it('never flags any frame whose first byte after the clear prefix has its top bit set (X = 1)', () => {
    const randomBytes = seededBytes(0x5f1);
    for (let i = 0; i < 5000; i++) {
      const original = vp8Frames[i % 3]!;
      const prefix = i % 3 === 0 ? 10 : 3;
      const tail = randomBytes(original.length - prefix);
      tail[0]! |= 0x80;
      const frame = withTail(original, prefix, tail);
      expect(vp8PlaintextPicture(frame)).toBeUndefined();
    }
  });

  it('flags only frames the inspector already rejects (random tails with X = 0, real prefixes)', () => {
    const randomBytes = seededBytes(0x5f2);
    let flagged = 0;
    for (let i = 0; i < 5000; i++) {
      const original = vp8Frames[i % 3]!;
      const prefix = i % 3 === 0 ? 10 : 3;
      const tail = randomBytes(original.length - prefix);
      tail[0]! &= 0x7f;
      const frame = withTail(original, prefix, tail);
      if (vp8PlaintextPicture(frame) === undefined) continue;
      flagged++;
      expect(inspectSFrameFrame(frame, 'vp8')).toMatchObject({ ok: false });
    }
    expect(flagged).toBeGreaterThan(500);
  });

  it('never throws on random bytes', () => {
    const randomBytes = seededBytes(0x5f3);
    for (let i = 0; i < 5000; i++) parseVp8PictureHeader(randomBytes(i % 300));
  });
});
