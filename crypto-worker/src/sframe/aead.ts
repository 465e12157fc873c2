// What both AEAD back ends (WebCrypto and @noble) provide, and the pieces of RFC 9605 §4.4.3 and
// §4.5.1 they share: the nonce and the AES-CTR+HMAC authentication input.
import { concatBytes, encodeBigEndian } from './bytes.ts';
import { SFrameError } from './errors.ts';
import type { CipherSuite } from './suites.ts';

/** The per-KID key material of RFC 9605 §4.4.2, ready for per-frame use. */
export interface FrameKey {
  readonly suite: CipherSuite;
  /** sframe_salt (not secret: the nonce is derived from it and the CTR sent in clear). */
  readonly salt: Uint8Array;
  /** AEAD.Encrypt: returns ciphertext ‖ tag. */
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
export function frameNonce(salt: Uint8Array, ctr: bigint): Uint8Array {
  const nonce = encodeBigEndian(ctr, salt.length);
  for (let i = 0; i < nonce.length; i++) nonce[i] = (nonce[i] ?? 0) ^ (salt[i] ?? 0);
  return nonce;
}

/** RFC 9605 §4.5.1 `compute_tag` input: aad_len ‖ ct_len ‖ tag_len ‖ nonce ‖ aad ‖ ct. */
export function ctrHmacAuthData(
  suite: CipherSuite,
  nonce: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Uint8Array {
  return concatBytes(
    encodeBigEndian(BigInt(aad.length), 8),
    encodeBigEndian(BigInt(ct.length), 8),
    encodeBigEndian(BigInt(suite.nt), 8),
    nonce,
    aad,
    ct,
  );
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
