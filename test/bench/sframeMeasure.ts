// How SFrame's per-frame cost is measured, shared by the Node benchmark (sframe.bench.ts) and the
// Chromium one (sframe.chromium.bench.ts, which bundles this file into a dedicated worker). Only
// `globalThis.crypto` and `performance` are used, so the method is the same in both places.
//
// What is timed is what the crypto worker's transform calls per frame: SenderContext.encrypt and
// ReceiverKeyRing.decrypt (counter, header, nonce, AAD, the AEAD call or calls, KID lookup, replay
// window). Not timed, on either side: the transform's one copy that lays out the outgoing frame
// (clear prefix ‖ header ‖ ciphertext ‖ tag) or the incoming one (clear prefix ‖ plaintext); bare
// AES-GCM behind the same clear prefix needs that same copy.
//
// Fairness of the baseline ("bare AES-GCM"): one non-extractable AES-128-GCM CryptoKey imported once;
// each call gets the nonce and additional data SFrame uses for that frame (AAD = SFrame header ‖
// metadata), copied into arrays kept for the purpose, and decrypt opens what it sealed (whole arrays,
// where SFrame opens a view of the frame after its header: the baseline gets the cheaper call).
//
// Stability on a shared machine: each operation is warmed up, then timed in short batches (about
// `batchMs`). Every round times SFrame encrypt and bare AES-GCM encrypt back to back (which goes first
// alternates), then the two decrypts the same way, then the @noble back end; a slow moment of the
// machine therefore hits both sides of a comparison alike. Every (suite, size) gets its rounds in
// several passes over all of them, so a slow or fast stretch of the machine does not land on one size
// only. A figure is the median over rounds; a ratio is the median over rounds of SFrame's batch
// divided by the bare AES-GCM batch next to it.
import {
  type AeadBackend,
  ReceiverKeyRing,
  SenderContext,
  cipherSuite,
  frameNonce,
} from '../../crypto-worker/src/sframe/index.ts';
import type { Metric } from './metric.ts';

export interface MeasureOptions {
  /** Times every (suite, size) is visited; its rounds are spread over the passes. */
  passes: number;
  /** Rounds per (suite, size) per pass. */
  roundsPerPass: number;
  /** Target duration of one batch of one operation. */
  batchMs: number;
  /** Time each operation runs before its batch size is fixed. */
  warmupMs: number;
  /** Time each operation runs again at the start of every later pass. */
  rewarmMs: number;
}

export const DEFAULT_MEASURE_OPTIONS: MeasureOptions = {
  passes: 4,
  roundsPerPass: 18,
  batchMs: 6,
  warmupMs: 150,
  rewarmMs: 20,
};

export const SFRAME_SUITES = [1, 4] as const;
export const SFRAME_SIZES: ReadonlyArray<readonly [label: string, bytes: number]> = [
  ['100B', 100],
  ['1.2KB', 1200],
  ['10KB', 10_000],
  ['60KB', 60_000],
];

/** The KID SFrame frames carry here: two bytes, the worst case of the ≤ 22 bytes target (KID < 2^16). */
export const BENCH_KID = 0x1234n;
/** Metadata authenticated with every frame: 3 bytes, the clear prefix of a VP8 delta frame. */
export const BENCH_METADATA_BYTES = 3;

export interface SFrameTimings {
  /** Median µs per call. */
  encrypt: number;
  decrypt: number;
  aesgcmEncrypt: number;
  aesgcmDecrypt: number;
  nobleEncrypt: number;
  nobleDecrypt: number;
  /** Median over rounds of SFrame ÷ bare AES-GCM (WebCrypto back end). */
  encryptRatio: number;
  decryptRatio: number;
  /** Spread of the per-round encrypt ratio: (p75 - p25) / median. */
  encryptRatioSpread: number;
}

export interface SFrameResult {
  suite: number;
  label: string;
  timings: SFrameTimings;
}

type Op = (i: number) => Promise<unknown>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function random(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

interface Timed {
  op: Op;
  /** Runs before each batch, outside the timing (e.g. a fresh replay window). */
  before: (() => Promise<void>) | undefined;
  /** Calls per batch. */
  n: number;
  samples: number[];
}

function timed(op: Op, before?: () => Promise<void>): Timed {
  return { op, before, n: 0, samples: [] };
}

/** Runs `t` for about `ms`, starting over (with `before`) every `wrap` calls; returns the calls made. */
async function runFor(ms: number, t: Timed, wrap: number): Promise<number> {
  const end = performance.now() + ms;
  let calls = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 8; k++, calls++) {
      if (calls % wrap === 0) await t.before?.();
      await t.op(calls % wrap);
    }
  }
  return calls;
}

/** µs per call over `t.n` sequential calls (sequential, as the frame transform awaits each frame). */
async function batchMicros(t: Timed): Promise<number> {
  await t.before?.();
  const start = performance.now();
  for (let i = 0; i < t.n; i++) await t.op(i);
  return ((performance.now() - start) * 1000) / t.n;
}

type Ops = Record<
  'encrypt' | 'aesgcmEncrypt' | 'decrypt' | 'aesgcmDecrypt' | 'nobleEncrypt' | 'nobleDecrypt',
  Timed
>;

/** One (suite, size): its keys, frames and operations, measured over several passes. */
class Measurement {
  readonly #ops: Ops;
  readonly #frameStore: number;
  readonly #encryptRatios: number[] = [];
  readonly #decryptRatios: number[] = [];

  private constructor(ops: Ops, frameStore: number) {
    this.#ops = ops;
    this.#frameStore = frameStore;
  }

  static async prepare(
    suite: number,
    size: number,
    backends: { webcrypto: AeadBackend; noble: AeadBackend },
  ): Promise<Measurement> {
    const params = cipherSuite(suite);
    const baseKey = random(params.nk);
    const plaintext = random(size);
    const metadata = random(BENCH_METADATA_BYTES);

    const sender = new SenderContext(suite, { backend: backends.webcrypto });
    await sender.setKey(BENCH_KID, baseKey);
    const nobleSender = new SenderContext(suite, { backend: backends.noble });
    await nobleSender.setKey(BENCH_KID, baseKey);
    const ring = new ReceiverKeyRing(suite, { backend: backends.webcrypto }); // the worker's 1024-CTR window
    const nobleRing = new ReceiverKeyRing(suite, { backend: backends.noble });
    const freshRing = (r: ReceiverKeyRing) => () => r.addKey(BENCH_KID, baseKey); // resets the window

    // Decrypt inputs, and the nonce and AAD SFrame uses for each, so the baseline gets the same bytes.
    // A separate context makes them, so `sender` counts from 0 as a real stream does.
    const maker = new SenderContext(suite, { backend: backends.webcrypto });
    await maker.setKey(BENCH_KID, baseKey);
    const frameKey = await backends.webcrypto.deriveFrameKey(params, baseKey, BENCH_KID);
    const frameStore = Math.min(4096, Math.ceil((16 * 1024 * 1024) / (size + 64)));
    const frames: Uint8Array[] = [];
    const nonces: Uint8Array[] = [];
    const aads: Uint8Array[] = [];
    for (let i = 0; i < frameStore; i++) {
      const { header, sealed, ctr } = await maker.encrypt(metadata, plaintext);
      const frame = new Uint8Array(header.length + sealed.length);
      frame.set(header);
      frame.set(sealed, header.length);
      frames.push(frame);
      nonces.push(frameNonce(frameKey.salt, ctr));
      const aad = new Uint8Array(header.length + metadata.length);
      aad.set(header);
      aad.set(metadata, header.length);
      aads.push(aad);
    }

    const bareKey = await crypto.subtle.importKey('raw', random(16), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    // The cheapest way to hand WebCrypto a frame's nonce and AAD: copied into arrays kept for the
    // purpose (as SFrame's WebCrypto back end does), not a new array per call.
    const iv = new Uint8Array(12);
    const aadByLength = new Map<number, Uint8Array<ArrayBuffer>>();
    const gcm = (i: number) => {
      const aad = aads[i % aads.length]!;
      const scratch = aadByLength.get(aad.length) ?? new Uint8Array(aad.length);
      aadByLength.set(aad.length, scratch);
      iv.set(nonces[i % nonces.length]!);
      scratch.set(aad);
      return { name: 'AES-GCM', iv, additionalData: scratch };
    };
    const bareSealed: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < Math.min(frameStore, 256); i++)
      bareSealed.push(new Uint8Array(await crypto.subtle.encrypt(gcm(i), bareKey, plaintext)));

    const ops = {
      encrypt: timed(() => sender.encrypt(metadata, plaintext)),
      aesgcmEncrypt: timed((i) => crypto.subtle.encrypt(gcm(i), bareKey, plaintext)),
      decrypt: timed((i) => ring.decrypt(metadata, frames[i]!), freshRing(ring)),
      aesgcmDecrypt: timed((i) => {
        const j = i % bareSealed.length;
        return crypto.subtle.decrypt(gcm(j), bareKey, bareSealed[j]!);
      }),
      nobleEncrypt: timed(() => nobleSender.encrypt(metadata, plaintext)),
      nobleDecrypt: timed((i) => nobleRing.decrypt(metadata, frames[i]!), freshRing(nobleRing)),
    };
    return new Measurement(ops, frameStore);
  }

  /** Runs every operation for `ms`; the first time, also fixes its batch size at about `batchMs`. */
  async warmUp(ms: number, batchMs: number): Promise<void> {
    for (const t of Object.values(this.#ops)) {
      const calls = await runFor(ms, t, this.#frameStore);
      if (t.n === 0) t.n = Math.max(4, Math.min(this.#frameStore, Math.round((calls * batchMs) / ms)));
    }
  }

  /** One round: each comparison's two sides back to back, which goes first alternating by round. */
  async round(): Promise<void> {
    const ops = this.#ops;
    const index = this.#encryptRatios.length;
    const groups = [
      [ops.encrypt, ops.aesgcmEncrypt],
      [ops.decrypt, ops.aesgcmDecrypt],
      [ops.nobleEncrypt],
      [ops.nobleDecrypt],
    ];
    for (const group of groups) {
      for (const t of index % 2 ? [...group].reverse() : group) t.samples.push(await batchMicros(t));
    }
    this.#encryptRatios.push(ops.encrypt.samples[index]! / ops.aesgcmEncrypt.samples[index]!);
    this.#decryptRatios.push(ops.decrypt.samples[index]! / ops.aesgcmDecrypt.samples[index]!);
  }

  result(): SFrameTimings {
    const ops = this.#ops;
    const encryptRatio = median(this.#encryptRatios);
    const spread = quantile(this.#encryptRatios, 0.75) - quantile(this.#encryptRatios, 0.25);
    return {
      encrypt: median(ops.encrypt.samples),
      decrypt: median(ops.decrypt.samples),
      aesgcmEncrypt: median(ops.aesgcmEncrypt.samples),
      aesgcmDecrypt: median(ops.aesgcmDecrypt.samples),
      nobleEncrypt: median(ops.nobleEncrypt.samples),
      nobleDecrypt: median(ops.nobleDecrypt.samples),
      encryptRatio,
      decryptRatio: median(this.#decryptRatios),
      encryptRatioSpread: spread / encryptRatio,
    };
  }
}

/**
 * Measures every suite and size. Each is visited `passes` times (a few rounds each time), so a stretch
 * of time in which the machine is slow or fast lands on all of them rather than on one.
 */
export async function measureAll(
  backends: { webcrypto: AeadBackend; noble: AeadBackend },
  options: MeasureOptions = DEFAULT_MEASURE_OPTIONS,
): Promise<SFrameResult[]> {
  const runs: Array<{ suite: number; label: string; measurement: Measurement }> = [];
  for (const suite of SFRAME_SUITES) {
    for (const [label, size] of SFRAME_SIZES) {
      const measurement = await Measurement.prepare(suite, size, backends);
      await measurement.warmUp(options.warmupMs, options.batchMs);
      runs.push({ suite, label, measurement });
    }
  }
  for (let pass = 0; pass < options.passes; pass++) {
    for (const { measurement } of runs) {
      if (pass > 0) await measurement.warmUp(options.rewarmMs, options.batchMs);
      for (let r = 0; r < options.roundsPerPass; r++) await measurement.round();
    }
  }
  return runs.map(({ suite, label, measurement }) => ({ suite, label, timings: measurement.result() }));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The metrics of one (suite, size) measurement, named `<prefix>.encrypt_us` etc. */
export function timingMetrics(prefix: string, t: SFrameTimings): Metric[] {
  return [
    { metric: `${prefix}.encrypt_us`, value: round3(t.encrypt), unit: 'µs/frame' },
    { metric: `${prefix}.decrypt_us`, value: round3(t.decrypt), unit: 'µs/frame' },
    {
      metric: `${prefix}.aesgcm_us`,
      value: round3(t.aesgcmEncrypt),
      unit: 'µs/frame (bare WebCrypto AES-GCM encrypt, same nonce and AAD)',
    },
    {
      metric: `${prefix}.aesgcm_decrypt_us`,
      value: round3(t.aesgcmDecrypt),
      unit: 'µs/frame (bare WebCrypto AES-GCM decrypt, same nonce and AAD)',
    },
    {
      metric: `${prefix}.ratio_vs_aesgcm`,
      value: round3(t.encryptRatio),
      unit: 'x (SFrame encrypt / bare AES-GCM encrypt, median of rounds)',
    },
    {
      metric: `${prefix}.ratio_spread`,
      value: round3(t.encryptRatioSpread),
      unit: '(p75 - p25) / median of the per-round encrypt ratio',
    },
    {
      metric: `${prefix}.decrypt_ratio_vs_aesgcm`,
      value: round3(t.decryptRatio),
      unit: 'x (SFrame decrypt / bare AES-GCM decrypt, median of rounds)',
    },
    {
      metric: `${prefix}.noble.encrypt_us`,
      value: round3(t.nobleEncrypt),
      unit: 'µs/frame (@noble back end)',
    },
    {
      metric: `${prefix}.noble.decrypt_us`,
      value: round3(t.nobleDecrypt),
      unit: 'µs/frame (@noble back end)',
    },
  ];
}
