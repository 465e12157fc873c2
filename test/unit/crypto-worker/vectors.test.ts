// RFC 9605 Appendix C: every vector of test/fixtures/sframe/rfc9605-test-vectors.json, on both back ends.
import { describe, expect, it } from 'vitest';
import {
  cipherSuite,
  decodeHeader,
  deriveKeyAndSalt,
  encodeHeader,
  frameNonce,
  nobleBackend,
  sframeDecrypt,
  sframeEncrypt,
  sframeKeyLabel,
  sframeSaltLabel,
  webCryptoBackend,
} from '../../../crypto-worker/src/sframe/index.ts';
import { hex, unhex, vectors } from './vectors.ts';

const backends = [webCryptoBackend, nobleBackend];

describe('RFC 9605 vector file', () => {
  it('holds the expected number of vectors, with KID/CTR beyond 2^53 read exactly', () => {
    expect(vectors.header).toHaveLength(289);
    expect(vectors.aes_ctr_hmac).toHaveLength(3);
    expect(vectors.sframe).toHaveLength(5);
    expect(vectors.header.some((v) => v.ctr === 18446744073709551615n)).toBe(true);
    expect(vectors.header.filter((v) => v.kid > 2n ** 53n - 1n || v.ctr > 2n ** 53n - 1n)).toHaveLength(93);
  });
});

describe('header vectors (RFC 9605 §4.3)', () => {
  it.each(vectors.header.map((v) => [v.kid, v.ctr, v.encoded] as const))(
    'KID %s CTR %s ⇔ %s',
    (kid, ctr, encoded) => {
      expect(hex(encodeHeader(kid, ctr))).toBe(encoded);
      expect(decodeHeader(unhex(encoded))).toEqual({ kid, ctr, length: encoded.length / 2 });
    },
  );

  it('decodes a header followed by payload bytes and reports only the header length', () => {
    const { kid, ctr, encoded } = vectors.header.at(200) ?? { kid: 0n, ctr: 0n, encoded: '00' };
    const withBody = unhex(encoded + 'deadbeef');
    expect(decodeHeader(withBody)).toEqual({ kid, ctr, length: encoded.length / 2 });
  });
});

describe('AES-CTR + HMAC vectors (RFC 9605 §4.5.1)', () => {
  for (const backend of backends) {
    it.each(vectors.aes_ctr_hmac.map((v) => [v.cipher_suite, v] as const))(
      `${backend.name}: suite %i`,
      async (_, v) => {
        const suite = cipherSuite(v.cipher_suite);
        expect(hex(unhex(v.key).subarray(0, suite.nka))).toBe(v.enc_key);
        expect(hex(unhex(v.key).subarray(suite.nka))).toBe(v.auth_key);
        // The salt is unused when the nonce is given directly: a zero salt makes frameNonce irrelevant.
        const key = await backend.importFrameKey(suite, unhex(v.key), new Uint8Array(suite.nn));
        expect(hex(await key.seal(unhex(v.nonce), unhex(v.aad), unhex(v.pt)))).toBe(v.ct);
        expect(hex(await key.open(unhex(v.nonce), unhex(v.aad), unhex(v.ct)))).toBe(v.pt);
      },
    );
  }
});

describe('SFrame vectors (RFC 9605 §4.4)', () => {
  const cases = vectors.sframe.map((v) => [v.cipher_suite, v] as const);

  it.each(cases)('suite %i: labels, secret, key, salt, nonce (§4.4.2, §4.4.3)', (_, v) => {
    const suite = cipherSuite(v.cipher_suite);
    expect(hex(sframeKeyLabel(v.kid, suite))).toBe(v.sframe_key_label);
    expect(hex(sframeSaltLabel(v.kid, suite))).toBe(v.sframe_salt_label);
    const derived = deriveKeyAndSalt(suite, unhex(v.base_key), v.kid);
    expect(hex(derived.secret)).toBe(v.sframe_secret);
    expect(hex(derived.key)).toBe(v.sframe_key);
    expect(hex(derived.salt)).toBe(v.sframe_salt);
    expect(hex(frameNonce(derived.salt, v.ctr))).toBe(v.nonce);
    expect(hex(encodeHeader(v.kid, v.ctr)) + v.metadata).toBe(v.aad);
  });

  for (const backend of backends) {
    it.each(cases)(`${backend.name}: suite %i encrypts and decrypts to the vector`, async (_, v) => {
      const ct = await sframeEncrypt(
        v.cipher_suite,
        unhex(v.base_key),
        v.kid,
        v.ctr,
        unhex(v.metadata),
        unhex(v.pt),
        backend,
      );
      expect(hex(ct)).toBe(v.ct);
      const opened = await sframeDecrypt(
        v.cipher_suite,
        unhex(v.base_key),
        unhex(v.metadata),
        unhex(v.ct),
        backend,
      );
      expect(opened).toEqual({ kid: v.kid, ctr: v.ctr, plaintext: unhex(v.pt) });
    });
  }

  it('WebCrypto derives the same salt as the step-by-step key schedule', async () => {
    for (const v of vectors.sframe) {
      const key = await webCryptoBackend.deriveFrameKey(
        cipherSuite(v.cipher_suite),
        unhex(v.base_key),
        v.kid,
      );
      expect(hex(key.salt)).toBe(v.sframe_salt);
    }
  });
});
