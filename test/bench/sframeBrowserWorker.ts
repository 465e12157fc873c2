// Dedicated-worker entry for sframe.chromium.bench.ts: runs the same measurement as the Node
// benchmark (sframeMeasure.ts) where SFrame runs in production, in a worker, and posts the results.
import { nobleBackend, webCryptoBackend } from '../../crypto-worker/src/sframe/index.ts';
import { type MeasureOptions, type SFrameResult, measureAll } from './sframeMeasure.ts';

export type BrowserReply = { ok: true; results: SFrameResult[] } | { ok: false; error: string };

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<MeasureOptions>) => void) | null;
  postMessage(message: BrowserReply): void;
};

scope.onmessage = (event) => {
  measureAll({ webcrypto: webCryptoBackend, noble: nobleBackend }, event.data).then(
    (results) => scope.postMessage({ ok: true, results }),
    (error: unknown) => scope.postMessage({ ok: false, error: String(error) }),
  );
};
