// KIDs per epoch: every member must compute the same KIDs from the same roster, ours and theirs
// must never collide, and the layout must be RFC 9605 §5.2's.
import { describe, expect, it } from 'vitest';
import { parseMlsKid } from '../../../crypto-worker/src/sframe/mlsKid.ts';
import { indexBitsOf, receiverKids, senderKids } from '../../../web/src/lib/e2ee/epochKids.ts';

const members = (...ids: string[]) => ids.map((userId, leafIndex) => ({ leafIndex, userId }));

describe('epoch KIDs', () => {
  it('uses the smallest S that holds the highest leaf index', () => {
    expect(indexBitsOf({ epoch: 1n, ownLeafIndex: 0, members: members('a') })).toBe(1);
    expect(indexBitsOf({ epoch: 1n, ownLeafIndex: 0, members: members('a', 'b') })).toBe(2);
    expect(indexBitsOf({ epoch: 1n, ownLeafIndex: 0, members: members('a', 'b', 'c', 'd') })).toBe(3);
    // A blank leaf in the middle still counts: the highest index decides.
    const gapped = [
      { leafIndex: 0, userId: 'a' },
      { leafIndex: 4, userId: 'e' },
    ];
    expect(indexBitsOf({ epoch: 1n, ownLeafIndex: 0, members: gapped })).toBe(3);
  });

  it('lays out context, leaf index and epoch low bits as RFC 9605 §5.2 says', () => {
    const roster = { epoch: 21n, ownLeafIndex: 2, members: members('a', 'b', 'c') };
    const kids = senderKids(roster);
    const bits = indexBitsOf(roster);
    expect(parseMlsKid(kids.mic, bits)).toEqual({ context: 0n, index: 2n, epochLowBits: 5n });
    expect(parseMlsKid(kids.camera, bits)).toEqual({ context: 1n, index: 2n, epochLowBits: 5n });
    expect(parseMlsKid(kids.screen, bits)).toEqual({ context: 2n, index: 2n, epochLowBits: 5n });
    // Leaf 2 in a 3-leaf tree: S = 2, E = 4, so camera = (1 << 6) + (2 << 4) + 5.
    expect(kids.camera).toBe(64n + 32n + 5n);
  });

  it('gives receivers every other member’s streams, and what one sends is what the others expect', () => {
    const ids = ['alice', 'bob', 'carol'];
    const rosters = ids.map((_, own) => ({ epoch: 7n, ownLeafIndex: own, members: members(...ids) }));
    for (const [own, roster] of rosters.entries()) {
      const expected = receiverKids(roster);
      expect(expected).toHaveLength(2 * 3);
      expect(expected.some((r) => r.userId === ids[own])).toBe(false);
      for (const [other, theirs] of rosters.entries()) {
        if (other === own) continue;
        const sent = senderKids(theirs);
        for (const context of ['mic', 'camera', 'screen'] as const) {
          expect(expected).toContainEqual({ kid: sent[context], userId: ids[other], context });
        }
      }
    }
  });

  it('never gives two streams of one epoch the same KID', () => {
    const roster = { epoch: 3n, ownLeafIndex: 0, members: members('a', 'b', 'c', 'd', 'e') };
    const all = [...Object.values(senderKids(roster)), ...receiverKids(roster).map((r) => r.kid)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('changes every KID when the epoch changes', () => {
    const before = senderKids({ epoch: 8n, ownLeafIndex: 1, members: members('a', 'b') });
    const after = senderKids({ epoch: 9n, ownLeafIndex: 1, members: members('a', 'b') });
    for (const context of ['mic', 'camera', 'screen'] as const)
      expect(after[context]).not.toBe(before[context]);
  });
});
