/**
 * GET /metrics against a real dev server of its own (so its totals are this file's channels
 * alone, and the ready check's room): members join two channels, update, leave and go offline,
 * an HTTP client beats, pushes are acked and time out, connects and requests are refused; then
 * /metrics must pass Prometheus' own parser and linter (`promtool check metrics`; never skipped:
 * npm test installs it with scripts/ensure-apt-package.sh) and its numbers must equal the sums of every room's
 * ?stats once the rooms' reports reached the index (at most one a second per room). When a
 * channel empties it drops out of the gauges and its counters stay in the totals.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import type { RoomStats } from "../../party/protocol/index.ts";
import { freshChannel, presenceClient, type RawSocket, rawSocket, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";

const SERVER_KEY = "metrics-server-key-0123456789";
const APP_ORIGIN = "http://app.example";
/** The room the dev server's ready check starts (`/herenow?channel=ready-check`): it counts too. */
const READY_ROOM = "ready-check";
const PROMTOOL = process.env.PROMTOOL_PATH ?? "promtool";
const key = { authorization: `Bearer ${SERVER_KEY}` };

let server: DevServer;
const open: PresenceClient[] = [];
const raws: RawSocket[] = [];

beforeAll(async () => {
  server = await startDevServer({ vars: { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_ALLOWED_ORIGINS: APP_ORIGIN } });
}, 120_000);

afterAll(async () => {
  for (const client of open) client.close();
  for (const raw of raws) raw.ws.terminate();
  await server?.stop();
});

async function join(channel: string, userId: string): Promise<PresenceClient> {
  const client = presenceClient(server.host, { channel, userId });
  open.push(client);
  await client.ready();
  return client;
}

/** The samples of a text exposition, by `name{labels}` as written. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    found.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return found;
}

async function metricsText(): Promise<string> {
  const response = await fetch(`http://${server.host}/metrics`, { headers: key });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return response.text();
}

/** What /metrics must say, from the rooms' own ?stats. */
function expected(stats: RoomStats[]): Map<string, number> {
  const want = new Map<string, number>();
  const add = (name: string, n: number) => want.set(name, (want.get(name) ?? 0) + n);
  const active = stats.filter((s) => s.userAmount > 0 || s.clientAmount > 0);
  add("presence_channels_active", active.length);
  add("presence_clients", 0);
  add("presence_users", 0);
  add("presence_http_clients", 0);
  add('presence_members{mode="full"}', 0);
  add('presence_members{mode="interval"}', 0);
  for (const s of active) {
    add("presence_clients", s.clientAmount);
    add("presence_users", s.userAmount);
    add("presence_http_clients", s.httpClients);
    add(`presence_members{mode="${s.mode}"}`, s.members);
  }
  for (const type of ["join", "online", "offline", "leave", "update"]) add(`presence_events_total{type="${type}"}`, 0);
  for (const outcome of ["acked", "rejected", "timeout", "closed"]) add(`presence_push_outcomes_total{outcome="${outcome}"}`, 0);
  for (const name of ["presence_pushes_total", "presence_webhook_deliveries_total", "presence_webhook_failures_total", "presence_webhook_dead_letters_total", "presence_room_starts_total"]) add(name, 0);
  for (const s of stats) {
    for (const [type, n] of Object.entries(s.events)) add(`presence_events_total{type="${type}"}`, n);
    for (const [reason, n] of Object.entries(s.refusedConnections)) add(`presence_refused_connections_total{reason="${reason}"}`, n);
    for (const [reason, n] of Object.entries(s.refusedRequests)) add(`presence_refused_requests_total{reason="${reason}"}`, n);
    for (const [code, n] of Object.entries(s.rejectedMessages)) add(`presence_rejected_messages_total{code="${code}"}`, n);
    for (const [policy, n] of Object.entries(s.replacedClients)) add(`presence_replaced_clients_total{policy="${policy}"}`, n);
    for (const [reason, n] of Object.entries(s.closes)) add(`presence_closes_total{reason="${reason}"}`, n);
    add("presence_pushes_total", s.pushes.delivered ?? 0);
    for (const outcome of ["acked", "rejected", "timeout", "closed"]) add(`presence_push_outcomes_total{outcome="${outcome}"}`, s.pushes[outcome] ?? 0);
    add("presence_webhook_deliveries_total", s.webhookDeliveries.delivered ?? 0);
    add("presence_webhook_failures_total", s.webhookDeliveries.failed ?? 0);
    add("presence_webhook_dead_letters_total", s.webhookDeliveries.deadLettered ?? 0);
    add("presence_room_starts_total", s.starts);
  }
  return want;
}

/** Waits until /metrics equals the sums of these rooms' ?stats (the reports land within a second or so); returns the last text and samples. */
async function matching(channels: string[]): Promise<{ text: string; got: Map<string, number>; want: Map<string, number> }> {
  let last: { text: string; got: Map<string, number>; want: Map<string, number> } | null = null;
  try {
    return await waitFor(
      "/metrics to equal the sum of the rooms' ?stats",
      async () => {
        const stats = await Promise.all(channels.map((channel) => roomStatsWithKey(channel)));
        const text = await metricsText();
        last = { text, got: samples(text), want: expected(stats) };
        return [...last.want].every(([name, n]) => last!.got.get(name) === n) ? last : null;
      },
      20_000,
    );
  } catch (error) {
    // Say which samples differ, not only that they did.
    const seen = last as { got: Map<string, number>; want: Map<string, number> } | null;
    if (seen) expect(Object.fromEntries([...seen.got].filter(([name]) => seen.want.has(name)))).toEqual(Object.fromEntries(seen.want));
    throw error;
  }
}

/** A room's ?stats, with the server key. */
async function roomStatsWithKey(channel: string): Promise<RoomStats> {
  const response = await fetch(`http://${server.host}/parties/main/${channel}?stats`, { headers: key });
  expect(response.status).toBe(200);
  return ((await response.json()) as { content: RoomStats }).content;
}

/** A connect from a browser page on another origin: refused (403), and counted under `origin`. */
function connectFromOrigin(channel: string, origin: string): Promise<number> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://${server.host}/parties/main/${channel}?userId=mallory`, { headers: { origin } });
    ws.once("open", () => {
      ws.close();
      fail(new Error("the connect from another origin was accepted"));
    });
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_request, response) => done(response.statusCode ?? 0));
  });
}

/** `promtool check metrics`: Prometheus' own parser and linter; its status and what it said. */
function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
  if (run.error) throw new Error(`promtool could not run (${run.error.message}): install Debian's prometheus (npm test does, with scripts/ensure-apt-package.sh), or set PROMTOOL_PATH; this test does not skip`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("GET /metrics", () => {
  it("needs the server key when one is set", async () => {
    expect((await fetch(`http://${server.host}/metrics`)).status).toBe(401);
    expect((await fetch(`http://${server.host}/metrics`, { headers: { authorization: "Bearer not-the-key-0123456789" } })).status).toBe(401);
    expect((await fetch(`http://${server.host}/metrics`, { method: "POST", headers: key })).status).toBe(405);
  });

  it("passes promtool, equals the sums of the rooms' ?stats, and keeps an emptied channel's counters", async () => {
    const api = createPresenceApi({ host: server.host, serverKey: SERVER_KEY });
    const chat = freshChannel("metrics-chat");
    const devices = freshChannel("metrics-devices");

    // Events: joins, an update, a leave; an offline after the grace.
    const ann = await join(chat, "ann");
    ann.on("push", () => undefined);
    const bob = await join(chat, "bob");
    bob.setUserData({ mood: "busy" });
    await waitFor("bob's update", () => (ann.member("bob")?.data as { mood?: string } | null | undefined)?.mood === "busy");
    await bob.leave();
    const cat = await join(devices, "cat");
    // An HTTP client (a member without a socket).
    await api.heartbeat(devices, "dog-1", { userId: "dog", ttlMs: 60_000 });
    // Pushes: one acked, one that times out (a raw socket never answers).
    const eve = await rawSocket(server.host, devices, { userId: "eve" });
    raws.push(eve);
    await waitFor("ann and eve in the directory", async () => {
      const users = await api.users(["ann", "eve"]);
      return users.ann?.online === true && users.eve?.online === true;
    });
    const acked = await api.push("ann", { hello: 1 });
    expect(acked.acked.length, JSON.stringify(acked)).toBe(1);
    const missed = await api.push("eve", { hello: 2 }, { timeoutMs: 1_000 });
    expect(missed.unacked.map((miss) => miss.reason)).toEqual(["timeout"]);
    // Refusals: a connect from another origin, a bad handshake, a request without the key.
    expect(await connectFromOrigin(chat, "http://evil.example")).toBe(403);
    expect((await refusedConnect(server.host, `/parties/main/${chat}?userId=`)).status).toBe(400);
    expect((await fetch(`http://${server.host}/parties/main/${devices}?stats`)).status).toBe(401);
    cat.close();

    const channels = [READY_ROOM, chat, devices];
    await waitFor("cat announced offline", async () => ((await roomStatsWithKey(devices)).events.offline ?? 0) === 1, 15_000);
    const first = await matching(channels);
    const checked = promtool(first.text);
    expect(checked, first.text).toEqual({ status: 0, output: "" });
    // The scenario's own numbers, so the equality above is not of zeros.
    expect(first.got.get("presence_channels_active")).toBe(2);
    expect(first.got.get('presence_events_total{type="join"}')).toBeGreaterThanOrEqual(5);
    expect(first.got.get('presence_events_total{type="update"}')).toBe(1);
    expect(first.got.get('presence_events_total{type="leave"}')).toBe(1);
    expect(first.got.get('presence_events_total{type="offline"}')).toBe(1);
    expect(first.got.get('presence_refused_connections_total{reason="origin"}')).toBe(1);
    expect(first.got.get('presence_refused_connections_total{reason="bad_handshake"}')).toBe(1);
    expect(first.got.get('presence_refused_requests_total{reason="unauthorized"}')).toBe(1);
    expect(first.got.get("presence_pushes_total")).toBe(2);
    expect(first.got.get('presence_push_outcomes_total{outcome="acked"}')).toBe(1);
    expect(first.got.get('presence_push_outcomes_total{outcome="timeout"}')).toBe(1);
    expect(first.got.get("presence_http_clients")).toBe(1);
    expect(first.got.get("presence_room_starts_total")).toBeGreaterThanOrEqual(3);

    // chat empties: it leaves the gauges, its counters stay in the totals.
    await ann.leave();
    const second = await matching(channels);
    expect(second.got.get("presence_channels_active")).toBe(1);
    expect(second.got.get('presence_events_total{type="leave"}')).toBe(2);
    for (const [name, n] of first.got) if (name.includes("_total")) expect(second.got.get(name), name).toBeGreaterThanOrEqual(n);
    expect(promtool(second.text)).toEqual({ status: 0, output: "" });
  });
});
