/**
 * Reconnect jitter. partysocket waits `min × 1.3^(retry − 1)` before each retry (at most
 * `max`), the same for every client: when a deploy or a restart drops thousands of sockets at
 * once, they all come back in the same instants, again and again, and a room busy accepting
 * one wave times out the next. A random extra wait of up to that delay again spreads each
 * wave over its own length. Pure: the random number is a parameter.
 */

/** partysocket's growth factor between two retries. */
const GROWTH = 1.3;

/** The extra wait before retry number `retry` (1 for the first reconnect; 0 for the first connect: none). */
export function reconnectJitterMs(retry: number, minDelayMs: number, maxDelayMs: number, random: number): number {
  if (retry < 1) return 0;
  const delay = Math.min(maxDelayMs, minDelayMs * GROWTH ** (retry - 1));
  return Math.floor(random * delay);
}
