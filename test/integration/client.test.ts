/**
 * The PresenceClient against the shared `partykit dev`: its member list equals herenow after
 * a series of actions, it resyncs after a reconnect and after a sequence gap, and it refuses
 * bad options locally, before dialing.
 */
import { isDeepStrictEqual } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type ClientPresenceEvent, PresenceClient, type PresenceClientOptions } from "../../client/index.ts";
import { MAX_JSON_DEPTH } from "../../party/wire/json.ts";
import { HereNowResponse, StatsResponse } from "../../party/protocol/index.ts";
import { type DevServer, TEST_VARS, sleep, startDevServer } from "../support/dev-server.ts";
import { freshChannel, getJson, joined, presenceClient, refusedConnect, waitFor } from "../support/clients.ts";

const host = inject("host");
const GRACE_MS = Number(TEST_VARS.PRESENCE_GRACE_MS);
const SETTLE_MS = 6 * Number(TEST_VARS.PRESENCE_TICK_MS);

const open: PresenceClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function client(options: Omit<PresenceClientOptions, "host">): Promise<PresenceClient> {
  const c = await joined(host, options);
  open.push(c);
  return c;
}

/** The online members as herenow would list them per client: id, data and client count. */
function clientView(c: PresenceClient) {
  return {
    clientAmount: c.counts.clientAmount,
    userAmount: c.counts.userAmount,
    users: c.online.map((m) => ({ id: m.id, data: m.data, clients: m.clients })).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** herenow over HTTP in the same form as `clientView`. */
async function httpView(channel: string) {
  const { body } = await getJson(host, `/parties/main/${channel}?includeUsers=true&distinct=false`);
  const entry = HereNowResponse.parse(body).content.channels[channel]!;
  const users = new Map<string, { id: string; data: unknown; clients: number }>();
  for (const user of entry.users ?? []) {
    const seen = users.get(user.id);
    if (seen) seen.clients++;
    else users.set(user.id, { id: user.id, data: user.data, clients: 1 });
  }
  return {
    clientAmount: entry.clientAmount,
    userAmount: entry.userAmount,
    users: [...users.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** Waits until the client's list equals herenow, then asserts it (for a readable diff if not). */
async function expectListEqualsHereNow(c: PresenceClient, channel: string) {
  await waitFor("the client's list to equal herenow", async () => isDeepStrictEqual(clientView(c), await httpView(channel)));
  expect(clientView(c)).toEqual(await httpView(channel));
}

describe("the member list", () => {
  it("equals HTTP herenow after joins, second tabs, updates, leaves and closes", async () => {
    const channel = freshChannel();
    const watcher = await client({ channel });
    const actions: string[] = [];
    watcher.on("presence", (event) => actions.push(`${event.action} ${event.member.id}`));

    // Each step waits until the watcher has seen it: a join and a leave in one tick would cancel.
    const seen = (n: number) => waitFor(`${n} events`, () => actions.length === n);
    const a1 = await client({ channel, userId: "A", userData: { a: 1 }, clientType: "web" });
    await seen(1);
    await client({ channel, userId: "A", userData: { a: 1 }, clientType: "app" });
    await waitFor("A's second tab", () => watcher.member("A")?.clients === 2);
    const b = await client({ channel, userId: "B", userData: { b: 1 } });
    await seen(2);
    const c = await client({ channel, userId: "C" });
    await seen(3);
    const d = await client({ channel, userId: "D", userData: { d: 1 } });
    await seen(4);
    b.setUserData({ b: 2 });
    await seen(5);
    await c.leave();
    await seen(6);
    a1.close();
    d.close();
    const e = await client({ channel, userId: "E", userData: "e" });

    await waitFor("D to go offline", () => watcher.member("D")?.status === "offline", GRACE_MS + 10_000);
    await expectListEqualsHereNow(watcher, channel);
    await expectListEqualsHereNow(e, channel);
    expect(watcher.members.map((m) => [m.id, m.status, m.clients, m.data]).sort()).toEqual([
      ["A", "online", 1, { a: 1 }],
      ["B", "online", 1, { b: 2 }],
      ["D", "offline", 0, { d: 1 }],
      ["E", "online", 1, "e"],
    ]);
    expect(watcher.counts).toEqual({ clientAmount: 3, userAmount: 3 });
    expect(actions).toEqual(["join A", "join B", "join C", "join D", "update B", "leave C", "join E", "offline D"]);
  });

  it("reports what changed while its socket was down as resync events, then equals herenow", async () => {
    const channel = freshChannel();
    const leaver = await client({ channel, userId: "Leaver" });
    const updater = await client({ channel, userId: "Updater", userData: 1 });
    const dropper = await client({ channel, userId: "Dropper" });
    const watcher = await client({ channel });
    const helper = await client({ channel });
    await sleep(SETTLE_MS);
    let syncs = 0;
    watcher.on("sync", () => syncs++);
    const events: ClientPresenceEvent[] = [];
    watcher.on("presence", (event) => events.push(event));

    watcher.socket.close();
    await leaver.leave();
    updater.setUserData(2);
    await client({ channel, userId: "Newcomer" });
    dropper.close();
    await waitFor("the dropper to go offline", () => helper.member("Dropper")?.status === "offline", GRACE_MS + 10_000);
    await waitFor("the helper to see everything", () => helper.member("Newcomer") && helper.member("Updater")?.data === 2);
    expect(events).toEqual([]);

    watcher.socket.reconnect();
    await waitFor("the resync", () => syncs === 1);
    expect(events.map((e) => [e.action, e.member.id, e.resync]).sort()).toEqual([
      ["join", "Newcomer", true],
      ["leave", "Leaver", true],
      ["offline", "Dropper", true],
      ["update", "Updater", true],
    ]);
    expect(watcher.member("Updater")!.data).toBe(2);
    expect(watcher.member("Leaver")).toBeUndefined();
    await expectListEqualsHereNow(watcher, channel);
  });

  it("equals herenow after partysocket reconnects repeatedly while others come and go", async () => {
    const channel = freshChannel();
    const watcher = await client({ channel });
    const others: PresenceClient[] = [];
    for (let round = 0; round < 6; round++) {
      watcher.socket.reconnect();
      const joiner = presenceClient(host, { channel, userId: `U${round}`, userData: { round } });
      open.push(joiner);
      others.push(joiner);
      await joiner.ready();
      if (round % 2 === 1) await others[round - 1]!.leave();
      if (round % 3 === 2) joiner.setUserData({ round, updated: true });
      await sleep(20 * round);
    }
    await waitFor("the watcher to be open", () => watcher.socket.readyState === 1);
    await expectListEqualsHereNow(watcher, channel);
    expect(watcher.online.map((m) => m.id).sort()).toEqual(["U1", "U3", "U5"]);
    expect(watcher.member("U5")!.data).toEqual({ round: 5, updated: true });
  });

  it("asks for a new snapshot when it sees a sequence gap and does not apply the diff after the gap", async () => {
    const channel = freshChannel();
    await client({ channel, userId: "Real" });
    const watcher = await client({ channel });
    await sleep(SETTLE_MS);
    let syncs = 0;
    watcher.on("sync", () => syncs++);
    const joins: string[] = [];
    watcher.on("join", (event) => joins.push(event.member.id));

    // A diff far ahead of the client's sequence: something was missed.
    const gapped = { type: "diff", seq: 1e9, now: Date.now(), clientAmount: 99, userAmount: 99, join: [["Ghost", null]] };
    watcher.socket.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(gapped) }));

    await waitFor("the fresh snapshot", () => syncs === 1);
    expect(watcher.member("Ghost")).toBeUndefined();
    expect(joins).toEqual([]);
    expect(watcher.counts).toEqual({ clientAmount: 1, userAmount: 1 });

    // Diffs from the room apply again after the snapshot.
    await client({ channel, userId: "After" });
    await waitFor("the next join", () => joins.includes("After"));
    expect(joins).toEqual(["After"]);
    await expectListEqualsHereNow(watcher, channel);
  });
});

describe("a snapshot taken in the middle of a tick (own server, 10 s ticks)", () => {
  const TICK_MS = 10_000;
  let server: DevServer;
  beforeAll(async () => {
    // Long ticks, so the watcher surely connects before the tick that announces U closes, even on a loaded machine.
    server = await startDevServer({ vars: { PRESENCE_TICK_MS: String(TICK_MS) } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("shows a watcher that connects mid-tick the last tick's channel, then one join with the data after the tick", async () => {
    const channel = freshChannel();
    // A lone change goes out at once and opens a tick: the opener's join does, and U's, right after it, waits for the tick's end.
    const opener = await joined(server.host, { channel, userId: "O" });
    open.push(opener);
    await waitFor("the opener's own join", () => opener.member("O"));
    const user = presenceClient(server.host, { channel, userId: "U", userData: { v: 1 } });
    open.push(user);
    await waitFor("U's socket to open", () => user.socket.readyState === 1);
    // Connects while the tick that will announce U's join is still open.
    const watcher = await joined(server.host, { channel });
    open.push(watcher);
    expect(watcher.member("O"), "the snapshot is the last tick's channel: the opener").toBeDefined();
    expect(watcher.member("U"), "the snapshot is the last tick's channel, without U").toBeUndefined();
    const seen: string[] = [];
    watcher.on("presence", (event) => seen.push(`${event.action} ${event.member.id} ${JSON.stringify(event.member.data)}`));
    user.setUserData({ v: 2 });

    await waitFor("the watcher to see U", () => watcher.member("U"), TICK_MS + 10_000);
    expect(seen).toEqual(['join U {"v":2}']);
    await user.ready();
    expect(user.member("U")).toMatchObject({ status: "online", data: { v: 2 } });
  }, 45_000);
});

describe("leave and close", () => {
  it("does not come back after leave(), nor after close()", async () => {
    const channel = freshChannel();
    const watcher = await client({ channel });
    const leaver = await client({ channel, userId: "Leaver" });
    const closer = await client({ channel, userId: "Closer" });
    await leaver.leave();
    closer.close();
    await waitFor("Closer to go offline for the watcher", () => watcher.member("Closer")?.status === "offline", GRACE_MS + 10_000);
    expect(leaver.socket.readyState).toBe(3);
    expect(closer.socket.readyState).toBe(3);
    expect(watcher.member("Leaver")).toBeUndefined();
    expect(watcher.member("Closer")?.status).toBe("offline");
    expect(await httpView(channel)).toEqual({ clientAmount: 0, userAmount: 0, users: [] });
  });

  it("reconnects with the latest userData, so a reconnect after setUserData announces nothing more", async () => {
    const channel = freshChannel();
    const user = await client({ channel, userId: "U", userData: { v: 1 } });
    const watcher = await client({ channel });
    await sleep(SETTLE_MS);
    const actions: string[] = [];
    watcher.on("presence", (event) => actions.push(event.action));
    user.setUserData({ v: 2 });
    await waitFor("the update", () => actions.length === 1);
    user.socket.reconnect();
    let syncs = 0;
    user.on("sync", () => syncs++);
    await waitFor("the reconnect", () => syncs === 1);
    await sleep(SETTLE_MS);
    expect(actions).toEqual(["update"]);
    expect(user.member("U")!.data).toEqual({ v: 2 });
    expect((await httpView(channel)).users).toEqual([{ id: "U", data: { v: 2 }, clients: 1 }]);
  });
});

describe("local validation", () => {
  const deep = JSON.parse("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1));
  const cases: Array<{ name: string; options: Partial<PresenceClientOptions>; message: RegExp; dials?: false }> = [
    { name: "a channel name with a space", options: { channel: "bad name" }, message: /bad channel name/ },
    { name: "an empty channel name", options: { channel: "" }, message: /channel name is empty/ },
    { name: "a channel name of 129 characters", options: { channel: "c".repeat(129) }, message: /longer than 128/ },
    { name: "an empty userId", options: { userId: "" }, message: /userId is empty/ },
    { name: "a userId of 129 characters", options: { userId: "u".repeat(129) }, message: /userId is longer than 128/ },
    { name: "userData over 4 KiB", options: { userId: "u", userData: "x".repeat(4095) }, message: /larger than 4096 bytes/ },
    { name: "userData over the configured cap", options: { userId: "u", userData: "x".repeat(20), maxUserDataBytes: 16 }, message: /larger than 16 bytes/ },
    { name: "userData nested too deep", options: { userId: "u", userData: deep }, message: /nests deeper than 32/ },
    { name: "userData without a userId", options: { userData: { a: 1 } }, message: /userData needs a userId/ },
    { name: "a clientType with a space", options: { userId: "u", clientType: "my app" }, message: /clientType may only hold/ },
    { name: "a clientType of 33 characters", options: { userId: "u", clientType: "t".repeat(33) }, message: /clientType is longer than 32/ },
  ];

  it.each(cases)("throws on $name before dialing", async ({ options, message }) => {
    const channel = freshChannel();
    expect(() => presenceClient(host, { channel, ...options })).toThrow(message);
    if (options.channel !== undefined) {
      // No room to ask: the service itself refuses that channel the same way (an empty name is no room URL at all).
      const refused = await refusedConnect(host, `/parties/main/${encodeURIComponent(options.channel)}`);
      if (options.channel === "") expect(refused.status).toBe(404);
      else expect({ status: refused.status, message: JSON.parse(refused.body).message }).toEqual({ status: 400, message: expect.stringMatching(message) });
      return;
    }
    await sleep(SETTLE_MS);
    const { body } = await getJson(host, `/parties/main/${channel}?stats`);
    const stats = StatsResponse.parse(body).content;
    // Refused locally: the room never saw a socket, nor a connect to refuse.
    expect(stats.sockets).toBe(0);
    expect(stats.refusedConnections).toEqual({});
  });

  it.each([
    { name: "userData over 4 KiB", userId: "u", data: "x".repeat(4095), message: /larger than 4096 bytes/ },
    { name: "any userData on an observer", userId: undefined, data: { a: 1 }, message: /observer has no userData/ },
  ])("refuses setUserData with $name locally and sends nothing", async ({ userId, data, message }) => {
    const channel = freshChannel();
    const c = await client({ channel, userId });
    await sleep(SETTLE_MS);
    expect(() => c.setUserData(data)).toThrow(message);
    // A request over the same socket: answered only after the room handled whatever was sent before it.
    await c.hereNow();
    const { body } = await getJson(host, `/parties/main/${channel}?stats`);
    expect(StatsResponse.parse(body).content.rejectedMessages).toEqual({});
    if (userId) expect(c.member(userId)!.data).toBeNull();
  });
});
