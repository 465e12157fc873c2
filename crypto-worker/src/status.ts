// Per-stream crypto status, reported to the main thread at a throttled rate: at most one report per
// interval per stream, and always one soon after the state changes.
import type { SFrameErrorReason } from './sframe/errors.ts';

/** What the UI shows per participant stream. */
export type CryptoState = 'ok' | 'missing-key' | 'failing';

export interface StreamStatus {
  attachmentId: string;
  state: CryptoState;
  /** Last reason a frame was dropped, if any since the previous report. */
  reason?: SFrameErrorReason;
  framesOk: number;
  framesDropped: number;
}

export interface StatusClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: StatusClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A frame outcome: success, or the reason it was dropped. */
export type FrameOutcome = 'ok' | SFrameErrorReason;

function stateOf(outcome: FrameOutcome, previous: CryptoState): CryptoState {
  if (outcome === 'ok') return 'ok';
  if (outcome === 'missing-key') return 'missing-key';
  // A duplicate frame says nothing about the key: keep the state it had.
  if (outcome === 'replay') return previous;
  return 'failing';
}

export class StatusReporter {
  readonly #attachmentId: string;
  readonly #emit: (status: StreamStatus) => void;
  readonly #intervalMs: number;
  readonly #clock: StatusClock;
  #state: CryptoState = 'missing-key';
  #reported: CryptoState | undefined;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #reason: SFrameErrorReason | undefined;
  #framesOk = 0;
  #framesDropped = 0;

  constructor(
    attachmentId: string,
    emit: (status: StreamStatus) => void,
    intervalMs = 1000,
    clock = systemClock,
  ) {
    this.#attachmentId = attachmentId;
    this.#emit = emit;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  get state(): CryptoState {
    return this.#state;
  }

  record(outcome: FrameOutcome): void {
    if (outcome === 'ok') this.#framesOk++;
    else {
      this.#framesDropped++;
      this.#reason = outcome;
    }
    this.#state = stateOf(outcome, this.#state);
    if (this.#state !== this.#reported) this.#schedule();
  }

  /** Stops any pending report. */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#lastReportAt + this.#intervalMs - this.#clock.now();
    if (wait <= 0) return this.#flush();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    const status: StreamStatus = {
      attachmentId: this.#attachmentId,
      state: this.#state,
      framesOk: this.#framesOk,
      framesDropped: this.#framesDropped,
    };
    if (this.#reason !== undefined) status.reason = this.#reason;
    this.#reported = this.#state;
    this.#lastReportAt = this.#clock.now();
    this.#reason = undefined;
    this.#emit(status);
  }
}
