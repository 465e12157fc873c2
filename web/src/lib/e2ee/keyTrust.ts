// What this browser knows about each member's signature key, shown in the participants panel:
//
// - new: first seen by this browser in this meeting (trust on first use: it is now remembered);
// - known: the same key this browser remembered from an earlier meeting;
// - changed: this user id signed with another key before (the key-change warning is up);
// - verified: the key was in the group when you marked the meeting's security code as compared.
//   A compared code vouches for every key in that epoch's group; the mark lasts for this meeting.
//
// A changed key outranks everything: a verification of the old key says nothing about the new one.
import type { TrustStore } from '@conclave/key-service/client';

export type KeyTrust = 'verified' | 'known' | 'new' | 'changed';

export function keyTrust(
  member: { userId: string; fingerprint: string },
  seen: { changed: readonly string[]; firstSeen: readonly string[]; verified: readonly string[] },
): KeyTrust {
  if (seen.changed.includes(member.userId)) return 'changed';
  if (seen.verified.includes(member.fingerprint)) return 'verified';
  if (seen.firstSeen.includes(member.userId)) return 'new';
  return 'known';
}

/**
 * A trust store that notes which user ids it had no key for when asked: the key client asks before
 * remembering a first-seen key, so these are the members this browser met for the first time.
 */
export class FirstSightTrustStore implements TrustStore {
  readonly #inner: TrustStore;
  readonly #firstSeen = new Set<string>();

  constructor(inner: TrustStore) {
    this.#inner = inner;
  }

  get firstSeen(): ReadonlySet<string> {
    return this.#firstSeen;
  }

  async get(userId: string): Promise<Uint8Array | undefined> {
    const key = await this.#inner.get(userId);
    if (key === undefined) this.#firstSeen.add(userId);
    return key;
  }

  set(userId: string, signatureKey: Uint8Array): Promise<void> {
    return this.#inner.set(userId, signatureKey);
  }
}
