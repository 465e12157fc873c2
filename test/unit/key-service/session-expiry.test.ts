// A socket's session lifetime (key-service/src/server/session-expiry.ts): expiry, renewal, stop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionExpiry } from '../../../key-service/src/server/session-expiry.ts';

describe('SessionExpiry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const nowSeconds = () => Date.now() / 1000;

  it('fires once when the token expires', () => {
    const expired = vi.fn();
    new SessionExpiry(nowSeconds() + 10, expired);
    vi.advanceTimersByTime(9_999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('fires at once for a token that has already expired', () => {
    const expired = vi.fn();
    new SessionExpiry(nowSeconds() - 1, expired);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('a renewal moves the expiry later; an earlier one does not shorten it', () => {
    const expired = vi.fn();
    const expiry = new SessionExpiry(nowSeconds() + 10, expired);
    vi.advanceTimersByTime(8_000);
    expiry.extend(nowSeconds() + 10);
    expiry.extend(nowSeconds() + 1);
    vi.advanceTimersByTime(9_000);
    expect(expired).not.toHaveBeenCalled();
    expect(expiry.expiresAtMs).toBe(Date.now() + 1_000);
    vi.advanceTimersByTime(1_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('never fires once stopped, and ignores renewals then', () => {
    const expired = vi.fn();
    const expiry = new SessionExpiry(nowSeconds() + 10, expired);
    expiry.stop();
    expiry.extend(nowSeconds() + 20);
    vi.advanceTimersByTime(60_000);
    expect(expired).not.toHaveBeenCalled();
  });
});
