// SFrame encryption and decryption of one frame, RFC 9605 §4.4.3 and §4.4.4.
import { type AeadBackend, type FrameKey, frameNonce } from './aead.ts';
import { assertU64, concatBytes } from './bytes.ts';
import { defaultBackend } from './backend.ts';
import { SFrameError } from './errors.ts';
import { decodeHeader, encodeHeader } from './header.ts';
import { cipherSuite } from './suites.ts';

/** An encrypted frame in two pieces, so callers can lay out prefix ‖ header ‖ sealed in one copy. */
export interface SealedParts {
  header: Uint8Array;
  /** ciphertext ‖ tag */
  sealed: Uint8Array;
}

/** RFC 9605 §4.4.3 with a derived key: header = encode(KID, CTR); aad = header ‖ metadata. */
export async function encryptFrameParts(
  key: FrameKey,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array,
): Promise<SealedParts> {
  const header = encodeHeader(kid, ctr);
  const aad = metadata.length === 0 ? header : concatBytes(header, metadata);
  const sealed = await key.seal(frameNonce(key.salt, ctr), aad, plaintext);
  return { header, sealed };
}

/** Looks up the key for a KID; `undefined` means no such key (→ 'missing-key'). */
export type FrameKeyLookup = (kid: bigint) => FrameKey | undefined | Promise<FrameKey | undefined>;

export interface OpenedFrame {
  kid: bigint;
  ctr: bigint;
  plaintext: Uint8Array;
}

/**
 * RFC 9605 §4.4.4: parse the header, find the key by KID, authenticate header ‖ metadata, decrypt.
 * `beforeOpen` may veto the CTR (anti-replay) before any cryptography runs.
 */
export async function decryptFrameWith(
  lookup: FrameKeyLookup,
  metadata: Uint8Array,
  frame: Uint8Array,
  beforeOpen?: (ctr: bigint) => void,
): Promise<OpenedFrame> {
  const { kid, ctr, length } = decodeHeader(frame);
  const key = await lookup(kid);
  if (key === undefined) throw new SFrameError('missing-key', `no key for KID ${kid}`);
  beforeOpen?.(ctr);
  const header = frame.subarray(0, length);
  const aad = metadata.length === 0 ? header : concatBytes(header, metadata);
  const plaintext = await key.open(frameNonce(key.salt, ctr), aad, frame.subarray(length));
  return { kid, ctr, plaintext };
}

/** RFC 9605 §4.4.3, stateless: derives the key from `baseKey` on every call. Returns header ‖ ct ‖ tag. */
export async function sframeEncrypt(
  suite: number,
  baseKey: Uint8Array,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array,
  backend: AeadBackend = defaultBackend(),
): Promise<Uint8Array> {
  assertU64('KID', kid);
  assertU64('CTR', ctr);
  const key = await backend.deriveFrameKey(cipherSuite(suite), baseKey, kid);
  const { header, sealed } = await encryptFrameParts(key, kid, ctr, metadata, plaintext);
  return concatBytes(header, sealed);
}

/** RFC 9605 §4.4.4, stateless: the frame's KID selects nothing here; `baseKey` is the one key tried. */
export async function sframeDecrypt(
  suite: number,
  baseKey: Uint8Array,
  metadata: Uint8Array,
  ciphertext: Uint8Array,
  backend: AeadBackend = defaultBackend(),
): Promise<OpenedFrame> {
  const params = cipherSuite(suite);
  return decryptFrameWith((kid) => backend.deriveFrameKey(params, baseKey, kid), metadata, ciphertext);
}
