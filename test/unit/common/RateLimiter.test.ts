// The per-key token bucket (@conclave/common/rate-limit), driven by injected time.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '@conclave/common/rate-limit';

const T0 = 1_700_000_000_000;

function takeMany(limiter: RateLimiter, key: string, n: number, now: number): boolean[] {
  return Array.from({ length: n }, () => limiter.take(key, now));
}

describe('RateLimiter', () => {
  it('allows a burst of `capacity` requests, then refuses', () => {
    const limiter = new RateLimiter({ capacity: 5, perSecond: 1 });
    expect(takeMany(limiter, 'a', 5, T0)).toEqual([true, true, true, true, true]);
    expect(limiter.take('a', T0)).toBe(false);
    expect(limiter.take('a', T0)).toBe(false);
  });

  it('refills at `perSecond` over time', () => {
    const limiter = new RateLimiter({ capacity: 3, perSecond: 2 });
    takeMany(limiter, 'a', 3, T0);
    expect(limiter.take('a', T0 + 499)).toBe(false);
    expect(limiter.take('a', T0 + 500)).toBe(true);
    expect(limiter.take('a', T0 + 500)).toBe(false);
    expect(takeMany(limiter, 'a', 3, T0 + 1500)).toEqual([true, true, false]);
  });

  it('refills no further than its capacity after a long idle time', () => {
    const limiter = new RateLimiter({ capacity: 3, perSecond: 10 });
    takeMany(limiter, 'a', 3, T0);
    expect(takeMany(limiter, 'a', 4, T0 + 3_600_000)).toEqual([true, true, true, false]);
  });

  it('refused requests do not consume tokens: the rate is what gets through', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 1 });
    let allowed = 0;
    for (let ms = 0; ms < 10_000; ms += 100) if (limiter.take('a', T0 + ms)) allowed += 1;
    expect(allowed).toBe(10);
  });

  it('keeps a separate bucket per key', () => {
    const limiter = new RateLimiter({ capacity: 2, perSecond: 1 });
    takeMany(limiter, '203.0.113.1', 2, T0);
    expect(limiter.take('203.0.113.1', T0)).toBe(false);
    expect(takeMany(limiter, '203.0.113.2', 2, T0)).toEqual([true, true]);
  });

  it('at its key bound, forgets idle (full) buckets first and keeps limiting busy ones', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 1, maxKeys: 2 });
    expect(limiter.take('idle', T0)).toBe(true);
    expect(limiter.take('busy', T0 + 500)).toBe(true);
    // At T0 + 1000 'idle' has refilled, 'busy' holds half a token: a new key evicts 'idle' only.
    expect(limiter.take('new', T0 + 1000)).toBe(true);
    expect(limiter.take('busy', T0 + 1000)).toBe(false);
  });

  it('when every bucket is in use, forgets the oldest keys to stay within its bound', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 0.001, maxKeys: 3 });
    for (const key of ['k1', 'k2', 'k3']) expect(limiter.take(key, T0)).toBe(true);
    expect(limiter.take('k4', T0)).toBe(true);
    // k1 was forgotten, so it starts over with a full bucket; k3 and k4 are still tracked and empty.
    expect(limiter.take('k3', T0)).toBe(false);
    expect(limiter.take('k4', T0)).toBe(false);
    expect(limiter.take('k1', T0)).toBe(true);
  });

  it('stays correct for many more keys than its bound', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 0.001, maxKeys: 100 });
    for (let i = 0; i < 10_000; i += 1) expect(limiter.take(`key-${i}`, T0)).toBe(true);
    // The most recent keys are still limited; the earliest were forgotten.
    expect(limiter.take('key-9999', T0)).toBe(false);
    expect(limiter.take('key-9950', T0)).toBe(false);
    expect(limiter.take('key-0', T0)).toBe(true);
  });

  it('uses the real clock by default', () => {
    const limiter = new RateLimiter({ capacity: 1, perSecond: 0.001 });
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
  });
});
