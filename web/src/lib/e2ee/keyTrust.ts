// What this browser knows about each key holder's signature key (per leaf, not per user id), shown in
// the participants panel and the security code dialog:
//
// - changed: this user id signed with another key before, and this leaf has the new one (the
//   key-change warning is up);
// - verified: this exact key was in the group when you marked the security code as compared;
// - unverified: a key of this user id was verified, but not this one (a new device, or an operator's
//   ghost under their name): the mark never carries over to another key;
// - new: first seen by this browser in this meeting (trust on first use: it is now remembered);
// - known: the same key this browser remembered from an earlier meeting.
//
// A changed key outranks everything: a verification of the old key says nothing about the new one.
import type { TrustStore } from '@conclave/key-service/client';

export type KeyTrust = 'verified' | 'unverified' | 'known' | 'new' | 'changed';

export interface TrustSeen {
  /** Fingerprints that replaced a user's remembered key (key-change warnings). */
  changed: readonly string[];
  /** User ids this browser met for the first time in this meeting. */
  firstSeen: readonly string[];
  /** Keys vouched for by a compared security code. */
  verified: readonly { userId: string; fingerprint: string }[];
}

export function keyTrust(member: { userId: string; fingerprint: string }, seen: TrustSeen): KeyTrust {
  if (seen.changed.includes(member.fingerprint)) return 'changed';
  if (seen.verified.some((v) => v.fingerprint === member.fingerprint)) return 'verified';
  if (seen.verified.some((v) => v.userId === member.userId)) return 'unverified';
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
