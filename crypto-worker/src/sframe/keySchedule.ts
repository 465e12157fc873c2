// Key schedule of RFC 9605 §4.4.2, shared by both AEAD back ends:
//
//   sframe_secret = HKDF-Extract("", base_key)
//   sframe_key    = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  + KID + cipher_suite, Nk)
//   sframe_salt   = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " + KID + cipher_suite, Nn)
//
// with KID as 8 bytes and cipher_suite as 2 bytes, both big-endian.
import { assertU64, concatBytes, encodeBigEndian } from './bytes.ts';
import { SFrameError } from './errors.ts';
import type { CipherSuite } from './suites.ts';

const KEY_LABEL = new TextEncoder().encode('SFrame 1.0 Secret key ');
const SALT_LABEL = new TextEncoder().encode('SFrame 1.0 Secret salt ');

function label(prefix: Uint8Array, kid: bigint, suite: CipherSuite): Uint8Array {
  assertU64('KID', kid);
  return concatBytes(prefix, encodeBigEndian(kid, 8), encodeBigEndian(BigInt(suite.id), 2));
}

/** RFC 9605 §4.4.2 `sframe_key_label`. */
export function sframeKeyLabel(kid: bigint, suite: CipherSuite): Uint8Array {
  return label(KEY_LABEL, kid, suite);
}

/** RFC 9605 §4.4.2 `sframe_salt_label`. */
export function sframeSaltLabel(kid: bigint, suite: CipherSuite): Uint8Array {
  return label(SALT_LABEL, kid, suite);
}

export function assertBaseKey(baseKey: Uint8Array): void {
  if (!(baseKey instanceof Uint8Array) || baseKey.length === 0) {
    throw new SFrameError('invalid-argument', 'base key must be a non-empty Uint8Array');
  }
}
