// `@conclave/crypto-worker/client`: what the main thread uses to drive the crypto worker. The
// FrameCryptor starts the worker (bundled from `@conclave/crypto-worker/worker`), installs keys in it
// and attaches SFrame transforms; its failures are CryptoWorkerErrors with a closed code union.
// Nothing here derives a key: base keys come from MLS (the key client) and go straight to the worker.
export {
  FrameCryptor,
  type CryptoState,
  type FrameCryptorOptions,
  type MediaSource,
  type ReceiverStreamInfo,
  type StreamStatusEvent,
  type TransformPath,
} from './FrameCryptor.ts';
export { CryptoWorkerError, WorkerRequests, type CryptoWorkerErrorCode } from './requests.ts';
