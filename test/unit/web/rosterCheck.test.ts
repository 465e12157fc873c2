// The roster comparison warns only about lasting differences between the MLS group and the
// server's participant list, and names who is where.
import { describe, expect, it } from 'vitest';
import { RosterCheck } from '../../../web/src/lib/e2ee/rosterCheck.ts';

const none = { hiddenFromServerList: [], notInGroup: [] };

describe('RosterCheck', () => {
  it('reports nothing when both lists agree (ours ignored)', () => {
    const check = new RosterCheck(1000);
    expect(check.update(0, { mls: ['me', 'a', 'b'], server: ['a', 'b'], self: 'me' })).toEqual(none);
    expect(check.update(5000, { mls: ['me', 'a', 'b'], server: ['b', 'a', 'me'], self: 'me' })).toEqual(none);
  });

  it('names a ghost member (keys but not shown) once the difference has lasted the grace period', () => {
    const check = new RosterCheck(1000);
    const lists = { mls: ['me', 'a', 'ghost'], server: ['me', 'a'], self: 'me' };
    expect(check.update(0, lists)).toEqual(none);
    expect(check.update(999, lists)).toEqual(none);
    expect(check.update(1000, lists)).toEqual({ hiddenFromServerList: ['ghost'], notInGroup: [] });
  });

  it('names a participant outside the group, and forgets a difference that goes away', () => {
    const check = new RosterCheck(1000);
    check.update(0, { mls: ['me'], server: ['me', 'late'], self: 'me' });
    expect(check.update(2000, { mls: ['me'], server: ['me', 'late'], self: 'me' })).toEqual({
      hiddenFromServerList: [],
      notInGroup: ['late'],
    });
    expect(check.update(2100, { mls: ['me', 'late'], server: ['me', 'late'], self: 'me' })).toEqual(none);
    // It comes back: the grace period starts again.
    expect(check.update(2200, { mls: ['me'], server: ['me', 'late'], self: 'me' })).toEqual(none);
  });

  it('does not warn about a join or leave that completes within the grace period', () => {
    const check = new RosterCheck(8000);
    check.update(0, { mls: ['me', 'a'], server: ['me', 'a', 'joining'], self: 'me' });
    check.update(1500, { mls: ['me', 'a', 'joining'], server: ['me', 'a', 'joining'], self: 'me' });
    check.update(3000, { mls: ['me', 'a', 'joining'], server: ['me', 'joining'], self: 'me' });
    expect(check.update(6000, { mls: ['me', 'joining'], server: ['me', 'joining'], self: 'me' })).toEqual(
      none,
    );
  });
});
