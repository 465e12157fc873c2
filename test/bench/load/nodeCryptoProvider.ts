// A ts-mls CryptoProvider on Node's own synchronous crypto (OpenSSL), for SIMULATED members only:
// benchmarks run a hundred MLS members on one machine's cores, where each real member has a device
// of its own. Processing one commit at 100 members costs ts-mls about 780 HKDF-Expand calls (the
// epoch's secret tree) and, for a joiner, a signature check per leaf; through WebCrypto every call
// is a hand-over to Node's thread pool (about 100 µs each on the project's machine), so a member on
// the pure-JS provider spent ~150 ms per commit, and a storm of 100 joins (every member processing
// every join: O(n²)) measured the generator instead of the key service.
//
// Hash, HMAC, HKDF and Ed25519 here are node:crypto's; HPKE (a handful of calls per commit) stays
// ts-mls's own. The wire format and the states are the same as with any provider: the members it
// runs interoperate with browsers' (the unit test cross-checks it against ts-mls's noble provider).
// The product keeps its providers (WebCrypto in browsers).
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { nobleCryptoProvider, type CiphersuiteImpl, type CryptoProvider } from 'ts-mls';

type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';
type Suite = Parameters<CryptoProvider['getCiphersuiteImpl']>[0];

const NODE_HASH: Record<HashName, { name: string; size: number }> = {
  'SHA-256': { name: 'sha256', size: 32 },
  'SHA-384': { name: 'sha384', size: 48 },
  'SHA-512': { name: 'sha512', size: 64 },
};
const KDF_HASH = { 'HKDF-SHA256': 'SHA-256', 'HKDF-SHA384': 'SHA-384', 'HKDF-SHA512': 'SHA-512' } as const;

// DER prefixes that wrap a raw Ed25519 key (RFC 8410): SubjectPublicKeyInfo and PKCS #8.
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
/** Public keys seen, as KeyObjects: every member checks the same leaves' signatures over and over. */
const MAX_CACHED_KEYS = 10_000;

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

function hashOf(alg: HashName): CiphersuiteImpl['hash'] {
  const { name } = NODE_HASH[alg];
  const mac = (key: Uint8Array, data: Uint8Array) => bytes(createHmac(name, key).update(data).digest());
  return {
    digest: async (data) => bytes(createHash(name).update(data).digest()),
    mac: async (key, data) => mac(key, data),
    verifyMac: async (key, tag, data) => {
      const expected = mac(key, data);
      return expected.byteLength === tag.byteLength && timingSafeEqual(expected, tag);
    },
  };
}

/** HKDF (RFC 5869) with Extract and Expand apart, as MLS's key schedule calls them. */
function kdfOf(alg: HashName): CiphersuiteImpl['kdf'] {
  const { name, size } = NODE_HASH[alg];
  return {
    size,
    // An empty salt is HashLen zero bytes (§2.2); HMAC pads its key with zeros, so both agree.
    extract: async (salt, ikm) => bytes(createHmac(name, salt).update(ikm).digest()),
    async expand(prk, info, length) {
      if (length > 255 * size) throw new RangeError('HKDF-Expand: length too large');
      const out = Buffer.alloc(Math.ceil(length / size) * size);
      let previous = Buffer.alloc(0);
      for (let i = 0; i * size < length; i++) {
        previous = createHmac(name, prk)
          .update(previous)
          .update(info)
          .update(Uint8Array.of(i + 1))
          .digest();
        previous.copy(out, i * size);
      }
      return bytes(out.subarray(0, length));
    },
  };
}

const ed25519: CiphersuiteImpl['signature'] = (() => {
  const publicKeys = new Map<string, KeyObject>();
  const publicKey = (raw: Uint8Array): KeyObject => {
    const id = Buffer.from(raw).toString('hex');
    let key = publicKeys.get(id);
    if (key === undefined) {
      if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
      key = createPublicKey({ key: concat(ED25519_SPKI_PREFIX, raw), format: 'der', type: 'spki' });
      publicKeys.set(id, key);
    }
    return key;
  };
  // A signing key is the 32-byte seed (noble's form) or its PKCS #8 encoding (WebCrypto's).
  const privateKey = (signKey: Uint8Array) =>
    createPrivateKey({
      key: signKey.byteLength === 32 ? concat(ED25519_PKCS8_PREFIX, signKey) : Buffer.from(signKey),
      format: 'der',
      type: 'pkcs8',
    });
  return {
    sign: async (signKey, message) => bytes(nodeSign(null, message, privateKey(signKey))),
    async verify(key, message, signature) {
      // Malformed keys and signatures do not verify (node:crypto throws on some of them).
      if (key.byteLength !== 32 || signature.byteLength !== 64) return false;
      try {
        return nodeVerify(null, message, publicKey(key), signature);
      } catch {
        return false;
      }
    },
    async keygen() {
      const pair = generateKeyPairSync('ed25519');
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
      return {
        publicKey: bytes(spki.subarray(ED25519_SPKI_PREFIX.byteLength)),
        signKey: bytes(pair.privateKey.export({ format: 'der', type: 'pkcs8' })),
      };
    },
  };
})();

/** ts-mls's noble provider with hashing, HKDF and Ed25519 replaced by node:crypto's. */
export const nodeCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs: Suite): Promise<CiphersuiteImpl> {
    const base = await nobleCryptoProvider.getCiphersuiteImpl(cs);
    return {
      ...base,
      hash: hashOf(cs.hash),
      kdf: kdfOf(KDF_HASH[cs.hpke.kdf]),
      signature: cs.signature === 'Ed25519' ? ed25519 : base.signature,
    };
  },
};
