// Token buckets: one for a single socket's messages, and a keyed set of them (per address, per
// socket) whose idle buckets are forgotten so the map cannot grow without bound.

/** `ratePerSecond` sustained, `burst` at once. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, burst: number, now = Date.now()) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now = Date.now()): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled to its burst by `now` (an idle key can be forgotten). */
  isFull(now = Date.now()): boolean {
    return this.#tokens + ((now - this.#last) / 1000) * this.#rate >= this.#burst;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }
}

/** A token bucket per key (an IP address, a socket): `capacity` at once, refilled at `perSecond`. */
export class RateLimiter {
  readonly #capacity: number;
  readonly #perSecond: number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #maxKeys: number;

  constructor(options: { capacity: number; perSecond: number; maxKeys?: number }) {
    this.#capacity = options.capacity;
    this.#perSecond = options.perSecond;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string, now = Date.now()): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evictFull(now);
      bucket = new TokenBucket(this.#perSecond, this.#capacity, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  /** Drops `key`'s bucket (its socket closed, say). */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  #evictFull(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
    // Still full: forget the oldest entries rather than refuse to track new clients.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
