// SFrame per-frame cost in Node next to bare WebCrypto AES-GCM on the same bytes (same nonce and
// AAD), in the same run, plus the bytes SFrame adds per frame. The method is in sframeMeasure.ts and
// is the same one sframe.chromium.bench.ts runs in Chromium. Figures are measurements on this
// machine, not pass/fail checks.
// Targets (issue 3): ratio ≤ 1.3 for frames ≥ 1.2 KB; ≤ 22 bytes added with suite 4 for KID < 2^16, CTR < 2^24.
import {
  cipherSuite,
  encodeHeader,
  nobleBackend,
  webCryptoBackend,
} from '../../crypto-worker/src/sframe/index.ts';
import { noteMachineLoad } from './machine.ts';
import type { Benchmark, Metric } from './metric.ts';
import { SFRAME_SUITES, measureAll, timingMetrics } from './sframeMeasure.ts';

const benchmark: Benchmark = {
  name: 'SFrame per-frame cost (Node, WebCrypto and @noble back ends)',
  reproduce: 'npm run bench -- sframe.bench (alone on the machine: it times µs-long calls)',
  async run() {
    noteMachineLoad('before');
    const metrics: Metric[] = SFRAME_SUITES.map((suite) => ({
      // Worst case inside the target range: KID < 2^16, CTR < 2^24.
      metric: `sframe.${suite}.overhead_bytes`,
      value: encodeHeader(0xffffn, 0xffffffn).length + cipherSuite(suite).nt,
      unit: 'bytes',
    }));
    for (const { suite, label, timings } of await measureAll({
      webcrypto: webCryptoBackend,
      noble: nobleBackend,
    })) {
      metrics.push(...timingMetrics(`sframe.${suite}.${label}`, timings));
    }
    noteMachineLoad('after');
    return metrics;
  },
};

export default benchmark;
