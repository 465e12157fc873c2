// Loads the RFC 9605 Appendix C vectors (test/fixtures/sframe) with KID and CTR as bigint.
import { readFileSync } from 'node:fs';

export interface HeaderVector {
  kid: bigint;
  ctr: bigint;
  encoded: string;
}
export interface AesCtrHmacVector {
  cipher_suite: number;
  key: string;
  enc_key: string;
  auth_key: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
}
export interface SFrameVector {
  cipher_suite: number;
  kid: bigint;
  ctr: bigint;
  base_key: string;
  sframe_key_label: string;
  sframe_salt_label: string;
  sframe_secret: string;
  sframe_key: string;
  sframe_salt: string;
  metadata: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
}
export interface Vectors {
  header: HeaderVector[];
  aes_ctr_hmac: AesCtrHmacVector[];
  sframe: SFrameVector[];
}

/** JSON.parse rounds integers above 2^53 - 1: quote the KID/CTR digits first, then read them as bigint. */
export function parseVectors(text: string): Vectors {
  const quoted = text.replace(/"(kid|ctr)":\s*(\d+)/g, '"$1": "$2"');
  return JSON.parse(quoted, (key, value: unknown) =>
    (key === 'kid' || key === 'ctr') && typeof value === 'string' ? BigInt(value) : value,
  ) as Vectors;
}

export const vectors: Vectors = parseVectors(
  readFileSync(new URL('../../fixtures/sframe/rfc9605-test-vectors.json', import.meta.url), 'utf8'),
);

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536)
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}
