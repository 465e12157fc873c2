// How long to wait before each attempt to rejoin a meeting: 1, 2, 4, 8 s, then 8 s for as long as it
// takes. Each delay is spread by up to ±10 %, so clients cut off together (a server restart, a dead
// media worker) do not all knock on the restarted server in the same instant.

export const FIRST_RECONNECT_DELAY_MS = 1_000;
export const MAX_RECONNECT_DELAY_MS = 8_000;
const JITTER = 0.1;

/** The delay before rejoin attempt `attempt` (1 for the first), in ms. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(Math.floor(attempt) - 1, 10));
  const base = Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** exponent, MAX_RECONNECT_DELAY_MS);
  return Math.round(base * (1 + JITTER * (2 * random() - 1)));
}
