// Last-N (issue #17): the order of the tiles, stable, with the most recent speakers promoted onto
// the first page. Pure apart from SpeakingHistory's clock, which the caller passes in.
//
// What must hold: the order is join order (you first) until someone off the first page speaks;
// then they take the first-page place of whoever there spoke least recently, and the two swap.
// Nobody else moves: a person on the first page never changes place while they stay on it. You are
// never moved off it (your own tile is always on the first page), nor is anyone speaking now.

interface Placed {
  peerId: string;
  isLocal: boolean;
}

/**
 * When each person last spoke, as the browser judged it (their decrypted audio, the SFU's
 * dominant-speaker pick). Speaking now ranks above any time; never spoken ranks below all.
 */
export class SpeakingHistory {
  // Bookkeeping read through recency(), never rendered from.
  readonly #lastSpoke = new Map<string, number>();
  #speaking = new Set<string>();

  /** Who speaks at `now` (ms). Someone who just stopped is remembered as speaking until now. */
  update(speaking: ReadonlySet<string>, now: number): void {
    for (const peerId of this.#speaking) this.#lastSpoke.set(peerId, now);
    for (const peerId of speaking) this.#lastSpoke.set(peerId, now);
    this.#speaking = new Set(speaking);
  }

  /** Larger is more recent: Infinity while speaking, -Infinity for someone never heard. */
  recency(peerId: string): number {
    if (this.#speaking.has(peerId)) return Infinity;
    return this.#lastSpoke.get(peerId) ?? -Infinity;
  }
}

/** `previous` without those who left, then newcomers in the order given (join order). */
function carriedOver(previous: readonly string[], present: readonly Placed[]): string[] {
  const here = new Set(present.map((p) => p.peerId));
  const kept = previous.filter((peerId) => here.has(peerId));
  const known = new Set(kept);
  return [...kept, ...present.filter((p) => !known.has(p.peerId)).map((p) => p.peerId)];
}

/**
 * The tile order after `previous`, for the people `present` (join order, you first) and a first
 * page of `firstPage` places, with `recency` from SpeakingHistory.
 */
export function arrangeTiles(
  previous: readonly string[],
  present: readonly Placed[],
  firstPage: number,
  recency: (peerId: string) => number,
): string[] {
  const order = carriedOver(previous, present);
  const local = new Set(present.filter((p) => p.isLocal).map((p) => p.peerId));
  // Most recent first; Infinity − Infinity is NaN, so compare rather than subtract.
  const offPage = order
    .slice(firstPage)
    .filter((peerId) => recency(peerId) > -Infinity)
    .sort((a, b) => Number(recency(b) > recency(a)) - Number(recency(b) < recency(a)));
  for (const speaker of offPage) {
    const place = leastRecentPlace(order, firstPage, local, recency);
    if (place === undefined || recency(place.peerId) >= recency(speaker)) break;
    order[order.indexOf(speaker)] = place.peerId;
    order[place.index] = speaker;
  }
  return order;
}

/** The first-page place whose holder spoke least recently (the last such place among equals). */
function leastRecentPlace(
  order: readonly string[],
  firstPage: number,
  local: ReadonlySet<string>,
  recency: (peerId: string) => number,
): { index: number; peerId: string } | undefined {
  let best: { index: number; peerId: string } | undefined;
  order.slice(0, firstPage).forEach((peerId, index) => {
    if (local.has(peerId) || recency(peerId) === Infinity) return;
    if (best === undefined || recency(peerId) <= recency(best.peerId)) best = { index, peerId };
  });
  return best;
}

/** The participants in `order`; anyone not in it yet comes last, in the order given. */
export function inOrder<T extends { peerId: string }>(
  participants: readonly T[],
  order: readonly string[],
): T[] {
  const rank = new Map(order.map((peerId, i) => [peerId, i]));
  const unranked = order.length;
  return participants
    .map((p, i) => ({ p, key: rank.get(p.peerId) ?? unranked + i }))
    .sort((a, b) => a.key - b.key)
    .map(({ p }) => p);
}
