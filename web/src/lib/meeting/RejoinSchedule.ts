// When a meeting tries to join again after losing its connection: on a back-off of 1, 2, 4, 8, 8… s
// with jitter (@conclave/common/backoff), at once when the browser says the network is back, and
// never after a refusal that trying again cannot change (isFinalRefusal).
import { backoffDelayMs } from '@conclave/common/backoff';

/** While reconnecting: why, which attempt comes next, and when. */
export interface ReconnectState {
  reason: string;
  /** What went wrong with the last attempt, if one failed. */
  lastError: string | null;
  attempt: number;
  /** When the next attempt starts, in ms since the epoch; null while one is under way. */
  nextTryAt: number | null;
}

/** Errors after which trying again cannot help: the invite or room says no. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set([
  'token-expired',
  'token-invalid',
  'wrong-room',
  'room-full',
  // Turned away by the lobby or the lock, or removed by a host: final.
  'locked',
  'denied',
  'removed',
  // A revoked, replaced or used-up invite stays so: trying again would only ask again.
  'invite-revoked',
  'invite-exhausted',
]);

/** Whether an error with this code ends the meeting rather than starting another attempt. */
export function isFinalRefusal(code: string | undefined): boolean {
  return code !== undefined && FINAL_REFUSALS.has(code);
}

export class RejoinSchedule {
  readonly #rejoin: () => void;
  readonly #onOnline: () => void;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listening = false;

  /**
   * @param rejoin - starts the next attempt when its time comes.
   * @param onOnline - the browser says the network is back (a good moment to try at once).
   */
  constructor(rejoin: () => void, onOnline: () => void) {
    this.#rejoin = rejoin;
    this.#onOnline = onOnline;
  }

  /** No attempt has failed since the last success (or since the first join). */
  get firstAttempt(): boolean {
    return this.#attempt === 0;
  }

  /** Listens for the network coming back (from the first join until stop). */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    globalThis.addEventListener?.('online', this.#onOnline);
  }

  /** An attempt starts now: a pending timer has nothing left to do. */
  cancelPending(): void {
    clearTimeout(this.#timer);
  }

  /** Joined: the next loss starts again from the shortest delay. */
  succeeded(): void {
    this.#attempt = 0;
  }

  /** Schedules the next attempt; returns what the UI shows until it starts. */
  next(reason: string, lastError: string | null): ReconnectState {
    this.#attempt += 1;
    const delay = backoffDelayMs(this.#attempt);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#rejoin, delay);
    return { reason, lastError, attempt: this.#attempt, nextTryAt: Date.now() + delay };
  }

  /** The meeting is over: no more attempts, no more listening. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#listening = false;
    globalThis.removeEventListener?.('online', this.#onOnline);
  }
}
