// The per-frame encoders take a Number fast path for values up to 2^53 and a bigint path above it;
// both must give exactly the bytes of RFC 9605 §4.3 / §4.4.3, at every byte boundary and around 2^53.
import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, frameNonce } from '../../../crypto-worker/src/sframe/index.ts';
import { hex, randomBytes } from './vectors.ts';

/** encode_big_endian with bigint only: the reference. */
function referenceBigEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1, rest = value; i >= 0; i--, rest >>= 8n) out[i] = Number(rest & 0xffn);
  return out;
}

function referenceHeader(kid: bigint, ctr: bigint): Uint8Array {
  const field = (v: bigint) => {
    if (v < 8n) return { bits: Number(v), ext: new Uint8Array(0) };
    let n = 1;
    while (v >= 1n << BigInt(8 * n)) n++;
    return { bits: 0b1000 | (n - 1), ext: referenceBigEndian(v, n) };
  };
  const k = field(kid);
  const c = field(ctr);
  return Uint8Array.from([(k.bits << 4) | c.bits, ...k.ext, ...c.ext]);
}

const edges: bigint[] = [0n, 1n, 7n, 8n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n];
for (let bytes = 1n; bytes <= 8n; bytes++) {
  const boundary = 1n << (8n * bytes);
  edges.push(boundary - 1n, boundary, boundary + 1n);
}
const values = edges.filter((v) => v < 2n ** 64n);

describe('Number fast path against the bigint reference', () => {
  it('encodeHeader and decodeHeader, at byte boundaries and around 2^53', () => {
    for (const kid of values) {
      for (const ctr of values) {
        const header = encodeHeader(kid, ctr);
        expect(hex(header)).toBe(hex(referenceHeader(kid, ctr)));
        expect(decodeHeader(header)).toEqual({ kid, ctr, length: header.length });
      }
    }
  });

  it('frameNonce is salt XOR encode_big_endian(CTR, Nn)', () => {
    const salt = randomBytes(12);
    const saltBefore = hex(salt);
    for (const ctr of values) {
      const expected = referenceBigEndian(ctr, 12).map((b, i) => b ^ salt[i]!);
      expect(hex(frameNonce(salt, ctr))).toBe(hex(expected));
    }
    expect(hex(salt)).toBe(saltBefore); // the nonce is a new array; the salt is untouched
  });

  it('frameNonce refuses a CTR that does not fit in the nonce', () => {
    expect(() => frameNonce(new Uint8Array(4), 2n ** 32n)).toThrow(/invalid-argument/);
    expect(() => frameNonce(new Uint8Array(12), -1n)).toThrow(/invalid-argument/);
    expect(() => frameNonce(new Uint8Array(12), 1 as unknown as bigint)).toThrow(/invalid-argument/);
    expect(hex(frameNonce(new Uint8Array(4), 2n ** 32n - 1n))).toBe('ffffffff');
  });
});
