// A host's acts on one person, shared by the tile menu and the participants panel row: which acts
// are offered to whom, and which leaf a tile stands for.
import { describe, expect, it, vi } from 'vitest';
import {
  participantTarget,
  personActionItems,
  removeQuestion,
  type PersonTarget,
} from '../../../web/src/lib/meeting/personActions.ts';

const bob: PersonTarget = {
  name: 'Bob',
  peerId: 'p-bob',
  leafIndex: 2,
  host: false,
  micOn: true,
  isLocal: false,
};

function handlers() {
  return { mute: vi.fn(), makeHost: vi.fn(), remove: vi.fn() };
}

describe('personActionItems', () => {
  it('offers Mute, Make … a host and Remove, each acting on that person', () => {
    const on = handlers();
    const items = personActionItems(bob, on);
    expect(items.map((i) => i.label)).toEqual(['Mute Bob', 'Make Bob a host', 'Remove Bob']);
    expect(items.map((i) => i.danger === true)).toEqual([false, false, true]);
    for (const item of items) item.action();
    expect(on.mute).toHaveBeenCalledWith('p-bob');
    expect(on.makeHost).toHaveBeenCalledWith(2);
    expect(on.remove).toHaveBeenCalledWith(bob);
  });

  it('leaves out Mute for a muted microphone or a key holder the server does not list', () => {
    expect(personActionItems({ ...bob, micOn: false }, handlers()).map((i) => i.label)).toEqual([
      'Make Bob a host',
      'Remove Bob',
    ]);
    expect(personActionItems({ ...bob, peerId: null, micOn: null }, handlers()).map((i) => i.label)).toEqual([
      'Make Bob a host',
      'Remove Bob',
    ]);
  });

  it('does not offer to make a host of a host', () => {
    expect(personActionItems({ ...bob, host: true }, handlers()).map((i) => i.label)).toEqual([
      'Mute Bob',
      'Remove Bob',
    ]);
  });

  it('offers nothing on oneself, or on someone not in the group (nothing to remove yet)', () => {
    expect(personActionItems({ ...bob, isLocal: true }, handlers())).toEqual([]);
    expect(personActionItems({ ...bob, leafIndex: null }, handlers())).toEqual([]);
  });
});

describe('participantTarget', () => {
  const group = {
    members: [
      { leafIndex: 0, userId: 'u-alice' },
      { leafIndex: 2, userId: 'u-bob' },
      { leafIndex: 3, userId: 'u-carol' },
    ],
    ownLeafIndex: 0,
    hosts: [0, 3],
  };
  const participant = (userId: string, isLocal = false) => ({
    peerId: `p-${userId}`,
    userId,
    displayName: userId.slice(2),
    micOn: true,
    isLocal,
  });

  it("finds a remote participant's leaf and role", () => {
    expect(participantTarget(participant('u-bob'), group)).toEqual({
      ...bob,
      name: 'bob',
      peerId: 'p-u-bob',
    });
    expect(participantTarget(participant('u-carol'), group)).toMatchObject({ leafIndex: 3, host: true });
  });

  it('gives no leaf to someone not in the group, nor to oneself', () => {
    expect(participantTarget(participant('u-dave'), group)).toMatchObject({ leafIndex: null, host: false });
    expect(participantTarget(participant('u-alice', true), group)).toMatchObject({ leafIndex: null });
  });

  it("never takes the viewer's own leaf for another tab of the same user", () => {
    expect(participantTarget(participant('u-alice'), group)).toMatchObject({ leafIndex: null });
  });
});

describe('removeQuestion', () => {
  it('asks by name and confirms with "Remove"', () => {
    expect(removeQuestion('Bob')).toEqual({
      title: 'Remove Bob?',
      message: 'Bob leaves the meeting and gets none of its keys from now on.',
      confirmLabel: 'Remove',
    });
  });
});
