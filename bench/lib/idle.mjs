// @ts-check
/**
 * The idle room: N members connected with their heartbeats on (a ping every
 * PRESENCE_HEARTBEAT_INTERVAL_MS, as the client sends them) and nothing else happening, for a
 * window of several heartbeat timeouts. What it costs is how often the room must run: on
 * PartyKit every ping is a message the room answers (its pong carries the room's clock,
 * `now`); on Workers the engine answers the exact ping frame itself (a pong without `now`) and
 * the room, hibernated, wakes only for its alarm. A wake from hibernation runs the room's
 * start again, which `?stats` counts in `starts`.
 *
 * With every feature on (`IDLE_FEATURES`: webhooks to a local endpoint that answers 200, auth
 * with the server key, history, the directory), the members connect with tokens, one HTTP
 * client is kept with a far deadline and some sockets watch other members: what a real
 * deployment runs. Nothing of it may keep the room awake once its work is done.
 */
import { createServer } from "node:http";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { connect, userDataOf } from "./clients.mjs";
import { sleep } from "./util.mjs";

const AUTH_SECRET = "bench-auth-secret-0123456789-abcdefghijkl";
const SERVER_KEY = "bench-server-key-0123456789";

/** The server settings of the idle room with every feature on (the webhook endpoint's URL given). @param {string} webhookUrl */
export function featureVars(webhookUrl) {
  return {
    PRESENCE_AUTH_SECRET: AUTH_SECRET,
    PRESENCE_SERVER_KEY: SERVER_KEY,
    PRESENCE_WEBHOOK_URL: webhookUrl,
    PRESENCE_WEBHOOK_SECRET: "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ==",
  };
}

/**
 * A webhook endpoint on loopback that answers 200 at once and counts what it got.
 * @returns {Promise<{ url: string; received: () => number; close: () => Promise<void> }>}
 */
export async function webhookEndpoint() {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      received++;
      response.writeHead(200).end("ok");
    });
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", () => done(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, received: () => received, close: () => new Promise((done) => server.close(() => done(undefined))) };
}

/** A client token for a member of one channel. @param {string} userId @param {string} channel */
function memberToken(userId, channel) {
  return new SignJWT({ channels: [channel] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(AUTH_SECRET));
}

/**
 * @typedef {{ engine: string; features: boolean; n: number; windowMs: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number;
 *   connected: number; starts: number; roomPongs: number; enginePongs: number; closes: number; webhooks: number }} IdleResult
 */

/** How many members watch others with every feature on, and how many each watches. */
const WATCHERS = 10;
const WATCHED = 20;

/**
 * @param {import("./server.mjs").Server} server @param {string} engine @param {number} n @param {number} windowMs
 * @param {{ webhooks: () => number } | null} [features] with every feature on: the server runs `featureVars`, and this counts the endpoint's requests
 * @returns {Promise<IdleResult>}
 */
export async function idleRoom(server, engine, n, windowMs, features = null) {
  const room = `idle-${n}-${Date.now().toString(36)}`;
  /** @type {Record<string, string>} */
  const headers = features ? { authorization: `Bearer ${SERVER_KEY}` } : {};
  const counters = { roomPongs: 0, enginePongs: 0, closes: 0, synced: 0 };
  let measuring = false;
  let settings = { heartbeatIntervalMs: 0, heartbeatTimeoutMs: 0 };
  /** @type {WebSocket[]} */
  const sockets = [];
  /** @type {ReturnType<typeof setInterval>[]} */
  const pings = [];
  // With every feature on, one of the N members is the HTTP client: sockets for the others.
  const members = features ? n - 1 : n;
  let next = 0;
  const workers = Array.from({ length: Math.min(100, members) }, async () => {
    while (next < members) {
      const i = next++;
      const query = new URLSearchParams({ userId: `u${i}`, userData: JSON.stringify(userDataOf(i)) });
      if (features) query.set("token", await memberToken(`u${i}`, room));
      /** @type {WebSocket | null} */
      let ws = null;
      let started = false;
      ws = await connect(
        `ws://${server.host}/parties/main/${room}?${query}`,
        (data) => {
          const msg = JSON.parse(String(data));
          if (msg.type === "sync" && !msg.more && !started) {
            // Its first snapshot (a later one, after a watch or a change of mode, starts nothing new).
            started = true;
            if (settings.heartbeatIntervalMs === 0) settings = msg.settings;
            counters.synced++;
            // The client's heartbeat: the exact frame, at the interval the room names.
            pings.push(setInterval(() => ws?.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), msg.settings.heartbeatIntervalMs));
            // Some members keep a watch list (a friends list) of others.
            if (features && i < WATCHERS) ws?.send(JSON.stringify({ type: "watch", userIds: Array.from({ length: WATCHED }, (_, k) => `u${(i + 1 + k) % n}`) }));
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
  while (counters.synced < members) await sleep(100);
  if (features) {
    // An HTTP client (a device) with a far deadline.
    const response = await fetch(`http://${server.host}/parties/main/${room}/clients/device-1`, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ userId: "device", ttlMs: 3_600_000 }),
    });
    if (!response.ok) throw new Error(`the HTTP client's heartbeat answered ${response.status}: ${await response.text()}`);
  }
  // Let the joins settle (their ticks, reports, storage writes and webhooks) before the quiet window.
  await sleep(5000);
  const stats = async () => (await (await fetch(`http://${server.host}/parties/main/${room}?stats`, { headers })).json()).content;
  const webhooksBefore = features?.webhooks() ?? 0;
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
    features: features !== null,
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
    webhooks: (features?.webhooks() ?? 0) - webhooksBefore,
  };
}
