// The key-free half of the SFrame library (RFC 9605): what reading SFrame off the wire takes, and
// nothing that holds, derives or uses a key. The audit (@conclave/audit) and anything else that
// only inspects frames import this entry, `@conclave/crypto-worker/sframe/wire`, never `./sframe`.
//
// What must hold: every module re-exported here is key-free (header codec, suite table, KID layout,
// errors, byte helpers) and imports only other key-free modules; test/unit/audit/keyFree.test.ts
// walks the import graph and fails if a key schedule, AEAD or sender/receiver context is reached.
export { SFrameError, isSFrameError, type SFrameErrorReason } from './errors.ts';
export { encodeHeader, decodeHeader, type SFrameHeader } from './header.ts';
export {
  AES_128_CTR_HMAC_SHA256_80,
  AES_128_CTR_HMAC_SHA256_64,
  AES_128_CTR_HMAC_SHA256_32,
  AES_128_GCM_SHA256_128,
  AES_256_GCM_SHA512_128,
  CIPHER_SUITE_IDS,
  cipherSuite,
  isCipherSuiteId,
  type CipherSuite,
  type CipherSuiteId,
} from './suites.ts';
export {
  MEDIA_SOURCES,
  MLS_EPOCH_BITS,
  STREAM_CONTEXTS,
  epochLowBits,
  isMediaSource,
  mlsIndexBits,
  mlsKid,
  parseMlsKid,
  type MlsKidParts,
  type MediaSource,
} from './mlsKid.ts';
export { MAX_U64, concatBytes, decodeBigEndian, encodeBigEndian } from './bytes.ts';
