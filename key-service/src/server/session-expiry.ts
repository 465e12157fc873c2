// A socket's session lifetime: the socket is closed when its session token expires, unless the
// client renewed it on the socket first (a `renew` request with a fresh token for the same room and
// user). Signaling and the key service both use it, so neither namespace outlives the other's
// credentials: a revoked invite stops renewals, and within one session lifetime every socket goes.

/** setTimeout's longest delay; a later expiry is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SessionExpiry {
  readonly #onExpired: () => void;
  #expiresAtMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** `expSeconds`: the token's `exp` claim (seconds since the epoch). */
  constructor(expSeconds: number, onExpired: () => void) {
    this.#onExpired = onExpired;
    this.#expiresAtMs = expSeconds * 1000;
    this.#arm();
  }

  get expiresAtMs(): number {
    return this.#expiresAtMs;
  }

  /** A renewed token's expiry; an earlier one than the current never shortens the session. */
  extend(expSeconds: number): void {
    if (this.#stopped) return;
    this.#expiresAtMs = Math.max(this.#expiresAtMs, expSeconds * 1000);
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const left = this.#expiresAtMs - Date.now();
    if (left <= 0) {
      this.stop();
      this.#onExpired();
      return;
    }
    this.#timer = setTimeout(() => this.#arm(), Math.min(left, MAX_TIMER_MS));
    this.#timer.unref?.();
  }
}
