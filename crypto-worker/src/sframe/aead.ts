// What both AEAD back ends (WebCrypto and @noble) provide, and the pieces of RFC 9605 §4.4.3 and
// §4.5.1 they share: the nonce and the AES-CTR+HMAC authentication input.
import { writeBigEndian } from './bytes.ts';
import { SFrameError } from './errors.ts';
import type { CipherSuite } from './suites.ts';

/** The per-KID key material of RFC 9605 §4.4.2, ready for per-frame use. */
export interface FrameKey {
  readonly suite: CipherSuite;
  /** sframe_salt (not secret: the nonce is derived from it and the CTR sent in clear). */
  readonly salt: Uint8Array;
  /**
   * AEAD.Encrypt: returns ciphertext ‖ tag, possibly as a view into a larger buffer (copy it; never
   * hand its `.buffer` on).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** AEAD.Decrypt: returns the plaintext or throws SFrameError('auth-failed' | 'malformed'). */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
}

export interface AeadBackend {
  readonly name: 'webcrypto' | 'noble';
  /** RFC 9605 §4.4.2: derives sframe_key and sframe_salt for one KID. */
  deriveFrameKey(suite: CipherSuite, baseKey: Uint8Array, kid: bigint): Promise<FrameKey>;
  /** Wraps an already derived sframe_key (Nk bytes) and sframe_salt (Nn bytes), e.g. from test vectors. */
  importFrameKey(suite: CipherSuite, sframeKey: Uint8Array, salt: Uint8Array): Promise<FrameKey>;
}

/** RFC 9605 §4.4.3: nonce = sframe_salt XOR encode_big_endian(CTR, Nn). */
export function frameNonce(salt: Uint8Array, ctr: bigint): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(salt);
  writeBigEndian(nonce, 0, ctr, nonce.length, true);
  return nonce;
}

/**
 * RFC 9605 §4.5.1 `compute_tag` input: aad_len ‖ ct_len ‖ tag_len ‖ nonce ‖ aad ‖ ct, followed by
 * `spare` unused bytes. With spare = Nt, the sealer writes the tag there and returns ct ‖ tag as a
 * view of this one buffer instead of copying the ciphertext a second time.
 */
export function ctrHmacAuthData(
  suite: CipherSuite,
  nonce: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
  spare = 0,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(24 + nonce.length + aad.length + ct.length + spare);
  writeBigEndian(out, 0, BigInt(aad.length), 8);
  writeBigEndian(out, 8, BigInt(ct.length), 8);
  writeBigEndian(out, 16, BigInt(suite.nt), 8);
  out.set(nonce, 24);
  out.set(aad, 24 + nonce.length);
  out.set(ct, 24 + nonce.length + aad.length);
  return out;
}

/** Seals ct ‖ tag for the AES-CTR+HMAC suites around a `computeTag` over the auth data. */
export async function sealCtrHmac(
  suite: CipherSuite,
  nonce: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
  computeTag: (authData: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>,
): Promise<Uint8Array> {
  const buffer = ctrHmacAuthData(suite, nonce, aad, ct, suite.nt);
  const tagAt = buffer.length - suite.nt;
  buffer.set((await computeTag(buffer.subarray(0, tagAt))).subarray(0, suite.nt), tagAt);
  return buffer.subarray(tagAt - ct.length);
}

/** RFC 9605 §4.5.1: AES-CTR's initial counter block is the nonce followed by four zero bytes. */
export function ctrInitialCounter(nonce: Uint8Array): Uint8Array<ArrayBuffer> {
  const block = new Uint8Array(16);
  block.set(nonce);
  return block;
}

/** Splits ciphertext ‖ tag; a body shorter than the tag cannot be a ciphertext. */
export function splitTag(suite: CipherSuite, sealed: Uint8Array): { ct: Uint8Array; tag: Uint8Array } {
  if (sealed.length < suite.nt) throw new SFrameError('malformed', 'ciphertext is shorter than the tag');
  const cut = sealed.length - suite.nt;
  return { ct: sealed.subarray(0, cut), tag: sealed.subarray(cut) };
}
