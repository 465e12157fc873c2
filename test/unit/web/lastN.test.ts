// Last-N: the tile order stays join order, and a recent speaker off the first page takes the
// first-page place of whoever there spoke least recently; nobody else moves (issue #17).
import { describe, expect, it } from 'vitest';
import { SpeakingHistory, arrangeTiles, inOrder } from '../../../web/src/lib/meeting/lastN.ts';

const me = { peerId: 'me', isLocal: true };
const people = (...ids: string[]) => [me, ...ids.map((peerId) => ({ peerId, isLocal: false }))];
const never = () => -Infinity;
/** Recency from a table: Infinity for speaking now, a time for spoke then; absent: never spoke. */
const heard = (table: Record<string, number>) => (peerId: string) => table[peerId] ?? -Infinity;

describe('arrangeTiles', () => {
  it('keeps join order, you first, while nobody off the first page speaks', () => {
    expect(arrangeTiles([], people('a', 'b', 'c', 'd'), 3, never)).toEqual(['me', 'a', 'b', 'c', 'd']);
    expect(arrangeTiles([], people('a', 'b', 'c', 'd'), 3, heard({ a: Infinity }))).toEqual([
      'me',
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('promotes a speaker from page 2 into the place of who spoke least recently; they swap', () => {
    const order = ['me', 'a', 'b', 'c', 'd', 'e'];
    const present = people('a', 'b', 'c', 'd', 'e');
    // b never spoke: e takes b's place, b goes to e's; a, c, d stay where they are.
    expect(arrangeTiles(order, present, 4, heard({ a: 10, c: 20, e: Infinity }))).toEqual([
      'me',
      'a',
      'e',
      'c',
      'd',
      'b',
    ]);
    // Everyone on page 1 spoke: the earliest of them (a, at 10) gives up the place.
    expect(arrangeTiles(order, present, 4, heard({ a: 10, b: 30, c: 20, e: Infinity }))).toEqual([
      'me',
      'e',
      'b',
      'c',
      'd',
      'a',
    ]);
  });

  it('never moves you, nor someone speaking now, off the first page', () => {
    const order = ['me', 'a', 'b', 'c'];
    const recency = heard({ a: Infinity, b: Infinity });
    expect(arrangeTiles(order, people('a', 'b', 'c'), 3, recency)).toEqual(order);
    expect(arrangeTiles(['me', 'a'], people('a'), 1, heard({ a: Infinity }))).toEqual(['me', 'a']);
  });

  it('does not promote someone who spoke before everyone on the first page', () => {
    const order = ['me', 'a', 'b', 'c'];
    expect(arrangeTiles(order, people('a', 'b', 'c'), 3, heard({ a: 20, b: 30, c: 10 }))).toEqual(order);
  });

  it('promotes several speakers, the most recent first, into the least recent places', () => {
    const order = ['me', 'a', 'b', 'c', 'd', 'e'];
    const recency = heard({ a: 5, b: 1, d: 40, e: 50 });
    expect(arrangeTiles(order, people('a', 'b', 'c', 'd', 'e'), 3, recency)).toEqual([
      'me',
      'd',
      'e',
      'c',
      'a',
      'b',
    ]);
  });

  it('closes the gap of someone who left and adds newcomers at the end', () => {
    const order = ['me', 'e', 'b', 'c', 'a'];
    expect(arrangeTiles(order, people('a', 'c', 'e', 'f'), 3, never)).toEqual(['me', 'e', 'c', 'a', 'f']);
  });

  it('changes nothing when everyone fits on the first page', () => {
    const order = ['me', 'a', 'b'];
    expect(arrangeTiles(order, people('a', 'b'), Infinity, heard({ b: Infinity }))).toEqual(order);
  });
});

describe('SpeakingHistory', () => {
  it('ranks speaking now above any time, a later stop above an earlier one, never heard lowest', () => {
    const history = new SpeakingHistory();
    history.update(new Set(['a']), 100);
    history.update(new Set(['a', 'b']), 200);
    expect(history.recency('a')).toBe(Infinity);
    history.update(new Set(['b']), 300);
    // a was heard until 300, when the update saw them stop.
    expect(history.recency('a')).toBe(300);
    history.update(new Set(), 450);
    expect(history.recency('b')).toBe(450);
    expect(history.recency('c')).toBe(-Infinity);
  });
});

describe('inOrder', () => {
  it('orders participants by the arrangement, anyone not in it last in their own order', () => {
    const participants = [{ peerId: 'me' }, { peerId: 'a' }, { peerId: 'b' }, { peerId: 'c' }];
    expect(inOrder(participants, ['b', 'me']).map((p) => p.peerId)).toEqual(['b', 'me', 'a', 'c']);
  });
});
