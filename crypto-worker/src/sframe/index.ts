// SFrame (RFC 9605): the public API of Conclave's implementation.
export { SFrameError, isSFrameError, type SFrameErrorReason } from './errors.ts';
export { encodeHeader, decodeHeader, type SFrameHeader } from './header.ts';
export { sframeEncrypt, sframeDecrypt, encryptFrameParts, decryptFrameWith } from './frame.ts';
export type { SealedParts, OpenedFrame, FrameKeyLookup } from './frame.ts';
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
export { sframeKeyLabel, sframeSaltLabel } from './keySchedule.ts';
export { frameNonce, type AeadBackend, type FrameKey } from './aead.ts';
export { webCryptoBackend } from './webcrypto.ts';
export { nobleBackend, deriveKeyAndSalt } from './noble.ts';
export { defaultBackend, hasWebCrypto } from './backend.ts';
export { SenderContext, type SenderContextOptions, type SealedFrame } from './senderContext.ts';
export {
  ReceiverKeyRing,
  type ReceiverKeyRingOptions,
  type ReceiverKeyInfo,
  type ReceivedFrame,
} from './receiverKeyRing.ts';
export { ReplayWindow, DEFAULT_REPLAY_WINDOW } from './replayWindow.ts';
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
