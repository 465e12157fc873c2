// SFrame per-frame cost next to bare WebCrypto AES-GCM on the same bytes, in the same run, plus the
// bytes SFrame adds per frame. Figures are measurements on this machine, not pass/fail checks.
// Targets (issue 3): ratio ≤ 1.3 for frames ≥ 1.2 KB; ≤ 22 bytes added with suite 4 for KID < 2^16, CTR < 2^24.
import {
  type AeadBackend,
  ReceiverKeyRing,
  SenderContext,
  cipherSuite,
  encodeHeader,
  nobleBackend,
  webCryptoBackend,
} from '../../crypto-worker/src/sframe/index.ts';
import { type Benchmark, type Metric, median } from './metric.ts';

const SUITES = [1, 4] as const;
const SIZES: Array<[string, number]> = [
  ['100B', 100],
  ['1.2KB', 1200],
  ['10KB', 10_000],
  ['60KB', 60_000],
];
const BATCHES = 7;
const BATCH_MS = 25;

function random(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

/** Calls per batch so one batch takes about BATCH_MS. */
async function calibrate(op: () => Promise<unknown>): Promise<number> {
  let n = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await op();
    const ms = performance.now() - start;
    if (ms >= BATCH_MS / 4 || n >= 1 << 16)
      return Math.max(1, Math.ceil((n * BATCH_MS) / Math.max(ms, 0.01)));
    n *= 2;
  }
}

async function batchMicros(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return ((performance.now() - start) * 1000) / n;
}

interface Timings {
  encrypt: number;
  decrypt: number;
  aesgcm: number;
}

/** Interleaves SFrame encrypt, SFrame decrypt and bare AES-GCM batches; returns median µs per call. */
async function measure(suite: number, backend: AeadBackend, size: number): Promise<Timings> {
  const baseKey = random(16);
  const kid = 0x1234n;
  const plaintext = random(size);
  const metadata = new Uint8Array(0);
  const sender = new SenderContext(suite, { backend });
  await sender.setKey(kid, baseKey);
  const ring = new ReceiverKeyRing(suite, { backend }); // default 1024-CTR window, as in the worker
  const bare = await crypto.subtle.importKey('raw', random(16), 'AES-GCM', false, ['encrypt']);
  const iv = random(12);

  const encrypt = async () => {
    const { header, sealed } = await sender.encrypt(metadata, plaintext);
    const out = new Uint8Array(header.length + sealed.length);
    out.set(header);
    out.set(sealed, header.length);
    return out;
  };
  const aesgcm = () => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, bare, plaintext);

  const n = Math.max(await calibrate(encrypt), 4);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) frames.push(await encrypt());

  const results: Record<keyof Timings, number[]> = { encrypt: [], decrypt: [], aesgcm: [] };
  for (let b = 0; b < BATCHES; b++) {
    results.aesgcm.push(await batchMicros(n, aesgcm));
    results.encrypt.push(await batchMicros(n, encrypt));
    await ring.addKey(kid, baseKey); // fresh replay window: each frame is accepted once per batch
    results.decrypt.push(await batchMicros(n, (i) => ring.decrypt(metadata, frames[i] ?? new Uint8Array(0))));
  }
  return {
    encrypt: median(results.encrypt),
    decrypt: median(results.decrypt),
    aesgcm: median(results.aesgcm),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const benchmark: Benchmark = {
  name: 'SFrame per-frame cost (Node, WebCrypto and @noble back ends)',
  reproduce: 'npm run bench -- sframe',
  async run() {
    const metrics: Metric[] = [];
    for (const suite of SUITES) {
      const nt = cipherSuite(suite).nt;
      // Worst case inside the target range: KID < 2^16, CTR < 2^24.
      metrics.push({
        metric: `sframe.${suite}.overhead_bytes`,
        value: encodeHeader(0xffffn, 0xffffffn).length + nt,
        unit: 'bytes',
      });
      for (const [label, size] of SIZES) {
        const web = await measure(suite, webCryptoBackend, size);
        const noble = await measure(suite, nobleBackend, size);
        const prefix = `sframe.${suite}.${label}`;
        metrics.push(
          { metric: `${prefix}.encrypt_us`, value: round(web.encrypt), unit: 'µs/frame' },
          { metric: `${prefix}.decrypt_us`, value: round(web.decrypt), unit: 'µs/frame' },
          {
            metric: `${prefix}.aesgcm_us`,
            value: round(web.aesgcm),
            unit: 'µs/frame (bare WebCrypto AES-GCM)',
          },
          {
            metric: `${prefix}.ratio_vs_aesgcm`,
            value: round(web.encrypt / web.aesgcm),
            unit: 'x (SFrame encrypt / bare AES-GCM)',
          },
          { metric: `${prefix}.decrypt_ratio_vs_aesgcm`, value: round(web.decrypt / web.aesgcm), unit: 'x' },
          {
            metric: `${prefix}.noble.encrypt_us`,
            value: round(noble.encrypt),
            unit: 'µs/frame (@noble back end)',
          },
          {
            metric: `${prefix}.noble.decrypt_us`,
            value: round(noble.decrypt),
            unit: 'µs/frame (@noble back end)',
          },
        );
      }
    }
    return metrics;
  },
};

export default benchmark;
