// Compares who holds the meeting's keys (the leaves of the MLS tree) with who the server says is in
// the room, leaf by leaf. It flags, by name:
//   - duplicates: one user id holding several leaves (the server's operator can mint a session for
//     Bob's id and join with keys of its own; a user id set compares equal, a leaf count does not);
//   - unlisted: a leaf whose user the server does not list (a ghost the server hides);
//   - notInGroup: a listed user with no leaf (cannot see or hear anyone, nor be seen or heard).
//
// Joins and leaves make the lists differ for a moment (a newcomer is listed before their external
// commit lands; a leaver keeps a leaf until someone commits their removal), so "unlisted" and
// "notInGroup" count only once they last `graceMs`. A hostile server could flicker a ghost into the
// list now and then to restart such a timer; so a leaf's unlisted time adds up across flickers, and
// is forgiven only once the leaf has been listed without a break for `graceMs`. A raised warning
// clears on that same condition, never on a moment of listing.

export interface RosterLeaf {
  leafIndex: number;
  userId: string;
  fingerprint: string;
}

export interface RosterFindings {
  /** User ids holding more than one leaf, with those leaves. */
  duplicates: { userId: string; leaves: RosterLeaf[] }[];
  /** Leaves whose user the server has not (steadily) listed. */
  unlisted: RosterLeaf[];
  /** Listed user ids without a leaf, for a while now. */
  notInGroup: string[];
}

export const NO_FINDINGS: RosterFindings = { duplicates: [], unlisted: [], notInGroup: [] };

/** Long enough for a join's external commit or a leaver's removal (handover after 3 s) to land. */
export const ROSTER_GRACE_MS = 8_000;
/** Two leaves for one user id never happen in passing (a resync replaces its leaf in one commit). */
export const DUPLICATE_GRACE_MS = 2_000;

interface LeafRecord {
  /** Unlisted time added up since the leaf was last steadily listed. */
  unlistedMs: number;
  /** Since when the leaf's user has been listed without a break, or null while unlisted. */
  listedSince: number | null;
  raised: boolean;
}

export class RosterCheck {
  readonly #graceMs: number;
  readonly #duplicateGraceMs: number;
  readonly #leaves = new Map<string, LeafRecord>();
  readonly #duplicateSince = new Map<string, number>();
  readonly #outsideSince = new Map<string, number>();
  #last: number | undefined;

  constructor(graceMs = ROSTER_GRACE_MS, duplicateGraceMs = Math.min(DUPLICATE_GRACE_MS, graceMs)) {
    this.#graceMs = graceMs;
    this.#duplicateGraceMs = duplicateGraceMs;
  }

  /**
   * Feeds the current lists: the MLS leaves (ours among them, ignored) and the user ids the server
   * lists. Call it often (every second); time between calls counts as the previous state lasting.
   */
  update(
    now: number,
    lists: { leaves: readonly RosterLeaf[]; listed: Iterable<string>; ownLeafIndex: number; self: string },
  ): RosterFindings {
    const elapsed = this.#last === undefined ? 0 : Math.max(0, now - this.#last);
    this.#last = now;
    const listed = new Set(lists.listed);
    const others = lists.leaves.filter((l) => l.leafIndex !== lists.ownLeafIndex);
    return {
      duplicates: this.#duplicates(now, lists.leaves),
      unlisted: this.#unlisted(now, elapsed, others, listed),
      notInGroup: this.#notInGroup(now, lists.leaves, listed, lists.self),
    };
  }

  #duplicates(now: number, leaves: readonly RosterLeaf[]): RosterFindings['duplicates'] {
    const byUser = new Map<string, RosterLeaf[]>();
    for (const leaf of leaves) byUser.set(leaf.userId, [...(byUser.get(leaf.userId) ?? []), leaf]);
    const current = [...byUser].filter(([, held]) => held.length > 1);
    const lasting = lastingKeys(
      this.#duplicateSince,
      now,
      current.map(([id]) => id),
      this.#duplicateGraceMs,
    );
    return current
      .filter(([id]) => lasting.has(id))
      .map(([userId, held]) => ({ userId, leaves: held }))
      .sort((a, b) => a.userId.localeCompare(b.userId));
  }

  #unlisted(now: number, elapsed: number, leaves: RosterLeaf[], listed: Set<string>): RosterLeaf[] {
    const present = new Set(leaves.map(leafKey));
    for (const key of [...this.#leaves.keys()]) if (!present.has(key)) this.#leaves.delete(key);
    const flagged: RosterLeaf[] = [];
    for (const leaf of leaves) {
      const key = leafKey(leaf);
      const isListed = listed.has(leaf.userId);
      let record = this.#leaves.get(key);
      if (record === undefined) {
        // A new leaf starts with a clean slate: a joiner is listed before its leaf appears.
        record = { unlistedMs: 0, listedSince: isListed ? now : null, raised: false };
        this.#leaves.set(key, record);
      } else if (record.listedSince === null) {
        record.unlistedMs += elapsed; // it was unlisted through the time since the last look
      }
      if (!isListed) record.listedSince = null;
      else record.listedSince ??= now;
      if (record.listedSince !== null && now - record.listedSince >= this.#graceMs) {
        record.unlistedMs = 0;
        record.raised = false;
      }
      if (record.unlistedMs >= this.#graceMs) record.raised = true;
      if (record.raised) flagged.push(leaf);
    }
    return flagged.sort((a, b) => a.leafIndex - b.leafIndex);
  }

  #notInGroup(now: number, leaves: readonly RosterLeaf[], listed: Set<string>, self: string): string[] {
    const inGroup = new Set(leaves.map((l) => l.userId));
    const outside = [...listed].filter((id) => id !== self && !inGroup.has(id));
    return [...lastingKeys(this.#outsideSince, now, outside, this.#graceMs)].sort();
  }
}

/** Keeps `since` for the keys in `current` only; returns those present for at least `graceMs`. */
function lastingKeys(
  since: Map<string, number>,
  now: number,
  current: string[],
  graceMs: number,
): Set<string> {
  const keep = new Set(current);
  for (const key of [...since.keys()]) if (!keep.has(key)) since.delete(key);
  for (const key of keep) if (!since.has(key)) since.set(key, now);
  return new Set([...since].filter(([, t]) => now - t >= graceMs).map(([k]) => k));
}

function leafKey(leaf: RosterLeaf): string {
  return `${leaf.leafIndex}:${leaf.fingerprint}`;
}
