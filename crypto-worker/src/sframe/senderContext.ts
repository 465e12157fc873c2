// A sender's SFrame state for one stream: the current KID and its key, and the CTR it alone hands
// out. RFC 9605 §7.4 and §9.1: each (base_key, KID, CTR) is used for at most one encryption, so
// the counter only moves forward, is never reset for a key it already used, and never wraps.
import { sha256 } from '@noble/hashes/sha2.js';
import type { AeadBackend, FrameKey } from './aead.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { MAX_U64, assertU64, concatBytes, encodeBigEndian } from './bytes.ts';
import { defaultBackend } from './backend.ts';
import { SFrameError } from './errors.ts';
import { type SealedParts, encryptFrameParts } from './frame.ts';
import { type CipherSuite, cipherSuite } from './suites.ts';

export interface SenderContextOptions {
  backend?: AeadBackend;
  /** Highest CTR this context will use (default 2^64 - 1, the largest the header can carry). */
  counterLimit?: bigint;
  /** How many retired keys keep their counters remembered (default 4096). */
  historySize?: number;
}

export interface SealedFrame extends SealedParts {
  kid: bigint;
  ctr: bigint;
}

interface CounterRecord {
  next: bigint;
}

export class SenderContext {
  readonly suite: CipherSuite;
  readonly #backend: AeadBackend;
  readonly #counterLimit: bigint;
  readonly #historySize: number;
  /**
   * Counters of every key this context has used, by SHA-256(KID ‖ base_key) in hex: recognises a
   * key that comes back without keeping the key itself. Insertion order = age.
   */
  readonly #counters = new Map<string, CounterRecord>();
  #current: { kid: bigint; key: FrameKey; counter: CounterRecord } | undefined;

  constructor(suite: number, options: SenderContextOptions = {}) {
    this.suite = cipherSuite(suite);
    this.#backend = options.backend ?? defaultBackend();
    this.#counterLimit = options.counterLimit ?? MAX_U64;
    this.#historySize = options.historySize ?? 4096;
    assertU64('counter limit', this.#counterLimit);
  }

  get kid(): bigint | undefined {
    return this.#current?.kid;
  }

  get hasKey(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Switches to `kid` with `baseKey`. A (KID, key) pair seen before resumes its counter instead of
   * restarting it at 0, so re-installing a key can never repeat a nonce.
   */
  async setKey(kid: bigint, baseKey: Uint8Array): Promise<void> {
    assertU64('KID', kid);
    const key = await this.#backend.deriveFrameKey(this.suite, baseKey, kid);
    this.#current = { kid, key, counter: this.#counterFor(kid, baseKey) };
  }

  /** Forgets the current key: later `encrypt` calls fail with 'missing-key' (fail closed). */
  clearKey(): void {
    this.#current = undefined;
  }

  /** RFC 9605 §4.4.3 with the next CTR. Throws 'missing-key' or 'counter-exhausted'. */
  async encrypt(metadata: Uint8Array, plaintext: Uint8Array): Promise<SealedFrame> {
    const current = this.#current;
    if (current === undefined) throw new SFrameError('missing-key', 'sender has no key');
    const ctr = this.#take(current.counter);
    const parts = await encryptFrameParts(current.key, current.kid, ctr, metadata, plaintext);
    return { kid: current.kid, ctr, ...parts };
  }

  /** Reserves a CTR synchronously, before any await, so concurrent calls never share one. */
  #take(counter: CounterRecord): bigint {
    if (counter.next > this.#counterLimit) {
      throw new SFrameError('counter-exhausted', 'CTR space of this key is used up; install a new key');
    }
    return counter.next++;
  }

  #counterFor(kid: bigint, baseKey: Uint8Array): CounterRecord {
    const fingerprint = bytesToHex(sha256(concatBytes(encodeBigEndian(kid, 8), baseKey)));
    const known = this.#counters.get(fingerprint);
    if (known !== undefined) return known;
    const record = { next: 0n };
    this.#counters.set(fingerprint, record);
    this.#trimHistory(record);
    return record;
  }

  /** Bounds the history; the record about to be used always stays. */
  #trimHistory(keep: CounterRecord): void {
    for (const [fingerprint, record] of this.#counters) {
      if (this.#counters.size <= this.#historySize) return;
      if (record !== keep) this.#counters.delete(fingerprint);
    }
  }
}
