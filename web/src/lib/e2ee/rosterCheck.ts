// Compares who holds the meeting's keys (the MLS roster) with who the server says is in the room.
// A malicious server could add a ghost member to the MLS group while hiding them from the
// participant list, or show someone who holds no keys. Joins and leaves make the two lists differ
// for a moment (a newcomer is on the server before their external commit lands; a leaver stays in
// the tree until someone commits their removal), so a difference counts only once it has lasted
// `graceMs`.

export interface RosterMismatch {
  /** In the MLS group (can decrypt) but not in the server's participant list. */
  hiddenFromServerList: string[];
  /** In the server's participant list but not in the MLS group (cannot decrypt, cannot be heard). */
  notInGroup: string[];
}

/** Long enough for a join's external commit or a leaver's removal (handover after 3 s) to land. */
export const ROSTER_GRACE_MS = 8_000;

export class RosterCheck {
  readonly #graceMs: number;
  /** When each difference was first seen, by kind and user id. */
  readonly #since = new Map<string, number>();

  constructor(graceMs = ROSTER_GRACE_MS) {
    this.#graceMs = graceMs;
  }

  /**
   * Feeds the two current lists (user ids, ours excluded or not: ours is ignored) and returns the
   * differences that have lasted at least the grace period.
   */
  update(
    now: number,
    lists: { mls: Iterable<string>; server: Iterable<string>; self: string },
  ): RosterMismatch {
    const mls = new Set(lists.mls);
    const server = new Set(lists.server);
    mls.delete(lists.self);
    server.delete(lists.self);
    const current = new Set<string>();
    for (const id of mls) if (!server.has(id)) current.add(`hidden:${id}`);
    for (const id of server) if (!mls.has(id)) current.add(`outside:${id}`);
    for (const key of [...this.#since.keys()]) if (!current.has(key)) this.#since.delete(key);
    for (const key of current) if (!this.#since.has(key)) this.#since.set(key, now);

    const lasting = [...this.#since].filter(([, since]) => now - since >= this.#graceMs).map(([k]) => k);
    return {
      hiddenFromServerList: idsOf(lasting, 'hidden:'),
      notInGroup: idsOf(lasting, 'outside:'),
    };
  }
}

function idsOf(keys: string[], prefix: string): string[] {
  return keys
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort();
}
