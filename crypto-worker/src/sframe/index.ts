// SFrame (RFC 9605): the public API of Conclave's implementation: the key-free wire half
// (./wire.ts, which the audit imports on its own) and the key schedule, AEADs and contexts.
export * from './wire.ts';
export { sframeEncrypt, sframeDecrypt, encryptFrameParts, decryptFrameWith } from './frame.ts';
export type { SealedParts, OpenedFrame, FrameKeyLookup } from './frame.ts';
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
