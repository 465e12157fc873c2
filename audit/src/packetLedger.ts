// One RTP stream's packets by sequence number: which were seen (to tell a byte-for-byte duplicate
// from a sequence number reused with other bytes), which capture record carried each (a reassembled
// frame names its packets by record number), and which numbers never arrived (the gaps).
//
// What must hold: sequence numbers are compared extended past their 16-bit wrap (RFC 3550 A.1), so
// a stream that wraps keeps its order; gaps are reported in 16-bit numbers, as Wireshark shows them.
import { bytesEqual } from '@conclave/common/bytes';
import { SEQUENCE_CYCLE, SequenceUnwrapper } from './sequenceNumbers.ts';
import type { SequenceGap, StreamReport } from './streamReport.ts';

/** Gaps listed per stream (all are counted in `missing`). */
export const MAX_GAPS_LISTED = 100;

/** What a packet is to the stream: new, a copy of one seen, or a reuse of a number seen. */
export type PacketAdmission =
  | { kind: 'new' }
  | { kind: 'duplicate' }
  /** The number came before with other bytes; `firstNumber` is the record of the latest packet with it. */
  | { kind: 'sequence-reuse'; firstNumber: number | undefined };

/** One stream's packets by sequence number: duplicates, reuses, capture numbers and gaps. */
export class PacketLedger {
  /** Extended sequence number → the packet's bytes, for duplicates and gaps. */
  readonly #seen = new Map<number, Uint8Array>();
  /** 16-bit sequence number → capture number of the latest packet with it (frames name packets). */
  readonly #numberBySequence = new Map<number, number>();
  readonly #sequence = new SequenceUnwrapper();

  /** Records packet `number` (its bytes and sequence number) unless it was seen before. */
  admit(number: number, bytes: Uint8Array, sequenceNumber: number): PacketAdmission {
    const extended = this.#sequence.unwrap(sequenceNumber);
    const earlier = this.#seen.get(extended);
    if (earlier !== undefined) {
      if (bytesEqual(earlier, bytes)) return { kind: 'duplicate' };
      return { kind: 'sequence-reuse', firstNumber: this.#numberBySequence.get(sequenceNumber) };
    }
    this.#seen.set(extended, bytes);
    this.#numberBySequence.set(sequenceNumber, number);
    return { kind: 'new' };
  }

  /** The capture numbers of `count` packets from `firstSequenceNumber` on (those that arrived). */
  captureNumbers(firstSequenceNumber: number, count: number): number[] {
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.#numberBySequence.get((firstSequenceNumber + i) % SEQUENCE_CYCLE);
      if (n !== undefined) numbers.push(n);
    }
    return numbers;
  }

  /** First and last sequence numbers, how many are missing between them, and the first gaps. */
  summary(): StreamReport['sequence'] {
    const sequences = [...this.#seen.keys()].sort((a, b) => a - b);
    const first = sequences[0] ?? 0;
    const last = sequences[sequences.length - 1] ?? 0;
    const gaps: SequenceGap[] = [];
    let missing = 0;
    let previous = first;
    for (const sequence of sequences) {
      const count = sequence - previous - 1;
      if (count > 0) {
        missing += count;
        if (gaps.length < MAX_GAPS_LISTED) {
          gaps.push({ from: (previous + 1) % SEQUENCE_CYCLE, to: (sequence - 1) % SEQUENCE_CYCLE, count });
        }
      }
      previous = sequence;
    }
    return { first: first % SEQUENCE_CYCLE, last: last % SEQUENCE_CYCLE, missing, gaps };
  }
}
