// @ts-check
/**
 * The idle room: N members connected with their heartbeats on (a ping every
 * PRESENCE_HEARTBEAT_INTERVAL_MS, as the client sends them) and nothing else happening, for a
 * window of several heartbeat timeouts. What it costs is how often the room must run: on
 * PartyKit every ping is a message the room answers (its pong carries the room's clock,
 * `now`); on Workers the engine answers the exact ping frame itself (a pong without `now`) and
 * the room, hibernated, wakes only for its alarm. A wake from hibernation runs the room's
 * start again, which `?stats` counts in `starts`.
 */
import WebSocket from "ws";
import { connect, userDataOf } from "./clients.mjs";
import { sleep } from "./util.mjs";

/**
 * @typedef {{ engine: string; n: number; windowMs: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number;
 *   connected: number; starts: number; roomPongs: number; enginePongs: number; closes: number }} IdleResult
 */

/**
 * @param {import("./server.mjs").Server} server @param {string} engine @param {number} n @param {number} windowMs
 * @returns {Promise<IdleResult>}
 */
export async function idleRoom(server, engine, n, windowMs) {
  const room = `idle-${n}-${Date.now().toString(36)}`;
  const counters = { roomPongs: 0, enginePongs: 0, closes: 0, synced: 0 };
  let measuring = false;
  let settings = { heartbeatIntervalMs: 0, heartbeatTimeoutMs: 0 };
  /** @type {WebSocket[]} */
  const sockets = [];
  /** @type {ReturnType<typeof setInterval>[]} */
  const pings = [];
  let next = 0;
  const workers = Array.from({ length: Math.min(100, n) }, async () => {
    while (next < n) {
      const i = next++;
      const query = new URLSearchParams({ userId: `u${i}`, userData: JSON.stringify(userDataOf(i)) });
      /** @type {WebSocket | null} */
      let ws = null;
      ws = await connect(
        `ws://${server.host}/parties/main/${room}?${query}`,
        (data) => {
          const msg = JSON.parse(String(data));
          if (msg.type === "sync" && !msg.more) {
            if (settings.heartbeatIntervalMs === 0) settings = msg.settings;
            counters.synced++;
            // The client's heartbeat: the exact frame, at the interval the room names.
            pings.push(setInterval(() => ws?.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), msg.settings.heartbeatIntervalMs));
          } else if (msg.type === "pong" && measuring) {
            if (msg.now === undefined) counters.enginePongs++;
            else counters.roomPongs++;
          }
        },
        () => measuring && counters.closes++,
      );
      sockets.push(ws);
    }
  });
  await Promise.all(workers);
  while (counters.synced < n) await sleep(100);
  // Let the joins settle (their ticks, reports and storage writes) before the quiet window.
  await sleep(5000);
  const stats = async () => (await (await fetch(`http://${server.host}/parties/main/${room}?stats`)).json()).content;
  const before = await stats();
  measuring = true;
  await sleep(windowMs);
  measuring = false;
  const after = await stats();
  for (const timer of pings) clearInterval(timer);
  for (const ws of sockets) ws.terminate();
  await sleep(1000);
  return {
    engine,
    n,
    windowMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    connected: after.sockets,
    // The final ?stats may itself wake a sleeping room: an upper bound by at most one.
    starts: after.starts - before.starts,
    roomPongs: counters.roomPongs,
    enginePongs: counters.enginePongs,
    closes: counters.closes,
  };
}
