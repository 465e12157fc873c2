// SFrame per-frame cost in real Chromium (Debian's /usr/bin/chromium), measured the same way as the
// Node benchmark (sframeMeasure.ts) inside a dedicated worker, as the crypto worker runs: SFrame
// encrypt/decrypt next to bare WebCrypto AES-GCM with the same nonce and AAD, in the same run.
// The crypto-worker SFrame library is bundled with esbuild and served through page.route.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { bundle } from '../browser/bundle.ts';
import { CHROMIUM } from '../support/chromium.ts';
import { noteMachineLoad } from './machine.ts';
import type { Benchmark, Metric } from './metric.ts';
import {
  DEFAULT_MEASURE_OPTIONS,
  type MeasureOptions,
  type SFrameResult,
  timingMetrics,
} from './sframeMeasure.ts';

const ORIGIN = 'http://localhost'; // a secure context; every request to it is answered by page.route
const here = path.dirname(fileURLToPath(import.meta.url));

/** Cross-origin isolation: performance.now() then has 5 µs resolution instead of 100 µs. */
const ISOLATED = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>SFrame benchmark</title>
<script>
  const worker = new Worker('/worker.js');
  window.measure = (options) => new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.ok ? resolve(e.data.results) : reject(new Error(e.data.error)));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(options);
  });
</script>`;

const benchmark: Benchmark = {
  name: 'SFrame per-frame cost (Chromium, in a dedicated worker; WebCrypto and @noble back ends)',
  reproduce: 'npm run bench -- sframe.chromium (alone on the machine: it times µs-long calls)',
  async run() {
    noteMachineLoad('before');
    const workerCode = await bundle(path.join(here, 'sframeBrowserWorker.ts'), { format: 'iife' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      console.error(`# Chromium ${browser.version()}`);
      const page = await browser.newPage();
      await page.route(`${ORIGIN}/**`, (route) => {
        const url = new URL(route.request().url());
        if (url.pathname === '/worker.js')
          return route.fulfill({ contentType: 'text/javascript', headers: ISOLATED, body: workerCode });
        if (url.pathname === '/')
          return route.fulfill({ contentType: 'text/html', headers: ISOLATED, body: PAGE });
        return route.fulfill({ status: 404 });
      });
      await page.goto(`${ORIGIN}/`);
      if (!(await page.evaluate(() => crossOriginIsolated)))
        throw new Error('benchmark page is not isolated');
      const results = await page.evaluate(
        (options) =>
          (window as unknown as { measure(o: MeasureOptions): Promise<SFrameResult[]> }).measure(options),
        DEFAULT_MEASURE_OPTIONS,
      );
      const metrics: Metric[] = [];
      for (const { suite, label, timings } of results) {
        metrics.push(...timingMetrics(`sframe.chromium.${suite}.${label}`, timings));
      }
      noteMachineLoad('after');
      return metrics;
    } finally {
      await browser.close();
    }
  },
};

export default benchmark;
