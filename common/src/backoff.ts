// The one back-off policy: exponential from `firstMs`, capped at `maxMs`, each delay spread by
// ±`jitter`. The spread matters: clients cut off together (a server restart, a dead media worker)
// would otherwise all retry in the same instant and knock the restarted server over again.

export interface BackoffPolicy {
  readonly firstMs: number;
  readonly maxMs: number;
  /** Fraction of the delay each way, 0 to 1. */
  readonly jitter: number;
}

/** Rejoining a meeting and rejoining its key group: 1, 2, 4, 8, 8… s, ±10 %. */
export const RETRY_BACKOFF: BackoffPolicy = { firstMs: 1_000, maxMs: 8_000, jitter: 0.1 };

/**
 * The delay before attempt `attempt` (1 for the first), in ms.
 * @param attempt the attempt number; anything below 1 counts as the first
 * @param random a source of [0, 1), replaceable in tests
 * @example backoffDelayMs(3, RETRY_BACKOFF, () => 0.5) // 4000
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy = RETRY_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(Math.floor(attempt) - 1, 30));
  const base = Math.min(policy.firstMs * 2 ** exponent, policy.maxMs);
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}
