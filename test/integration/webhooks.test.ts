/**
 * Webhooks against a real `partykit dev` and a real local receiver that verifies each
 * request with the `standardwebhooks` package: every event kind once, signed, in order, and
 * nothing for a reload; an endpoint that fails for a while; 410; a slow endpoint that does not
 * slow presence; dead letters and their re-send; user-level events; and a `kill -9` with
 * batches still undelivered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient, PresenceClientOptions } from "../../client/index.ts";
import { verifyWebhook } from "../../client/server.ts";
import { freshChannel, getJson, presenceClient, quietUntil, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer } from "../support/dev-server.ts";
import { type Receiver, startReceiver, webhookSecret } from "../support/webhook-receiver.ts";
import { createPresenceApi } from "../../client/server.ts";

const SECRET = webhookSecret();
const GRACE_MS = 1000;
let receiver: Receiver;
let server: DevServer;
let vars: Record<string, string>;

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  vars = {
    PRESENCE_WEBHOOK_URL: receiver.url,
    PRESENCE_WEBHOOK_SECRET: SECRET,
    PRESENCE_WEBHOOK_RETRY_MS: "200",
    PRESENCE_WEBHOOK_MAX_ATTEMPTS: "3",
    PRESENCE_WEBHOOK_TIMEOUT_MS: "1000",
  };
  server = await startDevServer({ vars });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

const open: PresenceClient[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  receiver.answer = () => ({ status: 200 });
});

async function client(options: Omit<PresenceClientOptions, "host">): Promise<PresenceClient> {
  const c = presenceClient(server.host, options);
  open.push(c);
  await c.ready();
  return c;
}

const forChannel = (channel: string) => receiver.received.filter((r) => r.payload.type === "presence.events" && r.payload.data.channel === channel);
const kinds = (channel: string) => receiver.channelEvents(channel).map((e) => `${e.type} ${e.id}`);

describe("webhooks", () => {
  it("sends every event kind once, signed, in order by seq, and nothing for a reload within grace", async () => {
    const channel = freshChannel("hook");
    const ann = await client({ channel, userId: "ann", userData: { v: 1 }, id: "ann-tab" });
    await waitFor("join", () => kinds(channel).includes("join ann"));
    ann.setUserData({ v: 2 });
    await waitFor("update", () => kinds(channel).includes("update ann"));
    // A reload within grace: the same connection id comes back; nobody hears of it.
    ann.socket.reconnect();
    await waitFor("the tab back", () => ann.socket.readyState === 1);
    await sleep(GRACE_MS + 500);
    ann.close();
    await waitFor("offline", () => kinds(channel).includes("offline ann"), GRACE_MS + 10_000);
    const back = await client({ channel, userId: "ann", userData: { v: 2 } });
    await waitFor("online", () => kinds(channel).includes("online ann"));
    await back.leave();
    await waitFor("leave", () => kinds(channel).includes("leave ann"));

    expect(kinds(channel)).toEqual(["join ann", "update ann", "offline ann", "online ann", "leave ann"]);
    const batches = forChannel(channel);
    expect(batches.every((b) => b.verified)).toBe(true);
    expect(new Set(batches.map((b) => b.id)).size, "each batch once").toBe(batches.length);
    const seqs = receiver.channelEvents(channel).map((e) => e.seq);
    expect(seqs, "in order of the channel's seq").toEqual([...seqs].sort((a, b) => a - b));
    expect(receiver.channelEvents(channel)[1]).toMatchObject({ data: { v: 2 } });
  });

  it("keeps every batch while the endpoint fails, then delivers them all in order with the same ids", async () => {
    const channel = freshChannel("hook-flaky");
    let failing = true;
    receiver.answer = (r) => (r.payload.type === "presence.events" && r.payload.data.channel === channel && failing ? { status: 500 } : { status: 200 });
    const users = ["a", "b", "c"];
    for (const userId of users) await client({ channel, userId });
    await waitFor("attempts that failed", () => forChannel(channel).length >= 2);
    const failedIds = new Set(forChannel(channel).map((r) => r.id));
    failing = false;
    await waitFor("all three joins", () => users.every((u) => kinds(channel).includes(`join ${u}`)), 15_000);
    expect(kinds(channel).filter((k) => k.startsWith("join")).sort()).toEqual(users.map((u) => `join ${u}`));
    // The failed attempts and the later success carry the same webhook-id: nothing new was made up.
    const delivered = new Set(forChannel(channel).map((r) => r.id));
    for (const id of failedIds) expect(delivered.has(id)).toBe(true);
    const webhookStats = async () => (await getJson(server.host, `/parties/main/${channel}?stats`)).body.content.webhooks;
    await waitFor("the outbox empty", async () => (await webhookStats()).pending === 0);
    const stats = await webhookStats();
    expect(stats).toMatchObject({ enabled: true, pending: 0, deadLetters: 0, disabled: false });
    expect(stats.failedAttempts).toBeGreaterThanOrEqual(1);
  });

  it("moves a batch to the dead letters after the last attempt, lists it, and re-sends it on request", async () => {
    const channel = freshChannel("hook-dead");
    let failing = true;
    receiver.answer = (r) => (r.payload.type === "presence.events" && r.payload.data.channel === channel && failing ? { status: 503 } : { status: 200 });
    await client({ channel, userId: "dead" });
    const hooks = async () => (await getJson(server.host, `/parties/main/${channel}?webhooks`)).body.content;
    await waitFor("a dead letter", async () => (await hooks()).deadLetters === 1, 15_000);
    const listed = await hooks();
    expect(listed.deadLetterBatches).toEqual([{ id: expect.stringMatching(/^msg_/), createdAt: expect.any(Number), attempts: 3, lastError: "the endpoint answered 503" }]);
    failing = false;
    const resend = await fetch(`http://${server.host}/parties/main/${channel}?webhooks=resend`, { method: "POST" });
    expect(((await resend.json()) as { content: { resent: number } }).content.resent).toBe(1);
    await waitFor("the re-sent batch", () => kinds(channel).includes("join dead"));
    expect(forChannel(channel).filter((r) => r.id === listed.deadLetterBatches[0].id).length).toBe(4);
    // The receiver has it; the room learns of the 200 a moment later.
    await waitFor("the outbox empty", async () => (await hooks()).pending === 0);
    expect(await hooks()).toMatchObject({ deadLetters: 0, pending: 0 });
  });

  it("stops sending after 410 Gone, and keeps the batch", async () => {
    const channel = freshChannel("hook-gone");
    receiver.answer = (r) => (r.payload.type === "presence.events" && r.payload.data.channel === channel ? { status: 410 } : { status: 200 });
    const c = await client({ channel, userId: "g1" });
    await waitFor("the first attempt", () => forChannel(channel).length === 1);
    c.setUserData({ more: true });
    await sleep(1500);
    expect(forChannel(channel)).toHaveLength(1);
    const stats = (await getJson(server.host, `/parties/main/${channel}?stats`)).body.content.webhooks;
    expect(stats).toMatchObject({ disabled: true, pending: 2, lastError: "the endpoint answered 410 Gone" });
  });

  it("does not hold presence back while the endpoint hangs past its timeout", async () => {
    // Its own server with many attempts, so the first batch stays in flight for half a minute:
    // the channel's batches go strictly in order, so presence that waited for webhooks could
    // not announce the second join before the first batch was done.
    const patient = await startDevServer({ vars: { ...vars, PRESENCE_WEBHOOK_MAX_ATTEMPTS: "12", PRESENCE_WEBHOOK_RETRY_MS: "1000" } });
    const clients: PresenceClient[] = [];
    try {
      const join = async (options: Omit<PresenceClientOptions, "host">) => {
        const c = presenceClient(patient.host, options);
        clients.push(c);
        await c.ready();
        return c;
      };
      const channel = freshChannel("hook-slow");
      receiver.answer = (r) => (r.payload.type === "presence.events" && r.payload.data.channel === channel ? { status: 200, delayMs: 60_000 } : { status: 200 });
      const watcher = await join({ channel });
      await join({ channel, userId: "first" });
      await waitFor("the hanging delivery", () => forChannel(channel).length >= 1);
      await join({ channel, userId: "second" });
      await waitFor("the watcher to see the second join", () => watcher.member("second"), 15_000);
      // The first batch is neither delivered nor given up on: presence went on without it.
      const stats = (await getJson(patient.host, `/parties/main/${channel}?stats`)).body.content.webhooks;
      expect(stats).toMatchObject({ delivered: 0, deadLetters: 0 });
      expect(stats.pending, "the first batch and the second's, waiting their turn").toBeGreaterThanOrEqual(2);
    } finally {
      for (const c of clients) c.close();
      await patient.stop();
    }
  }, 60_000);

  it("sends channel.occupied with the first member's join and channel.vacated with the last one's offline or leave, in order in their batches, none for a reload", async () => {
    const channel = freshChannel("hook-occupancy");
    const ann = await client({ channel, userId: "ann", id: "ann-tab" });
    await waitFor("occupied", () => receiver.allChannelEvents(channel).includes("channel.occupied"));
    const bob = await client({ channel, userId: "bob" });
    await waitFor("bob's join", () => kinds(channel).includes("join bob"));
    // A reload within grace: nothing; bob leaving while ann stays: no occupancy change.
    ann.socket.reconnect();
    await waitFor("the tab back", () => ann.socket.readyState === 1);
    await bob.leave();
    await waitFor("bob's leave", () => kinds(channel).includes("leave bob"));
    ann.close();
    await waitFor("vacated", () => receiver.allChannelEvents(channel).includes("channel.vacated"), GRACE_MS + 10_000);
    const back = await client({ channel, userId: "ann" });
    await waitFor("occupied again", () => receiver.allChannelEvents(channel).filter((e) => e === "channel.occupied").length === 2);
    await back.leave();
    await waitFor("vacated again", () => receiver.allChannelEvents(channel).filter((e) => e === "channel.vacated").length === 2);
    expect(receiver.allChannelEvents(channel)).toEqual([
      "channel.occupied",
      "join ann",
      "join bob",
      "leave bob",
      "offline ann",
      "channel.vacated",
      "channel.occupied",
      "online ann",
      "leave ann",
      "channel.vacated",
    ]);
    // Each occupancy change is in the batch of the event that made it, with that tick's seq and counts.
    const batches = forChannel(channel).map((r) => (r.payload.type === "presence.events" ? r.payload.data.events : []));
    const first = batches.find((events) => events.some((e) => e.type === "channel.occupied"))!;
    expect(first.map((e) => e.type)).toEqual(["channel.occupied", "join"]);
    expect(first[0]).toMatchObject({ channel, seq: first[1]!.seq, clientAmount: 1, userAmount: 1 });
  });

  it("sends user.online and user.offline from the user directory, after grace, across channels", async () => {
    const userId = `hook-user-${Date.now().toString(36)}`;
    const userEvents = () =>
      receiver.received.flatMap((r) => (r.verified && r.payload.type === "user.events" ? r.payload.data.events.filter((e) => e.userId === userId).map((e) => e.type) : []));
    const first = freshChannel("hook-u1");
    const observer = await client({ channel: first });
    const one = await client({ channel: first, userId });
    await waitFor("user.online", () => userEvents().includes("user.online"));
    const statusOf = async () => (await getJson(server.host, `/users?userId=${userId}`)).body.content.users[userId];
    const since = (await statusOf()).since;
    const two = await client({ channel: freshChannel("hook-u2"), userId });
    const closedAt = Date.now();
    one.close();
    // Past both graces, proven by the first channel's room; the directory applies its own deadlines when asked.
    await quietUntil(server.host, first, observer, closedAt + GRACE_MS * 2 + 500);
    expect(await statusOf(), "online since the first join: no offline in between").toMatchObject({ online: true, since });
    expect(userEvents()).toEqual(["user.online"]);
    two.close();
    await waitFor("user.offline", () => userEvents().includes("user.offline"), GRACE_MS * 3 + 10_000);
    expect(userEvents()).toEqual(["user.online", "user.offline"]);
  });

  it("sends a device's events like a socket's: join and update from its heartbeats, offline at its deadline, and user.online / user.offline", async () => {
    const channel = freshChannel("hook-device");
    const userId = `hook-device-${Date.now().toString(36)}`;
    const userEvents = () =>
      receiver.received.flatMap((r) => (r.verified && r.payload.type === "user.events" ? r.payload.data.events.filter((e) => e.userId === userId).map((e) => e.type) : []));
    const api = createPresenceApi({ host: server.host });
    await api.heartbeat(channel, "hook-1", { userId, data: { v: 1 }, ttlMs: 2000 });
    await waitFor("join", () => kinds(channel).includes(`join ${userId}`));
    const last = await api.heartbeat(channel, "hook-1", { userId, data: { v: 2 }, ttlMs: 2000 });
    await waitFor("update", () => kinds(channel).includes(`update ${userId}`));
    await waitFor("offline", () => kinds(channel).includes(`offline ${userId}`), 15_000);
    expect(kinds(channel)).toEqual([`join ${userId}`, `update ${userId}`, `offline ${userId}`]);
    const offline = forChannel(channel)
      .flatMap((r) => (r.payload.type === "presence.events" ? r.payload.data.events : []))
      .find((e) => e.type === "offline");
    expect(offline && "member" in offline && offline.member, "offline since its deadline").toMatchObject({ status: "offline", since: last.expiresAt });
    await waitFor("user.offline", () => userEvents().includes("user.offline"), GRACE_MS * 3 + 10_000);
    expect(userEvents()).toEqual(["user.online", "user.offline"]);
  });

  it("verifies a real delivery with verifyWebhook, and refuses a forged one", async () => {
    const sample = receiver.received.find((r) => r.verified)!;
    expect(sample).toBeDefined();
    const body = JSON.stringify(sample.payload);
    const { Webhook } = await import("standardwebhooks");
    const now = new Date();
    const signature = new Webhook(SECRET).sign(sample.id, now, body);
    const headers = { "webhook-id": sample.id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": signature };
    expect(await verifyWebhook(new Request("http://x/", { method: "POST", body, headers }), SECRET)).toEqual(sample.payload);
    await expect(verifyWebhook(new Request("http://x/", { method: "POST", body: body.replace("join", "leave"), headers }), SECRET)).rejects.toThrow();
    await expect(verifyWebhook(new Request("http://x/", { method: "POST", body, headers }), webhookSecret())).rejects.toThrow();
  });
});

describe("webhooks across a kill -9 (own server)", () => {
  let crashServer: DevServer | undefined;
  afterAll(async () => {
    await crashServer?.stop();
  });

  it("delivers every batch that was pending at the kill once the room is touched again, none lost, duplicates only by id", async () => {
    const channel = freshChannel("hook-crash");
    let down = true;
    receiver.answer = (r) => (r.payload.type === "presence.events" && r.payload.data.channel === channel && down ? { status: 500 } : { status: 200 });
    crashServer = await startDevServer({ vars: { ...vars, PRESENCE_WEBHOOK_MAX_ATTEMPTS: "50" } });
    const users = ["k1", "k2", "k3", "k4"];
    const clients: PresenceClient[] = [];
    for (const userId of users) {
      const c = presenceClient(crashServer.host, { channel, userId });
      clients.push(c);
      await c.ready();
    }
    clients[0]!.setUserData({ last: true });
    await sleep(500);
    const pending = (await getJson(crashServer.host, `/parties/main/${channel}?stats`)).body.content.webhooks.pending;
    expect(pending).toBeGreaterThanOrEqual(2);
    const { port, persistDir } = crashServer;
    await crashServer.kill9();
    for (const c of clients) c.close();
    down = false;
    crashServer = await startDevServer({ port, persistDir, vars: { ...vars, PRESENCE_WEBHOOK_MAX_ATTEMPTS: "50" } });
    // partykit dev re-arms a room's alarm only when something touches the room: a herenow does.
    await getJson(crashServer.host, `/parties/main/${channel}`);
    await waitFor("every join and the update", () => users.every((u) => kinds(channel).includes(`join ${u}`)) && kinds(channel).includes("update k1"), 20_000);
    const delivered = receiver.channelEvents(channel);
    expect(delivered.filter((e) => e.type === "join").map((e) => e.id).sort()).toEqual(users);
    // Retried batches came again with their first id: a receiver that drops repeated ids sees each event once.
    const byId = new Map<string, number>();
    for (const r of forChannel(channel)) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
    expect([...byId.values()].some((n) => n > 1)).toBe(true);
    expect(delivered.filter((e) => e.type === "join").length).toBe(users.length);
  }, 90_000);
});
