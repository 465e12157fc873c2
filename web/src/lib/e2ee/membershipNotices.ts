// What everyone is told about a change of who holds the meeting keys: "Dave joined", "Bob left",
// "Alice removed Bob", "Alice made Bob a host", "Someone joined without being admitted and was
// removed". Pure functions from the key client's accepted commits (MembershipChange) and roles.
//
// What must hold: a notice names only what the accepted commit did (never what a message claims);
// we are not told that we joined; one person gets one notice per change (a joiner admitted by a
// host is "joined", once).
import type { MembershipChange } from '@conclave/key-service/client';

/** A change of who holds the keys, as everyone is told it. */
export interface MembershipNotice {
  id: number;
  kind: 'joined' | 'left' | 'removed' | 'intruder' | 'roles';
  userId: string;
  /** Who committed it (for a leave: the member who recorded it). */
  by: string;
  at: number;
  /** For a roles change: what changed, in words ("Alice made Bob a host"). */
  text?: string;
}

/** A notice before it is numbered and timed. */
export type NoticeDraft = Omit<MembershipNotice, 'id' | 'at'>;

/** The group's roles as a member's browser knows them (never the epoch's keys themselves). */
export interface RolesView {
  hosts: readonly number[];
  lobby: boolean;
  locked: boolean;
}

/** The roles of an epoch, copied out of it (the epoch's keys are not kept with them). */
export function rolesOf(epoch: RolesView): RolesView {
  return { hosts: epoch.hosts, lobby: epoch.lobby, locked: epoch.locked };
}

/** The notices for one accepted commit; `self` is our own user id (we are not told we joined). */
export function membershipNotices(change: MembershipChange, self: string): NoticeDraft[] {
  const notices: NoticeDraft[] = change.left.map((userId) => ({ kind: 'left', userId, by: change.by }));
  for (const userId of [change.joined, ...change.admitted]) {
    if (userId !== undefined && userId !== self && !notices.some((n) => n.userId === userId)) {
      notices.push({ kind: 'joined', userId, by: change.by });
    }
  }
  for (const userId of change.removedByHost) notices.push({ kind: 'removed', userId, by: change.by });
  return notices;
}

/** What a host's roles commit by `by` changed, from the roles known `before` to the `current` ones. */
export function rolesNotices(
  before: RolesView | undefined,
  current: RolesView & { members: ReadonlyArray<{ leafIndex: number; userId: string }> },
  by: string,
): NoticeDraft[] {
  if (before === undefined) return [];
  const name = (leaf: number) => current.members.find((m) => m.leafIndex === leaf)?.userId ?? '';
  const notices: NoticeDraft[] = [];
  for (const leaf of current.hosts) {
    if (!before.hosts.includes(leaf) && name(leaf) !== by) {
      notices.push({ kind: 'roles', userId: name(leaf), by, text: 'made-host' });
    }
  }
  if (before.lobby !== current.lobby) {
    notices.push({ kind: 'roles', userId: by, by, text: current.lobby ? 'lobby-on' : 'lobby-off' });
  }
  if (before.locked !== current.locked) {
    notices.push({ kind: 'roles', userId: by, by, text: current.locked ? 'locked' : 'unlocked' });
  }
  return notices;
}
