// Raised hands: ordered by raising, re-announcements keep their place, leavers drop out.
import { describe, expect, it } from 'vitest';
import { handsOfMembers, newlyRaised, withHand } from '../../../web/src/lib/meeting/raisedHands.ts';

describe('raised hands', () => {
  it('keeps hands in the order they went up, a re-announcement in its place', () => {
    let hands = withHand([], 'bob-0001', true);
    hands = withHand(hands, 'carol-0001', true);
    hands = withHand(hands, 'bob-0001', true);
    expect(hands).toEqual(['bob-0001', 'carol-0001']);
  });

  it('removes a lowered hand, and lowering one that is down changes nothing', () => {
    expect(withHand(['bob-0001', 'carol-0001'], 'bob-0001', false)).toEqual(['carol-0001']);
    expect(withHand(['carol-0001'], 'bob-0001', false)).toEqual(['carol-0001']);
  });

  it('drops the hands of people no longer in the group', () => {
    const members = [{ userId: 'alice-0001' }, { userId: 'carol-0001' }];
    expect(handsOfMembers(['bob-0001', 'carol-0001'], members)).toEqual(['carol-0001']);
  });

  it('tells which hands are new', () => {
    expect(newlyRaised(['bob-0001'], ['bob-0001', 'carol-0001'])).toEqual(['carol-0001']);
    expect(newlyRaised(['bob-0001', 'carol-0001'], ['carol-0001'])).toEqual([]);
  });
});
