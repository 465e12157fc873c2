// The WebCrypto back end: keys are derived once per KID into non-extractable CryptoKeys, and each
// frame costs one AES-GCM call (suites 4, 5) or one AES-CTR plus one HMAC call (suites 1-3).
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

/** WebCrypto's typings want ArrayBuffer-backed views; ours always are (never SharedArrayBuffer). */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new SFrameError('unsupported-suite', 'WebCrypto is not available here');
  return s;
}

/**
 * RFC 9605 §4.4.2 through WebCrypto's HKDF, which is Extract(salt = "", base_key) then
 * Expand(label, length): exactly the sframe_secret → sframe_key / sframe_salt steps.
 */
function hkdfParams(suite: CipherSuite, info: Uint8Array): HkdfParams {
  return { name: 'HKDF', hash: suite.hash, salt: new Uint8Array(0), info: buf(info) };
}

async function deriveBits(
  suite: CipherSuite,
  ikm: CryptoKey,
  info: Uint8Array,
  bytes: number,
): Promise<Uint8Array> {
  return new Uint8Array(await subtle().deriveBits(hkdfParams(suite, info), ikm, bytes * 8));
}

/** RFC 9605 §4.4.2 straight into a non-extractable AES-GCM key: the key bytes never reach JavaScript. */
async function deriveGcmKey(suite: CipherSuite, ikm: CryptoKey, kid: bigint): Promise<CryptoKey> {
  return subtle().deriveKey(
    hkdfParams(suite, sframeKeyLabel(kid, suite)),
    ikm,
    { name: 'AES-GCM', length: suite.nk * 8 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Inputs up to this length are handed to WebCrypto from a Scratch (nonces, AADs, counter blocks). */
const SCRATCH_MAX = 64;

/**
 * Long-lived arrays, one per length, that a key refills for every frame with its small AEAD inputs.
 * Handing the browser a new small array per call costs more than the rest of SFrame's per-frame work
 * together (about 2 µs per frame in Chromium's worker; test/bench/sframe.chromium.bench.ts measures
 * it). Reuse is safe because WebCrypto copies every BufferSource, argument or algorithm member, before
 * encrypt(), decrypt() or sign() returns ("get a copy of the bytes held by", in "normalize an
 * algorithm" and in each method's steps): callers fill a scratch array and call WebCrypto with no
 * await in between, so concurrent frames never see each other's bytes.
 */
class Scratch {
  readonly #byLength: Array<Uint8Array<ArrayBuffer> | undefined> = [];

  /** A copy of `bytes`, valid until the next `copy` of the same length. */
  copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
    if (bytes.length > SCRATCH_MAX) return buf(bytes);
    const view = (this.#byLength[bytes.length] ??= new Uint8Array(bytes.length));
    view.set(bytes);
    return view;
  }
}

/**
 * AES-GCM parameters for one frame, from `ivs` and `aads` (call WebCrypto before any await). The tag
 * length is left out when it is WebCrypto's default (128 bits, Nt = 16 for both GCM suites): spelling
 * it out costs measurable time per call in Node.
 */
function gcmParams(
  suite: CipherSuite,
  ivs: Scratch,
  aads: Scratch,
  nonce: Uint8Array,
  aad: Uint8Array,
): AesGcmParams {
  const params: AesGcmParams = { name: 'AES-GCM', iv: ivs.copy(nonce), additionalData: aads.copy(aad) };
  if (suite.nt !== 16) params.tagLength = suite.nt * 8;
  return params;
}

function gcmFrameKey(suite: CipherSuite, aesKey: CryptoKey, salt: Uint8Array): FrameKey {
  const ivs = new Scratch();
  const aads = new Scratch();
  return {
    suite,
    salt,
    async seal(nonce, aad, plaintext) {
      const params = gcmParams(suite, ivs, aads, nonce, aad);
      return new Uint8Array(await subtle().encrypt(params, aesKey, buf(plaintext)));
    },
    async open(nonce, aad, sealed) {
      if (sealed.length < suite.nt) throw new SFrameError('malformed', 'ciphertext is shorter than the tag');
      const params = gcmParams(suite, ivs, aads, nonce, aad);
      try {
        return new Uint8Array(await subtle().decrypt(params, aesKey, buf(sealed)));
      } catch {
        throw new SFrameError('auth-failed', 'AES-GCM tag did not verify');
      }
    },
  };
}

/** RFC 9605 §4.5.1 `derive_subkeys`: enc_key = sframe_key[..Nka], auth_key = sframe_key[Nka..]. */
async function importCtrHmacKeys(suite: CipherSuite, sframeKey: Uint8Array): Promise<[CryptoKey, CryptoKey]> {
  const encKey = await subtle().importKey('raw', buf(sframeKey.subarray(0, suite.nka)), 'AES-CTR', false, [
    'encrypt',
    'decrypt',
  ]);
  const authKey = await subtle().importKey(
    'raw',
    buf(sframeKey.subarray(suite.nka)),
    { name: 'HMAC', hash: suite.hash },
    false,
    ['sign'],
  );
  return [encKey, authKey];
}

async function ctrHmacFrameKey(
  suite: CipherSuite,
  sframeKey: Uint8Array,
  salt: Uint8Array,
): Promise<FrameKey> {
  const [encKey, authKey] = await importCtrHmacKeys(suite, sframeKey);
  // RFC 9605 §4.5.1 `compute_tag`: HMAC over the length-prefixed input, truncated to Nt bytes.
  const hmac = async (authData: Uint8Array) =>
    new Uint8Array(await subtle().sign('HMAC', authKey, buf(authData)), 0, suite.nt);
  const counters = new Scratch();
  const ctr = (nonce: Uint8Array) => ({
    name: 'AES-CTR',
    counter: counters.copy(ctrInitialCounter(nonce)),
    length: 32,
  });
  return {
    suite,
    salt,
    // RFC 9605 §4.5.1 AEAD.Encrypt: ct = AES-CTR(enc_key, nonce ‖ 0^32, pt); return ct ‖ tag.
    async seal(nonce, aad, plaintext) {
      const ct = new Uint8Array(await subtle().encrypt(ctr(nonce), encKey, buf(plaintext)));
      return sealCtrHmac(suite, nonce, aad, ct, hmac);
    },
    // RFC 9605 §4.5.1 AEAD.Decrypt: the tag is checked (in constant time) before decrypting.
    async open(nonce, aad, sealed) {
      const { ct, tag: received } = splitTag(suite, sealed);
      if (!bytesEqual(await hmac(ctrHmacAuthData(suite, nonce, aad, ct)), received)) {
        throw new SFrameError('auth-failed', 'HMAC tag did not verify');
      }
      return new Uint8Array(await subtle().decrypt(ctr(nonce), encKey, buf(ct)));
    },
  };
}

export const webCryptoBackend: AeadBackend = {
  name: 'webcrypto',
  async deriveFrameKey(suite, baseKey, kid) {
    assertBaseKey(baseKey);
    const ikm = await subtle().importKey('raw', buf(baseKey), 'HKDF', false, ['deriveBits', 'deriveKey']);
    const salt = await deriveBits(suite, ikm, sframeSaltLabel(kid, suite), suite.nn);
    if (suite.aead === 'gcm') return gcmFrameKey(suite, await deriveGcmKey(suite, ikm, kid), salt);
    const sframeKey = await deriveBits(suite, ikm, sframeKeyLabel(kid, suite), suite.nk);
    try {
      return await ctrHmacFrameKey(suite, sframeKey, salt);
    } finally {
      sframeKey.fill(0);
    }
  },
  async importFrameKey(suite, sframeKey, salt) {
    if (sframeKey.length !== suite.nk || salt.length !== suite.nn) {
      throw new SFrameError('invalid-argument', 'sframe_key or sframe_salt has the wrong length');
    }
    if (suite.aead === 'ctr-hmac') return ctrHmacFrameKey(suite, sframeKey, salt.slice());
    const aesKey = await subtle().importKey('raw', buf(sframeKey), 'AES-GCM', false, ['encrypt', 'decrypt']);
    return gcmFrameKey(suite, aesKey, salt.slice());
  },
};
