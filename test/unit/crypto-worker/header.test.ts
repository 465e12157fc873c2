// RFC 9605 §4.3 header edge cases beyond the vector file.
import { describe, expect, it } from 'vitest';
import { SFrameError, decodeHeader, encodeHeader } from '../../../crypto-worker/src/sframe/index.ts';
import { hex, unhex } from './vectors.ts';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SFrameError);
    return (error as SFrameError).reason;
  }
  return undefined;
}

describe('inline / extended boundary (7 vs 8)', () => {
  it('keeps 7 in the config byte and moves 8 to one extension byte, for KID and CTR', () => {
    expect(hex(encodeHeader(7n, 7n))).toBe('77');
    expect(hex(encodeHeader(8n, 7n))).toBe('8708');
    expect(hex(encodeHeader(7n, 8n))).toBe('7808');
    expect(hex(encodeHeader(8n, 8n))).toBe('880808');
    for (const [kid, ctr] of [
      [7n, 7n],
      [8n, 7n],
      [7n, 8n],
      [8n, 8n],
      [2n, 6n],
    ] as const) {
      const bytes = encodeHeader(kid, ctr);
      expect(decodeHeader(bytes)).toEqual({ kid, ctr, length: bytes.length });
    }
  });

  it('writes every value 0..300 in the shortest form and reads it back', () => {
    for (let v = 0n; v <= 300n; v++) {
      const bytes = encodeHeader(v, 300n - v);
      const expected = 1 + (v < 8n ? 0 : v < 256n ? 1 : 2) + (300n - v < 8n ? 0 : 300n - v < 256n ? 1 : 2);
      expect(bytes.length).toBe(expected);
      expect(decodeHeader(bytes)).toEqual({ kid: v, ctr: 300n - v, length: expected });
    }
  });

  it('accepts a non-minimal extended encoding (the header is authenticated anyway)', () => {
    expect(decodeHeader(unhex('8003'))).toEqual({ kid: 3n, ctr: 0n, length: 2 });
  });

  it('encodes the largest values in 17 bytes', () => {
    const max = 2n ** 64n - 1n;
    expect(hex(encodeHeader(max, max))).toBe('ff' + 'ff'.repeat(16));
  });
});

describe('malformed headers and bad arguments', () => {
  it('rejects empty input and every truncation of an extended header as malformed', () => {
    expect(reasonOf(() => decodeHeader(new Uint8Array(0)))).toBe('malformed');
    const full = encodeHeader(2n ** 40n, 2n ** 60n);
    for (let cut = 1; cut < full.length; cut++) {
      expect(reasonOf(() => decodeHeader(full.subarray(0, cut)))).toBe('malformed');
    }
  });

  it('rejects KID/CTR outside [0, 2^64) and non-bigints as invalid-argument', () => {
    expect(reasonOf(() => encodeHeader(-1n, 0n))).toBe('invalid-argument');
    expect(reasonOf(() => encodeHeader(0n, 2n ** 64n))).toBe('invalid-argument');
    expect(reasonOf(() => encodeHeader(1 as unknown as bigint, 0n))).toBe('invalid-argument');
  });

  it('rejects a non-Uint8Array as malformed', () => {
    expect(reasonOf(() => decodeHeader([0x00] as unknown as Uint8Array))).toBe('malformed');
  });
});
