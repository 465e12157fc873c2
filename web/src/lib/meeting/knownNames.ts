// The names the meeting shows for user ids. Names come from the server's participant list; the MLS
// user id is what is authenticated. Everyone's name is remembered while the meeting screen lives, so
// a notice about someone who has just gone ("Alice removed Bob") still names them.
//
// What must hold: a user id nobody has named is shown as "Unknown member (<first 8 characters>)",
// never as an empty string or as another person's name.

export interface NamedParticipant {
  userId: string;
  displayName: string;
}

export class KnownNames {
  // A cache, not state: names are read while rendering and never drive it.
  readonly #names = new Map<string, string>();

  /** Remembers the names of everyone listed now. */
  remember(participants: Iterable<NamedParticipant>): void {
    for (const p of participants) this.#names.set(p.userId, p.displayName);
  }

  /** The name of `userId`: as listed now, else as last listed, else "Unknown member (…)". */
  nameOf(userId: string, listed: readonly NamedParticipant[]): string {
    const participant = listed.find((p) => p.userId === userId);
    if (participant !== undefined) this.#names.set(userId, participant.displayName);
    return this.#names.get(userId) ?? `Unknown member (${userId.slice(0, 8)})`;
  }
}
