/**
 * Pushes against real `partykit dev` servers: to every device of a user through the user
 * directory (the shared server), with filters, acks, a negative ack, a timeout, an idempotent
 * retry and a reconnect mid-push; bad requests; 32 clients in 5 channels; then, on servers of
 * their own, pushes with the directory off and from member to member, and a retry after the
 * server was killed mid-push.
 */
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import type { PresenceClient, PresenceClientOptions } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, presenceClient, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer } from "../support/dev-server.ts";

const host = inject("host");
const api = createPresenceApi({ host });

const open: PresenceClient[] = [];
const raws: WebSocket[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
  for (const ws of raws.splice(0)) ws.terminate();
});

async function client(options: Omit<PresenceClientOptions, "host">, on = host): Promise<PresenceClient> {
  const c = presenceClient(on, options);
  open.push(c);
  await c.ready();
  return c;
}

/** Waits until the directory knows the user in these many channels. */
async function inDirectory(userId: string, channels: number, via = api) {
  await waitFor(`${userId} in ${channels} channels`, async () => (await via.users([userId]))[userId]?.channels?.length === channels);
}

const who = (targets: Array<{ channel: string; clientType?: string }>) => targets.map((t) => `${t.channel}/${t.clientType ?? "-"}`).sort();

describe("a push to a user's clients (through the directory)", () => {
  it("reaches all three clients in two channels on two types, each acking; filters narrow it; a negative ack and a timeout are reported", async () => {
    const userId = `push-${Date.now().toString(36)}`;
    const a = freshChannel("push-a");
    const b = freshChannel("push-b");
    const webA = await client({ channel: a, userId, clientType: "web" });
    const appA = await client({ channel: a, userId, clientType: "app" });
    const webB = await client({ channel: b, userId, clientType: "web" });
    const got: Record<string, unknown[]> = { webA: [], appA: [], webB: [] };
    webA.on("push", (data, info) => void got.webA!.push([data, info.channel, info.from]));
    appA.on("push", (data) => void got.appA!.push(data));
    webB.on("push", (data) => void got.webB!.push(data));
    await inDirectory(userId, 2);

    const all = await api.push(userId, { n: 1 });
    expect(all.clients).toBe(3);
    expect(who(all.acked)).toEqual([`${a}/app`, `${a}/web`, `${b}/web`].sort());
    expect(all.unacked).toEqual([]);
    expect(got.webA).toEqual([[{ n: 1 }, a, null]]);

    expect(who((await api.push(userId, { n: 2 }, { channel: b })).acked)).toEqual([`${b}/web`]);
    expect(who((await api.push(userId, { n: 3 }, { clientType: "web" })).acked)).toEqual([`${a}/web`, `${b}/web`].sort());
    expect(who((await api.push(userId, { n: 4 }, { channel: a, clientType: "app" })).acked)).toEqual([`${a}/app`]);
    expect(got.webB).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);

    // A handler that throws is a negative ack; a raw socket that never answers times out.
    appA.on("push", () => {
      throw new Error("app says no");
    });
    const silent = await rawSocket(host, b, { userId, clientType: "pc" });
    raws.push(silent.ws);
    // Alive (it pings, so the heartbeat timeout does not close it), but it never answers a push.
    const alive = setInterval(() => silent.ws.readyState === 1 && silent.send({ type: "ping" }), 1000);
    await waitFor("the silent client counted", async () => (await api.users([userId]))[userId]?.channels?.find((c) => c.channel === b)?.clientAmount === 2);
    // Long enough for the three that answer, on a loaded machine; the silent one waits it out.
    const mixed = await api.push(userId, { n: 5 }, { timeoutMs: 4000 }).finally(() => clearInterval(alive));
    expect(mixed.clients).toBe(4);
    expect(who(mixed.acked)).toEqual([`${a}/web`, `${b}/web`].sort());
    expect(mixed.unacked.map((m) => [m.clientType, m.reason, m.error]).sort()).toEqual([
      ["app", "rejected", "app says no"],
      ["pc", "timeout", undefined],
    ]);
    expect(silent.messages.filter((m) => m.type === "push")).toHaveLength(1);
  });

  it("delivers nothing new for the same id within 10 minutes and answers as the first time; clients drop a repeated id", async () => {
    const userId = `idem-${Date.now().toString(36)}`;
    const c = await client({ channel: freshChannel("push-idem"), userId });
    let calls = 0;
    c.on("push", () => void calls++);
    await inDirectory(userId, 1);
    const first = await api.push(userId, { once: true }, { id: "order-42" });
    const again = await api.push(userId, { once: true }, { id: "order-42" });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ id: "order-42", clients: 1 });
    expect(calls).toBe(1);
    const other = await api.push(userId, { once: false });
    expect(other.id).not.toBe("order-42");
    expect(calls).toBe(2);
  });

  it("sends a push again to a client that reconnects before acking, which then acks it", async () => {
    const userId = `reconnect-${Date.now().toString(36)}`;
    const channel = freshChannel("push-reconnect");
    // A raw client that drops its socket on the first push, and on its second socket acks.
    const url = `ws://${host}/parties/main/${channel}?userId=${userId}&_pk=flaky-1`;
    let sockets = 0;
    const pushes: string[] = [];
    const connect = () =>
      new Promise<WebSocket>((done) => {
        const ws = new WebSocket(url);
        raws.push(ws);
        const n = ++sockets;
        ws.on("message", (raw) => {
          const message = JSON.parse(String(raw));
          if (message.type !== "push") return;
          pushes.push(`socket ${n}: ${message.id}`);
          if (n === 1) {
            ws.terminate();
            setTimeout(() => void connect(), 100);
          } else ws.send(JSON.stringify({ type: "ack", id: message.id, ok: true }));
        });
        ws.once("open", () => done(ws));
      });
    await connect();
    await inDirectory(userId, 1);
    const result = await api.push(userId, { hi: 1 }, { id: "mid-push", timeoutMs: 5000 });
    expect(pushes).toEqual(["socket 1: mid-push", "socket 2: mid-push"]);
    expect(result).toMatchObject({ clients: 1, acked: [{ channel, connectionId: "flaky-1" }], unacked: [] });
  });

  it("lets a client acknowledge more pushes than its rate limit allows messages (each push brings its own allowance)", async () => {
    const userId = `busy-${Date.now().toString(36)}`;
    const c = await client({ channel: freshChannel("push-busy"), userId });
    let calls = 0;
    c.on("push", () => void calls++);
    const errors: string[] = [];
    c.on("error", (error) => errors.push(error.code));
    await inDirectory(userId, 1);
    // The default burst is 40 messages: 60 pushes in a row, each acked.
    for (let i = 0; i < 60; i++) expect((await api.push(userId, { i }, { timeoutMs: 3000 })).acked).toHaveLength(1);
    expect(calls).toBe(60);
    expect(errors).toEqual([]);
  });

  it("answers clients: 0 for a user with no live client without waiting for the push's timeout", async () => {
    const started = Date.now();
    expect(await api.push(`nobody-${Date.now()}`, { hi: 1 }, { timeoutMs: 30_000 })).toMatchObject({ clients: 0, acked: [], unacked: [] });
    // Waiting for the 30 s timeout would take 30 s: anything well under it is "at once".
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 45_000);

  it("reaches 32 clients of one user in 5 channels, and each acks", async () => {
    const userId = `many-${Date.now().toString(36)}`;
    const channels = Array.from({ length: 5 }, () => freshChannel("push-many"));
    await Promise.all(Array.from({ length: 32 }, (_, i) => client({ channel: channels[i % 5]!, userId, clientType: `t${i % 3}` }).then((c) => c.on("push", () => undefined))));
    await inDirectory(userId, 5);
    await waitFor("all 32 counted", async () => (await api.users([userId]))[userId]!.channels!.reduce((n, c) => n + c.clientAmount, 0) === 32);
    const result = await api.push(userId, { all: true }, { timeoutMs: 5000 });
    expect(result.clients).toBe(32);
    expect(result.acked).toHaveLength(32);
    expect(new Set(result.acked.map((t) => t.channel)).size).toBe(5);
  });

  it.each<[string, string, unknown, number, RegExp]>([
    ["data over the cap", "u", { data: "x".repeat(17_000) }, 413, /larger than 16384/],
    ["no data", "u", { id: "a" }, 400, /data/],
    ["a timeoutMs over the cap", "u", { data: 1, timeoutMs: 60_000 }, 400, /timeoutMs is over 30000/],
    ["a timeoutMs of zero", "u", { data: 1, timeoutMs: 0 }, 400, /timeoutMs/],
    ["a bad id", "u", { data: 1, id: "a b" }, 400, /push id may only hold/],
    ["a bad channel", "u", { data: 1, channel: "a/b" }, 400, /channel name/],
    ["a user id of 129 characters", "u".repeat(129), { data: 1 }, 400, /userId is longer than 128/],
  ])("refuses %s", async (_what, userId, body, status, message) => {
    const response = await fetch(`http://${host}/users/${encodeURIComponent(userId)}/push`, { method: "POST", body: JSON.stringify(body) });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
  });

  it("refuses a GET, and a client push while PRESENCE_CLIENT_PUSH is off", async () => {
    expect((await fetch(`http://${host}/users/u/push`)).status).toBe(405);
    const c = await client({ channel: freshChannel("push-off"), userId: "sender", requestTimeoutMs: 500 });
    const errors: string[] = [];
    c.on("error", (error) => errors.push(error.code));
    await expect(c.push("someone", { hi: 1 }, { timeoutMs: 300 })).rejects.toThrow(/no answer/);
    expect(errors).toEqual(["disabled"]);
    await waitFor("the refusal", async () => (await api.stats(c.channel)).rejectedMessages.disabled === 1);
  });
});

describe("pushes with the directory off, and from member to member (own server)", () => {
  let server: DevServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("needs a channel with the directory off, and lets a member push to another, naming the sender", async () => {
    server = await startDevServer({ vars: { PRESENCE_DIRECTORY: "off", PRESENCE_CLIENT_PUSH: "true" } });
    const local = createPresenceApi({ host: server.host });
    const channel = freshChannel("push-nodir");
    const ted = await client({ channel, userId: "ted" }, server.host);
    const ann = await client({ channel, userId: "ann" }, server.host);
    const seen: unknown[] = [];
    ted.on("push", (data, info) => void seen.push([data, info.from]));
    await expect(local.push("ted", { hi: 1 })).rejects.toThrow(/must name its channel/);
    expect(await local.push("ted", { hi: 2 }, { channel })).toMatchObject({ clients: 1, acked: [{ channel }] });
    const result = await ann.push("ted", { from: "ann" });
    expect(result).toMatchObject({ clients: 1, acked: [{ channel }] });
    expect(seen).toEqual([
      [{ hi: 2 }, null],
      [{ from: "ann" }, "ann"],
    ]);
    const users = await fetch(`http://${server.host}/users?userId=ted`);
    expect(users.status).toBe(404);
  });
});

describe("a push while the server is killed (own server)", () => {
  let server: DevServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("fails the request; the same id sent again after the restart reaches the client, whose app sees it once", async () => {
    server = await startDevServer();
    const userId = "survivor";
    const channel = freshChannel("push-crash");
    const c = presenceClient(server.host, { channel, userId });
    open.push(c);
    await c.ready();
    const seen: unknown[] = [];
    // Acks only after a while, so the first attempt is still waiting when the server dies.
    c.on("push", async (data) => {
      seen.push(data);
      await sleep(1500);
    });
    const local = createPresenceApi({ host: server.host });
    await inDirectory(userId, 1, local);
    const first = local.push(userId, { important: true }, { id: "crash-1", timeoutMs: 8000 }).then(
      () => "answered",
      (error: unknown) => error,
    );
    await waitFor("the push to arrive", () => seen.length === 1);
    const { port, persistDir } = server;
    await server.kill9();
    expect(await first, "the request fails when the server dies").toBeInstanceOf(Error);
    server = await startDevServer({ port, persistDir });
    await waitFor("the client back", () => c.socket.readyState === 1, 20_000);
    await inDirectory(userId, 1, local);
    const retry = await local.push(userId, { important: true }, { id: "crash-1", timeoutMs: 8000 });
    expect(retry).toMatchObject({ id: "crash-1", clients: 1, acked: [{ channel }] });
    expect(seen).toEqual([{ important: true }]);
  }, 60_000);
});
