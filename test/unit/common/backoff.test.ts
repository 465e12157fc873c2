// The one back-off policy (RETRY_BACKOFF, for rejoining the meeting and its key group) doubles from
// 1 s to a cap of 8 s and never strays more than 10 % from it.
import { describe, expect, it } from 'vitest';
import { RETRY_BACKOFF, backoffDelayMs } from '@conclave/common/backoff';

const reconnectDelayMs = (attempt: number, random?: () => number) =>
  backoffDelayMs(attempt, RETRY_BACKOFF, random);

const middle = () => 0.5;

describe('backoffDelayMs with RETRY_BACKOFF', () => {
  it('doubles from 1 s and stays at 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((a) => reconnectDelayMs(a, middle))).toEqual([
      1000, 2000, 4000, 8000, 8000, 8000, 8000,
    ]);
  });

  it('spreads each delay by at most 10 % either way', () => {
    expect(reconnectDelayMs(1, () => 0)).toBe(900);
    expect(reconnectDelayMs(1, () => 0.999999)).toBe(1100);
    expect(reconnectDelayMs(4, () => 0)).toBe(7200);
    expect(reconnectDelayMs(9, () => 0.999999)).toBe(8800);
  });

  it('treats a nonsense attempt number as the first', () => {
    expect(reconnectDelayMs(0, middle)).toBe(1000);
    expect(reconnectDelayMs(-3, middle)).toBe(1000);
  });
});
