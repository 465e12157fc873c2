// Receiver anti-replay per KID, RFC 9605 §9.3: the counter-based window of RFC 3711 §3.3.2 with
// the SFrame CTR as the counter. A CTR is accepted once; CTRs older than the window are refused.
import { SFrameError } from './errors.ts';

export const DEFAULT_REPLAY_WINDOW = 1024;

export class ReplayWindow {
  readonly size: bigint;
  /** size one-bits: computed once, not per accepted frame. */
  readonly #mask: bigint;
  /** Highest CTR accepted so far; -1 before the first. */
  #highest = -1n;
  /** Bit i set ⇔ CTR (highest - i) was accepted. */
  #seen = 0n;

  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 1)
      throw new SFrameError('invalid-argument', 'replay window must be ≥ 1');
    this.size = BigInt(size);
    this.#mask = (1n << this.size) - 1n;
  }

  /** Throws SFrameError('replay') if `ctr` was accepted before or is older than the window. */
  check(ctr: bigint): void {
    if (ctr > this.#highest) return;
    const age = this.#highest - ctr;
    if (age >= this.size) throw new SFrameError('replay', 'CTR is older than the anti-replay window');
    if ((this.#seen >> age) & 1n) throw new SFrameError('replay', 'CTR was already accepted');
  }

  /** Records `ctr` as accepted (after its frame authenticated). Throws like `check`. */
  accept(ctr: bigint): void {
    this.check(ctr);
    if (ctr > this.#highest) {
      const shift = ctr - this.#highest;
      this.#seen = shift >= this.size ? 1n : ((this.#seen << shift) | 1n) & this.#mask;
      this.#highest = ctr;
    } else {
      this.#seen |= 1n << (this.#highest - ctr);
    }
  }
}
