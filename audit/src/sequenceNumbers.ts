// RTP sequence numbers are 16 bits and wrap; comparing packets needs them extended past 65535.

/** How many values a 16-bit RTP sequence number takes. */
export const SEQUENCE_CYCLE = 0x1_0000;

/**
 * RFC 3550 Appendix A.1 style: each sequence number becomes the extended one nearest the highest
 * seen so far, so reordering and wrap-around both keep their order. One per stream.
 */
export class SequenceUnwrapper {
  #highest: number | undefined;

  /** The highest extended sequence number seen, if any. */
  get highest(): number | undefined {
    return this.#highest;
  }

  unwrap(sequenceNumber: number): number {
    if (this.#highest === undefined) {
      // Start one cycle up, so packets slightly older than the first stay positive.
      this.#highest = SEQUENCE_CYCLE + sequenceNumber;
      return this.#highest;
    }
    let delta = sequenceNumber - (this.#highest % SEQUENCE_CYCLE);
    if (delta > SEQUENCE_CYCLE / 2) delta -= SEQUENCE_CYCLE;
    else if (delta < -SEQUENCE_CYCLE / 2) delta += SEQUENCE_CYCLE;
    const extended = this.#highest + delta;
    if (extended > this.#highest) this.#highest = extended;
    return extended;
  }
}
