// What everyone is told about a change of who holds the keys (web/src/lib/e2ee/membershipNotices.ts).
import { describe, expect, it } from 'vitest';
import type { MembershipChange } from '../../../key-service/src/client/index.ts';
import { membershipNotices, rolesNotices, rolesOf } from '../../../web/src/lib/e2ee/membershipNotices.ts';

function change(fields: Partial<MembershipChange>): MembershipChange {
  return {
    epoch: 5n,
    kind: 'update',
    by: 'alice',
    joined: undefined,
    left: [],
    admitted: [],
    removedByHost: [],
    intrudersRemoved: [],
    rolesChanged: false,
    ...fields,
  };
}

const members = [
  { leafIndex: 0, userId: 'alice' },
  { leafIndex: 1, userId: 'bob' },
  { leafIndex: 2, userId: 'carol' },
];

describe('membershipNotices', () => {
  it('says who left, who joined and whom a host removed, by whom', () => {
    expect(
      membershipNotices(change({ left: ['dave'], admitted: ['carol'], removedByHost: ['bob'] }), 'alice'),
    ).toEqual([
      { kind: 'left', userId: 'dave', by: 'alice' },
      { kind: 'joined', userId: 'carol', by: 'alice' },
      { kind: 'removed', userId: 'bob', by: 'alice' },
    ]);
  });

  it('does not tell us that we joined, and names a joiner once', () => {
    expect(membershipNotices(change({ by: 'bob', joined: 'bob', admitted: ['bob'] }), 'carol')).toEqual([
      { kind: 'joined', userId: 'bob', by: 'bob' },
    ]);
    expect(membershipNotices(change({ by: 'carol', joined: 'carol' }), 'carol')).toEqual([]);
  });
});

describe('rolesNotices', () => {
  const before = { hosts: [0], lobby: true, locked: false };

  it('names a new host, and the lobby and lock turned on or off', () => {
    const current = { hosts: [0, 1], lobby: false, locked: true, members };
    expect(rolesNotices(before, current, 'alice')).toEqual([
      { kind: 'roles', userId: 'bob', by: 'alice', text: 'made-host' },
      { kind: 'roles', userId: 'alice', by: 'alice', text: 'lobby-off' },
      { kind: 'roles', userId: 'alice', by: 'alice', text: 'locked' },
    ]);
  });

  it('says nothing without roles to compare with, nor when nothing changed', () => {
    expect(rolesNotices(undefined, { ...before, hosts: [0, 1], members }, 'alice')).toEqual([]);
    expect(rolesNotices(before, { ...before, members }, 'alice')).toEqual([]);
  });

  it('keeps only the roles of an epoch, not the rest of it (its keys)', () => {
    const epoch = { ...before, members, baseKey: new Uint8Array(16) };
    expect(rolesOf(epoch)).toEqual(before);
  });
});
