// Entry point of the crypto Web Worker. Everything it does lives in CryptoWorkerService; this file
// only binds the service to the worker global: `message` events (requests, and the legacy
// createEncodedStreams path) and `rtctransform` events (RTCRtpScriptTransform).
//
// Never log from here: messages carry key material.
import type { WorkerEvent } from './protocol.ts';
import { CryptoWorkerService, type ScriptTransformerLike } from './service.ts';

/** The parts of DedicatedWorkerGlobalScope used here (the project compiles against the DOM lib). */
interface WorkerScope {
  postMessage(message: WorkerEvent): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  onrtctransform?: ((event: { transformer: ScriptTransformerLike }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const service = new CryptoWorkerService((event) => scope.postMessage(event));

scope.addEventListener('message', (event) => {
  void service.handleMessage(event.data);
});

// RTCRtpScriptTransform: one event per new RTCRtpScriptTransform(worker, options) on the main thread.
scope.onrtctransform = (event) => service.attachScriptTransform(event.transformer);
