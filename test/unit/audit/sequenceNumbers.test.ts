// Extended RTP sequence numbers: order survives wrap-around and reordering.
import { describe, expect, it } from 'vitest';
import { SEQUENCE_CYCLE, SequenceUnwrapper } from '../../../audit/src/sequenceNumbers.ts';

describe('SequenceUnwrapper', () => {
  it('counts on across the wrap from 65535 to 0', () => {
    const seq = new SequenceUnwrapper();
    const extended = [65534, 65535, 0, 1].map((n) => seq.unwrap(n));
    expect(extended).toEqual([
      SEQUENCE_CYCLE + 65534,
      SEQUENCE_CYCLE + 65535,
      2 * SEQUENCE_CYCLE,
      2 * SEQUENCE_CYCLE + 1,
    ]);
    expect(seq.highest).toBe(2 * SEQUENCE_CYCLE + 1);
  });

  it('puts a late packet from before the wrap before it, without moving the highest', () => {
    const seq = new SequenceUnwrapper();
    seq.unwrap(65535);
    seq.unwrap(2);
    expect(seq.unwrap(65534)).toBe(SEQUENCE_CYCLE + 65534);
    expect(seq.highest).toBe(2 * SEQUENCE_CYCLE + 2);
  });

  it('keeps a packet older than the first one positive', () => {
    const seq = new SequenceUnwrapper();
    seq.unwrap(5);
    expect(seq.unwrap(3)).toBe(SEQUENCE_CYCLE + 3);
  });
});
