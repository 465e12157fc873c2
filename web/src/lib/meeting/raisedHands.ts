// Who has a hand raised: user ids in the order the hands went up (the participants panel lists them
// first, in that order). Keyed by the MLS-authenticated user id of the sender's leaf, never by
// anything a message says about itself.

/** `hands` after `userId` raised or lowered a hand; raising again keeps the original place. */
export function withHand(hands: readonly string[], userId: string, raised: boolean): string[] {
  if (!raised) return hands.filter((id) => id !== userId);
  return hands.includes(userId) ? [...hands] : [...hands, userId];
}

/** Only the hands of people still in the group (a member who left or was removed drops out). */
export function handsOfMembers(hands: readonly string[], members: readonly { userId: string }[]): string[] {
  const present = new Set(members.map((m) => m.userId));
  return hands.filter((id) => present.has(id));
}

/** The hands in `next` that were not up in `previous`, for "<name> raised their hand". */
export function newlyRaised(previous: readonly string[], next: readonly string[]): string[] {
  return next.filter((id) => !previous.includes(id));
}
