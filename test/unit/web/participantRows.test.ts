// The participants panel's rows: the server's list joined with the MLS roster, each person's
// encryption state and key standing, and anyone holding the keys whom the server does not list.
import { describe, expect, it } from 'vitest';
import { keyTrust } from '../../../web/src/lib/e2ee/keyTrust.ts';
import { participantRows, type RowSources } from '../../../web/src/lib/meeting/participantRows.ts';

const member = (leafIndex: number, userId: string) => ({
  leafIndex,
  userId,
  signatureKey: new Uint8Array([leafIndex]),
  fingerprint: `fp-${userId}`,
});

const person = (peerId: string, userId: string, more: Partial<RowSources['participants'][number]> = {}) => ({
  peerId,
  userId,
  label: userId,
  isLocal: false,
  micOn: true,
  cameraOn: true,
  isSpeaking: false,
  encryption: 'ok' as const,
  ...more,
});

function sources(more: Partial<RowSources> = {}): RowSources {
  return {
    participants: [person('p0', 'me', { label: 'me (you)', isLocal: true }), person('p1', 'bob')],
    members: [member(0, 'me'), member(1, 'bob')],
    ownLeafIndex: 0,
    keysReady: true,
    notInGroup: [],
    unlisted: [],
    duplicates: [],
    raisedHands: [],
    trust: { changed: [], firstSeen: [], verified: [] },
    nameOf: (id) => `name of ${id}`,
    ...more,
  };
}

describe('participantRows', () => {
  it('lists everyone the server lists with their state, fingerprint and media', () => {
    const rows = participantRows(sources());
    expect(rows.map((r) => [r.name, r.encryption, r.trust, r.fingerprint])).toEqual([
      ['me (you)', 'encrypting', null, 'fp-me'],
      ['bob', 'decrypting', 'known', 'fp-bob'],
    ]);
    expect(rows[1]).toMatchObject({ micOn: true, cameraOn: true, speaking: false });
  });

  it('tells waiting, failing and nothing-to-decrypt apart', () => {
    const state = (encryption: 'missing-key' | 'failing' | undefined) =>
      participantRows(sources({ participants: [person('p1', 'bob', { encryption })] }))[0]!.encryption;
    expect(state('missing-key')).toBe('waiting');
    expect(state('failing')).toBe('failing');
    expect(state(undefined)).toBe('holds-keys');
  });

  it('says "waiting" for someone not yet in the group, and "not in encryption group" once it lasts', () => {
    const newcomer = { participants: [person('p2', 'carol', { encryption: 'missing-key' })] };
    expect(participantRows(sources(newcomer))[0]).toMatchObject({ encryption: 'waiting', trust: null });
    expect(participantRows(sources({ ...newcomer, notInGroup: ['carol'] }))[0]!.encryption).toBe(
      'not-in-group',
    );
  });

  it('says "media connection failed" rather than "waiting for key" when the media is what failed', () => {
    const failed = (more: Partial<RowSources['participants'][number]>) =>
      participantRows(sources({ participants: [person('p1', 'bob', { mediaFailed: true, ...more })] }))[0]!
        .encryption;
    expect(failed({ encryption: 'missing-key' })).toBe('media-failed');
    expect(failed({ encryption: undefined })).toBe('media-failed');
    // Once their frames decrypt again, the media is back.
    expect(failed({ encryption: 'ok' })).toBe('decrypting');
  });

  it('says you are waiting for the keys until they arrive', () => {
    expect(participantRows(sources({ keysReady: false, members: [] }))[0]!.encryption).toBe('waiting');
  });

  it('adds a member the server keeps hiding, by name, with their key', () => {
    const ghost = member(2, 'ghost');
    const rows = participantRows(
      sources({ members: [member(0, 'me'), member(1, 'bob'), ghost], unlisted: [2] }),
    );
    expect(rows[2]).toMatchObject({
      key: 'leaf:2',
      name: 'name of ghost',
      encryption: 'unlisted',
      fingerprint: 'fp-ghost',
      micOn: null,
    });
  });

  it('does not show an unlisted leaf before the difference has lasted (a leaver awaiting removal)', () => {
    const rows = participantRows(
      sources({ members: [member(0, 'me'), member(1, 'bob'), member(2, 'gone')] }),
    );
    expect(rows.map((r) => r.key)).toEqual(['p0', 'p1']);
  });

  it('gives every leaf of one name its own row, fingerprint and mark, and never vouches for the extra one', () => {
    const ghostBob = { ...member(3, 'bob'), fingerprint: 'fp-ghost' };
    const rows = participantRows(
      sources({
        members: [member(0, 'me'), member(1, 'bob'), ghostBob],
        duplicates: ['bob'],
        trust: { changed: ['fp-ghost'], firstSeen: [], verified: [{ userId: 'bob', fingerprint: 'fp-bob' }] },
      }),
    );
    expect(rows.map((r) => [r.key, r.name, r.encryption, r.trust, r.fingerprint, r.duplicate])).toEqual([
      ['p0', 'me (you)', 'encrypting', null, 'fp-me', false],
      ['p1', 'bob', 'decrypting', 'verified', 'fp-bob', true],
      ['leaf:3', 'name of bob', 'extra-leaf', 'changed', 'fp-ghost', true],
    ]);
    // Without the key-change warning, the extra key is still not verified: the mark was for fp-bob.
    const quiet = participantRows(
      sources({
        members: [member(0, 'me'), member(1, 'bob'), ghostBob],
        duplicates: ['bob'],
        trust: { changed: [], firstSeen: [], verified: [{ userId: 'bob', fingerprint: 'fp-bob' }] },
      }),
    );
    expect(quiet[2]?.trust).toBe('unverified');
  });

  it('pairs our own leaf with us, and another device of ours with its own listed row', () => {
    const phone = { ...member(2, 'me'), fingerprint: 'fp-phone' };
    const rows = participantRows(
      sources({
        participants: [person('p0', 'me', { isLocal: true }), person('p1', 'bob'), person('p9', 'me')],
        members: [phone, member(1, 'bob'), member(0, 'me')],
        duplicates: ['me'],
      }),
    );
    expect(rows.map((r) => [r.key, r.fingerprint, r.encryption])).toEqual([
      ['p0', 'fp-me', 'encrypting'],
      ['p1', 'fp-bob', 'decrypting'],
      ['p9', 'fp-phone', 'decrypting'],
    ]);
  });

  it('lists raised hands first, in the order they went up, the others in their order', () => {
    const rows = participantRows(
      sources({
        participants: [
          person('p0', 'me', { isLocal: true }),
          person('p1', 'bob'),
          person('p2', 'carol'),
          person('p3', 'dave'),
        ],
        members: [
          member(0, 'me'),
          member(1, 'bob'),
          member(2, 'carol'),
          member(3, 'dave'),
          member(4, 'ghost'),
        ],
        unlisted: [4],
        raisedHands: ['dave', 'ghost', 'bob'],
      }),
    );
    expect(rows.map((r) => [r.key, r.handRaised])).toEqual([
      ['p3', true],
      ['leaf:4', true],
      ['p1', true],
      ['p0', false],
      ['p2', false],
    ]);
  });
});

describe('keyTrust', () => {
  const bob = { userId: 'bob', fingerprint: 'fp-bob' };
  const none = { changed: [], firstSeen: [], verified: [] };
  const vouched = (userId: string, fingerprint: string) => [{ userId, fingerprint }];

  it('is new on first sight, known after, verified once compared', () => {
    expect(keyTrust(bob, { ...none, firstSeen: ['bob'] })).toBe('new');
    expect(keyTrust(bob, none)).toBe('known');
    expect(keyTrust(bob, { ...none, firstSeen: ['bob'], verified: vouched('bob', 'fp-bob') })).toBe(
      'verified',
    );
  });

  it('reports a changed key even if that key was verified', () => {
    expect(keyTrust(bob, { changed: ['fp-bob'], firstSeen: [], verified: vouched('bob', 'fp-bob') })).toBe(
      'changed',
    );
    // The warning is about the new key only: another leaf of the same user keeps its standing.
    expect(keyTrust(bob, { changed: ['fp-new'], firstSeen: [], verified: vouched('bob', 'fp-bob') })).toBe(
      'verified',
    );
  });

  it('verifies a key, not a user id: another key of a verified user says it is not verified', () => {
    expect(keyTrust(bob, { ...none, verified: vouched('bob', 'fp-other') })).toBe('unverified');
    expect(keyTrust(bob, { ...none, verified: vouched('carol', 'fp-other') })).toBe('known');
  });
});
