// The load generator's SRTP (test/support/media/srtp.ts) against the RFCs' own vectors: the RFC 3711
// Appendix B.3 key derivation, the RFC 7714 §16.1.1 AEAD_AES_128_GCM packet and the §17 SRTCP
// packet both ways; then a forged tag, a wrong ROC and a truncated packet are refused.
import { describe, expect, it } from 'vitest';
import {
  SrtpContext,
  deriveSrtpKey,
  protectRtcp,
  protectRtp,
  srtcpIv,
  srtpIv,
  srtpSessionKeys,
  unprotectRtcp,
  unprotectRtp,
} from '../../support/media/srtp.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 3711 §4.3 key derivation (Appendix B.3)', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');

  it('derives the cipher key, cipher salt and authentication key the RFC lists', () => {
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 0, 16))).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 2, 14))).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 1, 20))).toBe(
      'cebe321f6ff7716b6fd4ab49af256a156d38baa4',
    );
  });

  it('pads a 96-bit GCM master salt with zero bits (RFC 7714 §11), and refuses a wrong length', () => {
    const keys = srtpSessionKeys(new Uint8Array([...masterKey, ...masterSalt.subarray(0, 12)]));
    const padded = new Uint8Array([...masterSalt.subarray(0, 12), 0, 0]);
    expect(toHex(keys.key)).toBe(toHex(deriveSrtpKey(masterKey, padded, 0, 16)));
    expect(keys.salt).toHaveLength(12);
    expect(() => srtpSessionKeys(new Uint8Array(30))).toThrow(/16 key and 12 salt/);
  });
});

describe('RFC 7714 §16.1 AEAD_AES_128_GCM', () => {
  const keys = { key: hex('000102030405060708090a0b0c0d0e0f'), salt: hex('517569642070726f2071756f') };
  const plain = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
    20646976 69736120 696e2070 61727465 73207472 6573`);
  const sealed = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca
    be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`);

  it('builds the IV of §16.1.1', () => {
    expect(toHex(srtpIv(keys.salt, 0x5501a0b2, 0, 0xf17b))).toBe('51753c6580c2726f20718414');
  });

  it('protects the packet to the RFC bytes, and unprotects them back', () => {
    expect(toHex(protectRtp(keys, plain, 0))).toBe(toHex(sealed));
    expect(toHex(unprotectRtp(keys, sealed, 0))).toBe(toHex(plain));
    expect(toHex(new SrtpContext(keys).protect(plain, 0))).toBe(toHex(sealed));
  });

  it('refuses a forged tag, a wrong rollover counter and a packet shorter than its tag', () => {
    const forged = sealed.slice();
    forged[forged.length - 1]! ^= 1;
    expect(() => unprotectRtp(keys, forged, 0)).toThrow();
    expect(() => unprotectRtp(keys, sealed, 1)).toThrow();
    expect(() => unprotectRtp(keys, sealed.subarray(0, 20), 0)).toThrow(/shorter than its tag/);
    expect(() => unprotectRtp(keys, new Uint8Array(8), 0)).toThrow(/not an RTP packet/);
  });
});

describe('RFC 7714 §17 SRTCP', () => {
  const salt = hex('517569642070726f2071756f');
  const rtcp = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
    deadbeef deadbeef deadbeef deadbeef deadbeef`);

  it('builds the IV of §17.1 (SSRC "Mars", index 0x5d4)', () => {
    expect(toHex(srtcpIv(salt, 0x4d617273, 0x5d4))).toBe('517524055203726f207170bb');
  });

  it('protects the §17.2 packet (AEAD_AES_256_GCM) to the RFC bytes', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f');
    expect(toHex(protectRtcp({ key, salt }, rtcp, 0x5d4))).toBe(
      '81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be' +
        '8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4',
    );
  });

  it('unprotects the §17.2 packet to the plain RTCP, and refuses a forged or clear one', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f');
    const sealed = protectRtcp({ key, salt }, rtcp, 0x5d4);
    expect(toHex(unprotectRtcp({ key, salt }, sealed))).toBe(toHex(rtcp));
    const forged = Buffer.from(sealed);
    forged[12]! ^= 1;
    expect(() => unprotectRtcp({ key, salt }, forged)).toThrow();
    const clear = Buffer.from(sealed);
    clear[clear.length - 4]! &= 0x7f;
    expect(() => unprotectRtcp({ key, salt }, clear)).toThrow(/E = 0/);
    expect(() => unprotectRtcp({ key, salt }, sealed.subarray(0, 20))).toThrow(/shorter than its tag/);
  });
});
