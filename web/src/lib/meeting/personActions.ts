// What a host can do to one other person: the same three acts, with the same names, in the
// participants panel's row and in the person's tile menu. Mute is the server's act (it pauses their
// microphone producer); making a host and removing are the host's commits, which every member's
// browser checks against the group's roles.
import type { MenuItem } from '../ui/menu.ts';

export interface PersonTarget {
  name: string;
  /** Their meeting connection; null for a key holder the server does not list. */
  peerId: string | null;
  /** Their leaf in the MLS group; null while they are not in it (nothing to act on yet). */
  leafIndex: number | null;
  host: boolean;
  micOn: boolean | null;
  isLocal: boolean;
}

export interface PersonActionHandlers {
  mute(peerId: string): void;
  makeHost(leafIndex: number): void;
  /** Asks first (removeQuestion), then removes. */
  remove(target: PersonTarget): void;
}

/** The acts a host may take on `target`: none on themselves or on someone outside the group. */
export function personActionItems(target: PersonTarget, handlers: PersonActionHandlers): MenuItem[] {
  const { name, peerId, leafIndex } = target;
  if (target.isLocal || leafIndex === null) return [];
  const items: MenuItem[] = [];
  if (peerId !== null && target.micOn === true) {
    items.push({ kind: 'item', label: `Mute ${name}`, action: () => handlers.mute(peerId) });
  }
  if (!target.host) {
    items.push({ kind: 'item', label: `Make ${name} a host`, action: () => handlers.makeHost(leafIndex) });
  }
  items.push({ kind: 'item', label: `Remove ${name}`, danger: true, action: () => handlers.remove(target) });
  return items;
}

/** The confirmation a removal asks for (its button is "Remove"). */
export function removeQuestion(name: string): { title: string; message: string; confirmLabel: string } {
  return {
    title: `Remove ${name}?`,
    message: `${name} leaves the meeting and gets none of its keys from now on.`,
    confirmLabel: 'Remove',
  };
}

/** The group as a member's browser sees it: enough to find someone's leaf and role. */
export interface GroupView {
  members: ReadonlyArray<{ leafIndex: number; userId: string }>;
  ownLeafIndex: number;
  hosts: readonly number[];
}

/** The target a tile stands for: a remote participant and the leaf their user id holds. */
export function participantTarget(
  participant: { peerId: string; userId: string; displayName: string; micOn: boolean; isLocal: boolean },
  group: GroupView,
): PersonTarget {
  const member = participant.isLocal
    ? undefined
    : group.members.find((m) => m.userId === participant.userId && m.leafIndex !== group.ownLeafIndex);
  return {
    name: participant.displayName,
    peerId: participant.peerId,
    leafIndex: member?.leafIndex ?? null,
    host: member !== undefined && group.hosts.includes(member.leafIndex),
    micOn: participant.micOn,
    isLocal: participant.isLocal,
  };
}
