/**
 * What only the Workers engine can show (`wrangler dev`, partyserver, rooms that hibernate
 * after ~10 s without an event): a room sleeps while its members keep pinging, because the
 * engine answers their pings; it closes a silent socket at its heartbeat timeout although it
 * slept in between; a connect, an HTTP call and a push each wake it, and it answers as if it
 * had never slept. A room's `starts` in `?stats` counts its wakes: asked right after something
 * else woke it, the count tells whether it had slept before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientPresenceEvent, PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, getJson, joined, PROBE_PREFIX, quietUntil, type RawSocket, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, ENGINE, sleep, startDevServer } from "../support/dev-server.ts";
import { roomStats } from "../support/liveness.ts";

/** workerd evicts an object after ~10 s without an event: waiting longer lets a room sleep. */
const SLEEP_MS = 14_000;

let calm: DevServer;
let strict: DevServer;
const open: PresenceClient[] = [];
const raws: RawSocket[] = [];

beforeAll(async () => {
  if (ENGINE !== "workers") throw new Error("test/workers/ runs on the Workers engine only (the integration-workers project)");
  [calm, strict] = await Promise.all([
    // Pings every 2 s, a long timeout: no idle check comes due while a test lets a room sleep.
    startDevServer({ vars: { PRESENCE_HEARTBEAT_INTERVAL_MS: "2000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "120000" } }),
    // A timeout past the engine's eviction, so the room sleeps before it comes due.
    startDevServer({ vars: { PRESENCE_HEARTBEAT_INTERVAL_MS: "2000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "16000", PRESENCE_GRACE_MS: "1000" } }),
  ]);
}, 150_000);

afterAll(async () => {
  for (const c of open.splice(0)) c.close();
  for (const socket of raws.splice(0)) socket.ws.terminate();
  await Promise.all([calm?.stop(), strict?.stop()]);
});

async function member(host: string, channel: string, userId?: string): Promise<PresenceClient> {
  const c = await joined(host, userId === undefined ? { channel } : { channel, userId, userData: { name: userId.toUpperCase() } });
  open.push(c);
  if (userId !== undefined) await waitFor(`${userId} online`, () => c.member(userId)?.status === "online");
  return c;
}

/** What a client sees (but the probes of `quietUntil`). */
function record(c: PresenceClient): ClientPresenceEvent[] {
  const events: ClientPresenceEvent[] = [];
  c.on("presence", (event) => event.member.id.startsWith(PROBE_PREFIX) || events.push(event));
  return events;
}

describe("a room on the Workers engine", () => {
  it("sleeps while its members keep pinging, with its members unchanged and no event sent", async () => {
    const channel = freshChannel("wk-sleep");
    const watcher = await member(calm.host, channel);
    const ann = await member(calm.host, channel, "ann");
    const bob = await member(calm.host, channel, "bob");
    await waitFor("the watcher to see both", () => watcher.online.length === 2);
    const seen = record(watcher);
    const closes: number[] = [];
    for (const c of [watcher, ann, bob]) c.on("close", (event) => closes.push(event.code));
    const before = await roomStats(calm.host, channel);

    // Nothing but pings for a while: the engine answers them, the room may sleep.
    await sleep(SLEEP_MS);
    const after = await roomStats(calm.host, channel);
    expect(after.starts - before.starts, "the room slept (this request woke it)").toBeGreaterThanOrEqual(1);
    expect(after).toMatchObject({ clientAmount: 2, userAmount: 2, members: 2, sockets: 3 });
    expect(after.rejectedMessages).toEqual({});
    // The woken room rebuilt itself from storage and the sockets that stayed: a later join
    // reaches the watcher after anything the wake could have announced, and nothing was.
    await quietUntil(calm.host, channel, watcher, Date.now());
    expect(seen, "events while the room slept, and after it woke").toEqual([]);
    const { body } = await getJson(calm.host, `/parties/main/${channel}?includeUsers=true&distinct=true`);
    expect(body.content.channels[channel].users).toEqual([
      { id: "ann", data: { name: "ANN" } },
      { id: "bob", data: { name: "BOB" } },
    ]);
    expect(closes, "closes while the room slept").toEqual([]);
    expect([watcher, ann, bob].map((c) => c.socket.readyState)).toEqual([1, 1, 1]);
    expect(watcher.online.map((m) => m.id).sort()).toEqual(["ann", "bob"]);
  }, 60_000);

  it("closes a silent socket with 4001 at its heartbeat timeout although it slept in between, and keeps the pinging member", async () => {
    const channel = freshChannel("wk-silent");
    const pinging = await member(strict.host, channel, "pinging");
    const seen = record(pinging);
    const connectedAt = Date.now();
    const mute = await rawSocket(strict.host, channel, { userId: "mute" });
    raws.push(mute);
    await waitFor("mute's snapshot", () => mute.messages.some((m) => m.type === "sync"));
    const baseline = (await roomStats(strict.host, channel)).starts;
    // Nothing touches the room from here: only its alarm can close the mute socket.
    const closed = await Promise.race([mute.closed, sleep(60_000).then(() => null)]);
    const closedAfterMs = Date.now() - connectedAt;
    expect(closed, `mute was not closed within ${closedAfterMs} ms`).toMatchObject({ code: 4001 });
    expect(closedAfterMs, "closed no sooner than the heartbeat timeout").toBeGreaterThanOrEqual(16_000);
    const stats = await roomStats(strict.host, channel);
    expect(stats.starts - baseline, "the room slept and its alarm woke it before the close").toBeGreaterThanOrEqual(1);
    expect(stats.closes).toEqual({ heartbeatTimeout: 1 });
    await waitFor("mute offline after grace", () => pinging.member("mute")?.status === "offline", 10_000);
    expect(seen.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join mute", "offline mute"]);
    expect(pinging.member("pinging")).toMatchObject({ status: "online", clients: 1 });
    expect(pinging.socket.readyState).toBe(1);
  }, 90_000);

  it("is woken by a connect, by an HTTP call and by a push, and answers each as if it had never slept", async () => {
    const channel = freshChannel("wk-wake");
    const api = createPresenceApi({ host: calm.host });
    // A member that only pings: nothing else keeps the room awake.
    const userId = `wk-${Date.now().toString(36)}`;
    const pinger = await member(calm.host, channel, userId);
    const pushes: unknown[] = [];
    pinger.on("push", (data) => void pushes.push(data));
    await waitFor("the user in the directory", async () => (await api.users([userId]))[userId]?.online === true);
    let starts = (await roomStats(calm.host, channel)).starts;

    // A connect.
    await sleep(SLEEP_MS);
    const late = await member(calm.host, channel, "late");
    await waitFor("the pinger to see the late joiner", () => pinger.member("late")?.status === "online");
    const afterConnect = await roomStats(calm.host, channel);
    expect(afterConnect.starts - starts, "it slept, and the connect woke it").toBeGreaterThanOrEqual(1);
    starts = afterConnect.starts;

    // An HTTP call.
    await sleep(SLEEP_MS);
    const { status, body } = await getJson(calm.host, `/parties/main/${channel}?includeUsers=true&distinct=true`);
    expect(status).toBe(200);
    expect(body.content.channels[channel].users.map((u: { id: string }) => u.id).sort()).toEqual(["late", userId].sort());
    const afterHttp = await roomStats(calm.host, channel);
    expect(afterHttp.starts - starts, "it slept, and the HTTP call woke it").toBeGreaterThanOrEqual(1);
    starts = afterHttp.starts;

    // A push, through the user's directory part.
    await sleep(SLEEP_MS);
    const result = await api.push(userId, { wake: true }, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ clients: 1, unacked: [] });
    expect(result.acked.map((t) => t.channel)).toEqual([channel]);
    expect(pushes).toEqual([{ wake: true }]);
    const afterPush = await roomStats(calm.host, channel);
    expect(afterPush.starts - starts, "it slept, and the push woke it").toBeGreaterThanOrEqual(1);
    expect(late.socket.readyState).toBe(1);
  }, 90_000);

  it("keeps an HTTP client through the room's sleep, and its alarm wakes the sleeping room to take it offline at its deadline", async () => {
    const channel = freshChannel("wk-device");
    const api = createPresenceApi({ host: calm.host });
    const watcher = await member(calm.host, channel);
    const seen = record(watcher);
    await api.heartbeat(channel, "kept", { userId: "kept", ttlMs: 3_600_000 });
    // Past the room's sleep, and then some: only the room's alarm can take it offline.
    const lapsing = await api.heartbeat(channel, "lapsing", { userId: "lapsing", ttlMs: SLEEP_MS + 8000 });
    await waitFor("both online", () => watcher.online.length === 2);
    const baseline = (await roomStats(calm.host, channel)).starts;
    const offline = await waitFor("the lapsing client offline", () => seen.find((e) => e.action === "offline"), 60_000);
    expect(offline.member).toMatchObject({ id: "lapsing", since: lapsing.expiresAt });
    const stats = await roomStats(calm.host, channel);
    expect(stats.starts - baseline, "the room slept, and its alarm woke it for the deadline").toBeGreaterThanOrEqual(1);
    expect(stats).toMatchObject({ httpClients: 1, clientAmount: 1, userAmount: 1 });
    expect(watcher.member("kept")).toMatchObject({ status: "online", clientTypes: { device: 1 } });
    expect(seen.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join kept", "join lapsing", "offline lapsing"]);
    await api.removeClient(channel, "kept");
  }, 90_000);

  it("answers pings without the room: a flood of them is all pongs, none reaches the room to be counted or limited", async () => {
    const channel = freshChannel("wk-pings");
    const socket = await rawSocket(calm.host, channel, { userId: "flooder" });
    raws.push(socket);
    await waitFor("the snapshot", () => socket.messages.some((m) => m.type === "sync"));
    const before = await roomStats(calm.host, channel);
    // Over the token bucket (40) many times: on PartyKit these would be rate limited and end in a 1008.
    for (let i = 0; i < 400; i++) socket.send('{"type":"ping"}');
    await waitFor("400 pongs", () => socket.frames.filter((f) => f === '{"type":"pong"}').length === 400);
    expect(socket.messages.filter((m) => m.type === "error")).toEqual([]);
    const after = await roomStats(calm.host, channel);
    expect(after.rejectedMessages).toEqual(before.rejectedMessages);
    expect(after.closes).toEqual({});
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });
});
