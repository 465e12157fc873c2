// The participants panel's rows, one per key holder: everyone the server lists, each paired with a
// leaf of the MLS tree under their user id (who holds the meeting keys, with which signature key),
// then every leaf left unpaired — someone the server does not list, or a second leaf under a listed
// name. Two leaves for one user id are marked on every row of that id: the set of names can match the
// server's list while someone else holds keys under one of them.
// Raised hands come first, in the order they went up; everyone else keeps the server's order.
import type { MemberInfo } from '@conclave/key-service/client';
import type { CryptoState } from '@conclave/crypto-worker/client';
import { keyTrust, type KeyTrust } from '../e2ee/keyTrust.ts';

/** What the encryption is doing for one person, as the panel says it. */
export type RowEncryption =
  | 'encrypting' // you, with the meeting keys: everything you send is encrypted
  | 'decrypting' // holds the keys, and their media decrypts here
  | 'holds-keys' // holds the keys; nothing of theirs is flowing to decrypt (muted, camera off)
  | 'waiting' // their key (or ours) has not arrived yet
  | 'failing' // their frames fail to decrypt and are dropped
  | 'media-failed' // their (or our) media connection failed: nothing arrives to decrypt
  | 'not-in-group' // listed by the server, but not in the MLS group for a while now
  | 'unlisted' // in the MLS group, but not listed by the server for a while now
  | 'extra-leaf'; // a further leaf under a name the server lists once

export interface ParticipantRow {
  /** Unique in the list: the peer id, or the leaf index for someone the server does not list. */
  key: string;
  name: string;
  isLocal: boolean;
  encryption: RowEncryption;
  /** Their signature key's standing; null for yourself and for anyone not in the group. */
  trust: KeyTrust | null;
  fingerprint: string | null;
  /** Their user id holds more than one leaf (rosterCheck.ts). */
  duplicate: boolean;
  /** null when the server does not list them (nothing is known of their media). */
  micOn: boolean | null;
  cameraOn: boolean | null;
  speaking: boolean;
  handRaised: boolean;
  /** Their peer id on the SFU (for "Mute Bob"); null for a key holder the server does not list. */
  peerId: string | null;
  /** Their leaf in the MLS group (for "Remove Bob", "Make Bob a host"); null while not in it. */
  leafIndex: number | null;
  /** They act as a host, by the group's own roles. */
  host: boolean;
}

export interface RowSources {
  participants: ReadonlyArray<{
    peerId: string;
    userId: string;
    label: string;
    isLocal: boolean;
    micOn: boolean;
    cameraOn: boolean;
    isSpeaking: boolean;
    encryption: CryptoState | undefined;
    /** Their media connection failed (they reported it, or ours did): not a key problem. */
    mediaFailed?: boolean;
  }>;
  /** The MLS roster of the current epoch (empty while we hold no keys). */
  members: readonly MemberInfo[];
  ownLeafIndex: number;
  /** Leaf indexes acting as hosts (from the group's roles). */
  hosts?: readonly number[];
  keysReady: boolean;
  /** Differences between the two lists that have lasted (rosterCheck.ts). */
  notInGroup: readonly string[];
  /** Leaf indexes of key holders the server does not list. */
  unlisted: readonly number[];
  /** User ids holding more than one leaf. */
  duplicates: readonly string[];
  /** User ids with a hand up, in the order the hands went up (raisedHands.ts). */
  raisedHands: readonly string[];
  trust: Parameters<typeof keyTrust>[1];
  nameOf: (userId: string) => string;
}

export function participantRows(sources: RowSources): ParticipantRow[] {
  const unpaired = [...sources.members].sort((a, b) => pairingOrder(a, b, sources.ownLeafIndex));
  const take = (p: RowSources['participants'][number]) => {
    const i = unpaired.findIndex(
      (m) => m.userId === p.userId && (m.leafIndex === sources.ownLeafIndex) === p.isLocal,
    );
    return i === -1 ? undefined : unpaired.splice(i, 1)[0];
  };
  const rows: ParticipantRow[] = sources.participants.map((p) => {
    const member = take(p);
    return {
      key: p.peerId,
      name: p.label,
      isLocal: p.isLocal,
      encryption: rowEncryption(p, member !== undefined, sources),
      trust: member === undefined || p.isLocal ? null : keyTrust(member, sources.trust),
      fingerprint: member?.fingerprint ?? null,
      duplicate: sources.duplicates.includes(p.userId),
      micOn: p.micOn,
      cameraOn: p.cameraOn,
      speaking: p.isSpeaking,
      handRaised: sources.raisedHands.includes(p.userId),
      peerId: p.peerId,
      leafIndex: member?.leafIndex ?? null,
      host: member !== undefined && (sources.hosts ?? []).includes(member.leafIndex),
    };
  });
  const listed = new Set(sources.participants.map((p) => p.userId));
  for (const member of unpaired) {
    const extra = listed.has(member.userId);
    // A leaf nobody lists is shown once the difference has lasted; a second leaf under a listed name
    // at once, since that never happens in passing.
    if (!extra && !sources.unlisted.includes(member.leafIndex)) continue;
    rows.push({
      key: `leaf:${member.leafIndex}`,
      name: sources.nameOf(member.userId),
      isLocal: false,
      encryption: extra ? 'extra-leaf' : 'unlisted',
      trust: member.leafIndex === sources.ownLeafIndex ? null : keyTrust(member, sources.trust),
      fingerprint: member.fingerprint,
      duplicate: sources.duplicates.includes(member.userId),
      micOn: null,
      cameraOn: null,
      speaking: false,
      handRaised: !extra && sources.raisedHands.includes(member.userId),
      peerId: null,
      leafIndex: member.leafIndex,
      host: (sources.hosts ?? []).includes(member.leafIndex),
    });
  }
  return handsFirst(rows, sources);
}

/** Our own leaf first, then by leaf index: the oldest leaf of a name pairs with its listed person. */
function pairingOrder(a: MemberInfo, b: MemberInfo, own: number): number {
  if (a.leafIndex === own) return -1;
  if (b.leafIndex === own) return 1;
  return a.leafIndex - b.leafIndex;
}

/** Rows with a hand up first, in the order the hands went up; the rest in their order. */
function handsFirst(rows: ParticipantRow[], sources: RowSources): ParticipantRow[] {
  const userIdOf = new Map<string, string>();
  for (const p of sources.participants) userIdOf.set(p.peerId, p.userId);
  for (const m of sources.members) userIdOf.set(`leaf:${m.leafIndex}`, m.userId);
  const place = (row: ParticipantRow) => {
    const index = sources.raisedHands.indexOf(userIdOf.get(row.key) ?? '');
    return index === -1 ? sources.raisedHands.length : index;
  };
  // Array.prototype.sort is stable: rows without a hand keep their order.
  return [...rows].sort((a, b) => place(a) - place(b));
}

function rowEncryption(
  p: RowSources['participants'][number],
  inGroup: boolean,
  sources: RowSources,
): RowEncryption {
  if (p.mediaFailed === true && p.encryption !== 'ok') return 'media-failed';
  if (p.isLocal) return sources.keysReady ? 'encrypting' : 'waiting';
  if (!inGroup) return sources.notInGroup.includes(p.userId) ? 'not-in-group' : 'waiting';
  if (p.encryption === 'ok') return 'decrypting';
  if (p.encryption === 'failing') return 'failing';
  if (p.encryption === 'missing-key') return 'waiting';
  return 'holds-keys';
}
