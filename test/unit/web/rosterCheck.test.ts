// The roster comparison, leaf by leaf: duplicates of one user id, leaves the server does not list
// (also when it flickers them into the list), listed people without a leaf; joins and leaves that
// complete within the grace period raise nothing.
import { describe, expect, it } from 'vitest';
import { NO_FINDINGS, RosterCheck, type RosterLeaf } from '../../../web/src/lib/e2ee/rosterCheck.ts';

const leaf = (leafIndex: number, userId: string, fingerprint = `fp-${leafIndex}`): RosterLeaf => ({
  leafIndex,
  userId,
  fingerprint,
});
const ME = leaf(0, 'me');
const A = leaf(1, 'a');
const B = leaf(2, 'b');

function feed(check: RosterCheck, now: number, leaves: RosterLeaf[], listed: string[]) {
  return check.update(now, { leaves, listed, ownLeafIndex: 0, self: 'me' });
}

describe('RosterCheck', () => {
  it('reports nothing when the leaves and the list agree', () => {
    const check = new RosterCheck(1000);
    expect(feed(check, 0, [ME, A, B], ['me', 'a', 'b'])).toEqual(NO_FINDINGS);
    expect(feed(check, 5000, [ME, A, B], ['b', 'a', 'me'])).toEqual(NO_FINDINGS);
  });

  it('flags two leaves for one user id, though the set of user ids matches the list', () => {
    const check = new RosterCheck(8000, 2000);
    const ghost = leaf(3, 'b', 'fp-ghost');
    expect(feed(check, 0, [ME, A, B, ghost], ['me', 'a', 'b'])).toEqual(NO_FINDINGS);
    expect(feed(check, 2000, [ME, A, B, ghost], ['me', 'a', 'b'])).toEqual({
      duplicates: [{ userId: 'b', leaves: [B, ghost] }],
      unlisted: [],
      notInGroup: [],
    });
    // Our own user id twice (another device of ours) is flagged too.
    const mine = leaf(4, 'me', 'fp-other-device');
    feed(check, 3000, [ME, A, mine], ['me', 'a']);
    expect(feed(check, 5000, [ME, A, mine], ['me', 'a']).duplicates).toEqual([
      { userId: 'me', leaves: [ME, mine] },
    ]);
  });

  it('names a leaf the server does not list once it has lasted the grace period', () => {
    const check = new RosterCheck(1000);
    const ghost = leaf(3, 'ghost');
    for (let t = 0; t < 1000; t += 250)
      expect(feed(check, t, [ME, A, ghost], ['me', 'a'])).toEqual(NO_FINDINGS);
    expect(feed(check, 1000, [ME, A, ghost], ['me', 'a']).unlisted).toEqual([ghost]);
  });

  it('keeps flagging a ghost the server lists for 1 s out of every 7', () => {
    const check = new RosterCheck(8000);
    const ghost = leaf(3, 'ghost');
    let firstFlag: number | undefined;
    let clearedAfterFlag = false;
    for (let t = 0; t <= 70_000; t += 500) {
      const listed = t % 7000 < 1000 ? ['me', 'a', 'ghost'] : ['me', 'a'];
      const flagged = feed(check, t, [ME, A, ghost], listed).unlisted.length > 0;
      if (flagged && firstFlag === undefined) firstFlag = t;
      if (!flagged && firstFlag !== undefined) clearedAfterFlag = true;
    }
    // Listed 0–1 s, unlisted 1–7 s, listed 7–8 s, unlisted again: 8 s of unlisted time by 10 s.
    expect(firstFlag).toBe(10_000);
    expect(clearedAfterFlag).toBe(false);
  });

  it('clears a warning only after the leaf has been listed without a break for the grace period', () => {
    const check = new RosterCheck(1000);
    const ghost = leaf(3, 'ghost');
    feed(check, 0, [ME, ghost], ['me']);
    expect(feed(check, 1000, [ME, ghost], ['me']).unlisted).toEqual([ghost]);
    expect(feed(check, 1500, [ME, ghost], ['me', 'ghost']).unlisted).toEqual([ghost]);
    expect(feed(check, 2499, [ME, ghost], ['me', 'ghost']).unlisted).toEqual([ghost]);
    expect(feed(check, 2500, [ME, ghost], ['me', 'ghost']).unlisted).toEqual([]);
  });

  it('names a listed participant without a leaf, and forgets a difference that goes away', () => {
    const check = new RosterCheck(1000);
    feed(check, 0, [ME], ['me', 'late']);
    expect(feed(check, 2000, [ME], ['me', 'late']).notInGroup).toEqual(['late']);
    expect(feed(check, 2100, [ME, leaf(1, 'late')], ['me', 'late'])).toEqual(NO_FINDINGS);
    // It comes back: the grace period starts again.
    expect(feed(check, 2200, [ME], ['me', 'late'])).toEqual(NO_FINDINGS);
  });

  it('raises nothing for a join or a leave that completes within the grace period', () => {
    const check = new RosterCheck(8000);
    const joiner = leaf(3, 'joining');
    feed(check, 0, [ME, A], ['me', 'a', 'joining']);
    feed(check, 1500, [ME, A, joiner], ['me', 'a', 'joining']);
    // a leaves: unlisted at once, removed from the tree 6 s later.
    for (let t = 3000; t < 9000; t += 1000)
      expect(feed(check, t, [ME, A, joiner], ['me', 'joining'])).toEqual(NO_FINDINGS);
    expect(feed(check, 9000, [ME, joiner], ['me', 'joining'])).toEqual(NO_FINDINGS);
  });

  it('does not hold short absences against a member who is listed most of the time', () => {
    const check = new RosterCheck(8000);
    // Unlisted for 3 s every 12 s (reconnections), listed 9 s in between: forgiven each time.
    for (let t = 0; t <= 120_000; t += 500) {
      const listed = t % 12_000 < 3000 ? ['me'] : ['me', 'a'];
      expect(feed(check, t, [ME, A], listed).unlisted).toEqual([]);
    }
  });
});
