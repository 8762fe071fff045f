/**
 * How long a channel gathers changes before one diff goes out. A diff costs one send per
 * socket, so the tick grows with the room: a client of a busy room gets at most 4 diffs a
 * second (5 messages with its own: a pong, a snapshot), and a room sends at most about 5,000
 * diffs a second whatever its size.
 */
import type { ChannelMode } from "../protocol/index.ts";

/** Full mode's tick per socket below 100 sockets: a small room ticks fast. */
const MS_PER_SOCKET_SMALL = 2.5;
/** The tick of a room of 100 sockets or more, until MS_PER_SOCKET takes over: 4 diffs per client per second. */
export const BUSY_TICK_MS = 250;
/** Full mode's tick per socket in a big room: 250 ms from 1,250 sockets, 1 s at 5,000. */
const MS_PER_SOCKET = 0.2;

/** The settings pacing reads. */
export type Pacing = { tickMs: number; intervalMs: number };

/**
 * The tick of a channel in `mode` with `sockets` live sockets: PRESENCE_INTERVAL_MS in
 * interval mode; in full mode at least PRESENCE_TICK_MS, 2.5 ms per socket up to 250 ms, then
 * 0.2 ms per socket.
 */
export function tickFor(mode: ChannelMode, sockets: number, pacing: Pacing): number {
  if (mode === "interval") return pacing.intervalMs;
  return Math.max(pacing.tickMs, Math.min(BUSY_TICK_MS, sockets * MS_PER_SOCKET_SMALL), sockets * MS_PER_SOCKET);
}
