// The @noble back end: an independent implementation of the same AEADs (pure JavaScript), used to
// cross-check the WebCrypto back end and wherever WebCrypto is missing.
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import {
  type AeadBackend,
  type FrameKey,
  ctrHmacAuthData,
  ctrInitialCounter,
  sealCtrHmac,
  splitTag,
} from './aead.ts';
import { bytesEqual } from '@conclave/common/bytes';
import { SFrameError } from './errors.ts';
import { assertBaseKey, sframeKeyLabel, sframeSaltLabel } from './keySchedule.ts';
import type { CipherSuite } from './suites.ts';

function hashOf(suite: CipherSuite) {
  return suite.hash === 'SHA-256' ? sha256 : sha512;
}

/** RFC 9605 §4.4.2, step by step: sframe_secret, then sframe_key and sframe_salt. */
export function deriveKeyAndSalt(
  suite: CipherSuite,
  baseKey: Uint8Array,
  kid: bigint,
): { secret: Uint8Array; key: Uint8Array; salt: Uint8Array } {
  assertBaseKey(baseKey);
  const hash = hashOf(suite);
  const secret = extract(hash, baseKey, new Uint8Array(0));
  const key = expand(hash, secret, sframeKeyLabel(kid, suite), suite.nk);
  const salt = expand(hash, secret, sframeSaltLabel(kid, suite), suite.nn);
  return { secret, key, salt };
}

function gcmFrameKey(suite: CipherSuite, key: Uint8Array, salt: Uint8Array): FrameKey {
  return {
    suite,
    salt,
    seal: async (nonce, aad, plaintext) => gcm(key, nonce, aad).encrypt(plaintext),
    async open(nonce, aad, sealed) {
      splitTag(suite, sealed);
      try {
        return gcm(key, nonce, aad).decrypt(sealed);
      } catch {
        throw new SFrameError('auth-failed', 'AES-GCM tag did not verify');
      }
    },
  };
}

/** RFC 9605 §4.5.1 with @noble primitives. */
function ctrHmacFrameKey(suite: CipherSuite, key: Uint8Array, salt: Uint8Array): FrameKey {
  const encKey = key.slice(0, suite.nka);
  const authKey = key.slice(suite.nka);
  const tag = (authData: Uint8Array) => hmac(hashOf(suite), authKey, authData).subarray(0, suite.nt);
  return {
    suite,
    salt,
    async seal(nonce, aad, plaintext) {
      return sealCtrHmac(suite, nonce, aad, ctr(encKey, ctrInitialCounter(nonce)).encrypt(plaintext), tag);
    },
    async open(nonce, aad, sealed) {
      const { ct, tag: received } = splitTag(suite, sealed);
      if (!bytesEqual(tag(ctrHmacAuthData(suite, nonce, aad, ct)), received)) {
        throw new SFrameError('auth-failed', 'HMAC tag did not verify');
      }
      return ctr(encKey, ctrInitialCounter(nonce)).decrypt(ct);
    },
  };
}

export const nobleBackend: AeadBackend = {
  name: 'noble',
  async deriveFrameKey(suite, baseKey, kid) {
    const { secret, key, salt } = deriveKeyAndSalt(suite, baseKey, kid);
    secret.fill(0);
    return suite.aead === 'gcm' ? gcmFrameKey(suite, key, salt) : ctrHmacFrameKey(suite, key, salt);
  },
  async importFrameKey(suite, sframeKey, salt) {
    if (sframeKey.length !== suite.nk || salt.length !== suite.nn) {
      throw new SFrameError('invalid-argument', 'sframe_key or sframe_salt has the wrong length');
    }
    const key = sframeKey.slice();
    return suite.aead === 'gcm'
      ? gcmFrameKey(suite, key, salt.slice())
      : ctrHmacFrameKey(suite, key, salt.slice());
  },
};
