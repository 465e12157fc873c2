// The cipher suites of RFC 9605 §4.5 (Table 1) and their parameters.
import { SFrameError } from './errors.ts';

export const AES_128_CTR_HMAC_SHA256_80 = 1;
export const AES_128_CTR_HMAC_SHA256_64 = 2;
export const AES_128_CTR_HMAC_SHA256_32 = 3;
export const AES_128_GCM_SHA256_128 = 4;
export const AES_256_GCM_SHA512_128 = 5;

export type CipherSuiteId = 1 | 2 | 3 | 4 | 5;

export interface CipherSuite {
  id: CipherSuiteId;
  name: string;
  /** Hash for HKDF (and HMAC in the CTR suites). */
  hash: 'SHA-256' | 'SHA-512';
  /** AEAD construction: AES-GCM, or AES-CTR with truncated HMAC (RFC 9605 §4.5.1). */
  aead: 'gcm' | 'ctr-hmac';
  /** Nk: bytes of sframe_key (for ctr-hmac: encryption key ‖ authentication key). */
  nk: number;
  /** Nka: bytes of the AES key inside sframe_key for ctr-hmac (RFC 9605 §4.5.1); Nk for GCM. */
  nka: number;
  /** Nn: nonce bytes. */
  nn: number;
  /** Nt: tag bytes. */
  nt: number;
}

// RFC 9605 §4.5, Table 1 (Nh/Nka/Nk/Nn/Nt).
const SUITES: Record<CipherSuiteId, CipherSuite> = {
  1: {
    id: 1,
    name: 'AES_128_CTR_HMAC_SHA256_80',
    hash: 'SHA-256',
    aead: 'ctr-hmac',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 10,
  },
  2: {
    id: 2,
    name: 'AES_128_CTR_HMAC_SHA256_64',
    hash: 'SHA-256',
    aead: 'ctr-hmac',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 8,
  },
  3: {
    id: 3,
    name: 'AES_128_CTR_HMAC_SHA256_32',
    hash: 'SHA-256',
    aead: 'ctr-hmac',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 4,
  },
  4: { id: 4, name: 'AES_128_GCM_SHA256_128', hash: 'SHA-256', aead: 'gcm', nk: 16, nka: 16, nn: 12, nt: 16 },
  5: { id: 5, name: 'AES_256_GCM_SHA512_128', hash: 'SHA-512', aead: 'gcm', nk: 32, nka: 32, nn: 12, nt: 16 },
};

export const CIPHER_SUITE_IDS: readonly CipherSuiteId[] = [1, 2, 3, 4, 5];

export function isCipherSuiteId(value: unknown): value is CipherSuiteId {
  return typeof value === 'number' && (CIPHER_SUITE_IDS as readonly number[]).includes(value);
}

export function cipherSuite(id: number): CipherSuite {
  if (!isCipherSuiteId(id))
    throw new SFrameError('unsupported-suite', `cipher suite ${String(id)} is not in RFC 9605`);
  return SUITES[id];
}
