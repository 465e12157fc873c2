// The header's clock (web/src/lib/meeting/elapsed.ts): mm:ss, then h:mm:ss from an hour on.
import { describe, expect, it } from 'vitest';
import { formatElapsed, spokenElapsed } from '../../../web/src/lib/meeting/elapsed.ts';

describe('formatElapsed', () => {
  it.each([
    [0, '00:00'],
    [999, '00:00'],
    [7_000, '00:07'],
    [59_999, '00:59'],
    [60_000, '01:00'],
    [42 * 60_000 + 10_000, '42:10'],
    [3_599_000, '59:59'],
    [3_600_000, '1:00:00'],
    [3_723_000, '1:02:03'],
    [11 * 3_600_000 + 5_000, '11:00:05'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it('never shows a negative time (a clock that stepped back)', () => {
    expect(formatElapsed(-5_000)).toBe('00:00');
  });
});

describe('spokenElapsed', () => {
  it('says the span in words, to the minute', () => {
    expect(spokenElapsed(30_000)).toBe('less than a minute');
    expect(spokenElapsed(60_000)).toBe('1 minute');
    expect(spokenElapsed(125_000)).toBe('2 minutes');
    expect(spokenElapsed(3_660_000)).toBe('1 hour 1 minute');
  });
});
