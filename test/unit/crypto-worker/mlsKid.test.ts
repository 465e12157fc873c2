// RFC 9605 §5.2 KID layout, with the RFC's own example sequence (64 members, S = 6, E = 4).
import { describe, expect, it } from 'vitest';
import {
  SFrameError,
  STREAM_CONTEXTS,
  encodeHeader,
  epochLowBits,
  mlsIndexBits,
  mlsKid,
  parseMlsKid,
} from '../../../crypto-worker/src/sframe/index.ts';

describe('MLS KID layout', () => {
  it.each([
    [14n, 3n, 0n, 0x3en],
    [14n, 7n, 0n, 0x7en],
    [14n, 20n, 0n, 0x14en],
    [15n, 3n, 0n, 0x3fn],
    [15n, 5n, 0n, 0x5fn],
    [16n, 2n, 2n, 0x820n],
    [16n, 2n, 3n, 0xc20n],
    [17n, 33n, 0n, 0x211n],
    [17n, 51n, 0n, 0x331n],
  ])('epoch %s, index %s, context %s → KID %s (RFC 9605 §5.2 example)', (epoch, index, context, kid) => {
    expect(mlsKid({ context, index, epoch, indexBits: 6 })).toBe(kid);
    expect(parseMlsKid(kid, 6)).toEqual({ context, index, epochLowBits: epoch % 16n });
  });

  it('S is the smallest value with group_size < 2^S', () => {
    expect([1, 2, 3, 4, 63, 64, 65, 1000].map(mlsIndexBits)).toEqual([1, 2, 2, 3, 6, 7, 7, 10]);
  });

  it('keeps suite-4 frames within 22 added bytes for a 64-member room on every stream', () => {
    const kid = mlsKid({
      context: STREAM_CONTEXTS.screen,
      index: 63n,
      epoch: 123n,
      indexBits: mlsIndexBits(64),
    });
    expect(kid < 2n ** 16n).toBe(true);
    expect(encodeHeader(kid, 2n ** 24n - 1n).length + 16).toBeLessThanOrEqual(22);
  });

  it('epochs 16 apart share low bits', () => {
    expect(epochLowBits(1n)).toBe(epochLowBits(17n));
    expect(epochLowBits(1n)).not.toBe(epochLowBits(2n));
  });

  it('refuses an index beyond S bits or a context beyond the remaining bits', () => {
    expect(() => mlsKid({ context: 0n, index: 64n, epoch: 0n, indexBits: 6 })).toThrow(SFrameError);
    expect(() => mlsKid({ context: 2n ** 54n, index: 0n, epoch: 0n, indexBits: 6 })).toThrow(SFrameError);
    expect(mlsKid({ context: 2n ** 54n - 1n, index: 63n, epoch: 15n, indexBits: 6 })).toBe(2n ** 64n - 1n);
  });
});
