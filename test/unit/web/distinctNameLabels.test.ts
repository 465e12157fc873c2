// Labels that tell apart people who share a name (web/src/lib/meeting/distinctNameLabels.ts).
import { describe, expect, it } from 'vitest';
import { distinctNameLabels, withDistinctNames } from '../../../web/src/lib/meeting/distinctNameLabels.ts';

const ALICE = '3f2a 9c01 77aa 0000 1111 2222 3333 4444';
const IMPOSTOR = 'b7e0 44d2 0000 0000 1111 2222 3333 4444';

describe('distinctNameLabels', () => {
  it('leaves names that nobody else has as they are', () => {
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: ALICE },
        { name: 'Bob', fingerprint: IMPOSTOR },
        { name: 'Carol', fingerprint: null },
      ]),
    ).toEqual(['Alice', 'Bob', 'Carol']);
  });

  it('adds a short fingerprint suffix to every row of a shared name, in the rows’ order', () => {
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: ALICE },
        { name: 'Bob', fingerprint: null },
        { name: 'Alice', fingerprint: IMPOSTOR },
      ]),
    ).toEqual(['Alice (3f2a)', 'Bob', 'Alice (b7e0)']);
  });

  it('lengthens the suffix until the colliding fingerprints differ', () => {
    const a = '3f2a 9c01 0000 0000 0000 0000 0000 0000';
    const b = '3f2a 9c02 0000 0000 0000 0000 0000 0000';
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: a },
        { name: 'Alice', fingerprint: b },
      ]),
    ).toEqual(['Alice (3f2a9c01)', 'Alice (3f2a9c02)']);
  });

  it('treats names that look alike as one name (case, spacing, fullwidth letters)', () => {
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: ALICE },
        { name: 'alice  ', fingerprint: IMPOSTOR },
        { name: '\uFF21lice', fingerprint: '0c0c 0000 0000 0000 0000 0000 0000 0000' },
      ]),
    ).toEqual(['Alice (3f2a)', 'alice   (b7e0)', '\uFF21lice (0c0c)']);
  });

  it('says "no key" for a colliding row that holds no key', () => {
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: ALICE },
        { name: 'Alice', fingerprint: null },
      ]),
    ).toEqual(['Alice (3f2a)', 'Alice (no key)']);
  });

  it('gives rows of one and the same key the same label (one person, two tabs)', () => {
    expect(
      distinctNameLabels([
        { name: 'Alice', fingerprint: ALICE },
        { name: 'Alice', fingerprint: ALICE },
        { name: 'Alice', fingerprint: IMPOSTOR },
      ]),
    ).toEqual(['Alice (3f2a)', 'Alice (3f2a)', 'Alice (b7e0)']);
  });

  it('returns nothing for no rows', () => {
    expect(distinctNameLabels([])).toEqual([]);
  });

  it('gives rows their distinct labels, keeping the rest of each row and the order', () => {
    const knocks = [
      { id: 'k1', name: 'Alice', fingerprint: ALICE },
      { id: 'k2', name: 'Alice', fingerprint: IMPOSTOR },
      { id: 'k3', name: 'Bob', fingerprint: null },
    ];
    expect(withDistinctNames(knocks)).toEqual([
      { id: 'k1', name: 'Alice (3f2a)', fingerprint: ALICE },
      { id: 'k2', name: 'Alice (b7e0)', fingerprint: IMPOSTOR },
      { id: 'k3', name: 'Bob', fingerprint: null },
    ]);
    expect(knocks[0]?.name).toBe('Alice');
  });
});
