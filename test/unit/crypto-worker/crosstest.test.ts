// WebCrypto and @noble must agree byte for byte on random inputs, and every frame must round-trip.
import { describe, expect, it } from 'vitest';
import {
  CIPHER_SUITE_IDS,
  cipherSuite,
  encodeHeader,
  nobleBackend,
  sframeDecrypt,
  sframeEncrypt,
  webCryptoBackend,
} from '../../../crypto-worker/src/sframe/index.ts';
import { randomBytes } from './vectors.ts';

function randomU64(): bigint {
  const bytes = randomBytes(8);
  const bits = BigInt((bytes[0] ?? 0) % 65); // spread over all header lengths
  return bits === 0n ? 0n : new DataView(bytes.buffer).getBigUint64(0) >> (64n - bits);
}

const SIZES = [0, 1, 15, 16, 17, 100, 1200, 10_000];

describe('WebCrypto vs @noble on random input', () => {
  it.each(CIPHER_SUITE_IDS.map((id) => [id]))(
    'suite %i: identical ciphertexts, each opens the other',
    async (suite) => {
      for (const size of SIZES) {
        const baseKey = randomBytes(cipherSuite(suite).nk);
        const [kid, ctr] = [randomU64(), randomU64()];
        const metadata = randomBytes(size % 11);
        const plaintext = randomBytes(size);
        const a = await sframeEncrypt(suite, baseKey, kid, ctr, metadata, plaintext, webCryptoBackend);
        const b = await sframeEncrypt(suite, baseKey, kid, ctr, metadata, plaintext, nobleBackend);
        expect(a).toEqual(b);
        expect(a.length).toBe(encodeHeader(kid, ctr).length + size + cipherSuite(suite).nt);
        expect(await sframeDecrypt(suite, baseKey, metadata, a, nobleBackend)).toEqual({
          kid,
          ctr,
          plaintext,
        });
        expect(await sframeDecrypt(suite, baseKey, metadata, b, webCryptoBackend)).toEqual({
          kid,
          ctr,
          plaintext,
        });
      }
    },
  );

  it('derives identical per-KID salts and frame keys on both back ends', async () => {
    for (const id of CIPHER_SUITE_IDS) {
      const suite = cipherSuite(id);
      const baseKey = randomBytes(16);
      const kid = randomU64();
      const [w, n] = await Promise.all([
        webCryptoBackend.deriveFrameKey(suite, baseKey, kid),
        nobleBackend.deriveFrameKey(suite, baseKey, kid),
      ]);
      expect(w.salt).toEqual(n.salt);
      const nonce = randomBytes(12);
      expect(await w.seal(nonce, new Uint8Array(0), Uint8Array.of(1, 2, 3))).toEqual(
        await n.seal(nonce, new Uint8Array(0), Uint8Array.of(1, 2, 3)),
      );
    }
  });
});

describe('round-trip properties', () => {
  it('decrypt(encrypt(x)) = x for 40 random (suite, KID, CTR, metadata, plaintext)', async () => {
    for (let i = 0; i < 40; i++) {
      const suite = CIPHER_SUITE_IDS[i % CIPHER_SUITE_IDS.length] ?? 4;
      const baseKey = randomBytes(1 + (i % 48));
      const [kid, ctr] = [randomU64(), randomU64()];
      const metadata = randomBytes(i % 13);
      const plaintext = randomBytes((i * 97) % 3000);
      const frame = await sframeEncrypt(suite, baseKey, kid, ctr, metadata, plaintext);
      expect(await sframeDecrypt(suite, baseKey, metadata, frame)).toEqual({ kid, ctr, plaintext });
    }
  });

  it('different KIDs or CTRs under one base key give different ciphertexts', async () => {
    const baseKey = randomBytes(16);
    const pt = new Uint8Array(32);
    const a = await sframeEncrypt(4, baseKey, 1n, 0n, new Uint8Array(0), pt);
    const b = await sframeEncrypt(4, baseKey, 2n, 0n, new Uint8Array(0), pt);
    const c = await sframeEncrypt(4, baseKey, 1n, 1n, new Uint8Array(0), pt);
    expect(a.subarray(1)).not.toEqual(b.subarray(1));
    expect(a.subarray(1)).not.toEqual(c.subarray(1));
  });
});
