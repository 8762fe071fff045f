/**
 * Presence as a third party sees it, against the shared `partykit dev` (grace 1000 ms,
 * tick 50 ms): counts and herenow with several clients per user and observers, every event
 * in order with the counts after it, leave versus close, reloads and reconnects within grace,
 * and userData updates.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { HereNowResponse, type Member, type PresenceEvent, ServerMessage } from "../../party/protocol/index.ts";
import type { ReadSync } from "../support/messages.ts";
import { TEST_VARS, sleep } from "../support/dev-server.ts";
import { freshChannel, getJson, joined, PROBE_PREFIX, quietUntil, type RawSocket, rawSocket, waitFor } from "../support/clients.ts";

const host = inject("host");
const GRACE_MS = Number(TEST_VARS.PRESENCE_GRACE_MS);
/** Several ticks: long enough for a diff already due to arrive. */
const SETTLE_MS = 6 * Number(TEST_VARS.PRESENCE_TICK_MS);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A PresenceClient closed after the test. */
async function client(options: Parameters<typeof joined>[1]): Promise<PresenceClient> {
  const c = await joined(host, options);
  cleanups.push(() => c.close());
  return c;
}

/**
 * A raw socket that pings (so the heartbeat check leaves it alone) and records what it gets.
 * Changes made just before it connected are already in its snapshot, but their diff may still
 * be on its way (it goes out at the end of the tick): `events()` skips what came in the first
 * few ticks, so it holds only what happened after the watcher was settled.
 */
type Watcher = RawSocket & {
  /** Every presence event of every diff after the watcher settled, in order. */
  events(): PresenceEvent[];
  /** Presence events about one user. */
  eventsOf(userId: string): PresenceEvent[];
};

async function watcher(channel: string, query: Record<string, string> = {}): Promise<Watcher> {
  const socket = await rawSocket(host, channel, query);
  await waitFor("the watcher's snapshot", () => socket.messages.some((m) => m.type === "sync" && !m.more));
  const pinger = setInterval(() => socket.ws.readyState === 1 && socket.send({ type: "ping" }), 1000);
  cleanups.push(() => {
    clearInterval(pinger);
    socket.ws.close();
  });
  await sleep(SETTLE_MS);
  const settledAt = socket.messages.length;
  // The probes of `quietUntil` are no part of what a test watches.
  const events = () => socket.messages.slice(settledAt).flatMap((m) => (m.type === "diff" ? m.events.filter((e) => !e.member.id.startsWith(PROBE_PREFIX)) : []));
  return Object.assign(socket, { events, eventsOf: (id: string) => events().filter((e) => e.member.id === id) });
}

/** herenow over HTTP for one channel, checked against the schema. */
async function httpHereNow(channel: string, query = "includeUsers=true") {
  const { status, body } = await getJson(host, `/parties/main/${channel}?${query}`);
  expect(status).toBe(200);
  return HereNowResponse.parse(body).content.channels[channel]!;
}

/** users sorted by id, so lists from two sources compare regardless of order. */
function byId<T extends { id: string }>(users: T[] | undefined): T[] {
  return [...(users ?? [])].sort((a, b) => a.id.localeCompare(b.id));
}

/** Asserts the diffs a raw socket got carry consecutive sequence numbers after its snapshot. */
function expectConsecutiveSeq(socket: RawSocket) {
  const sync = socket.messages.find((m) => m.type === "sync");
  const seqs = socket.messages.flatMap((m) => (m.type === "diff" ? [m.seq] : []));
  expect(sync).toBeDefined();
  expect(seqs).toEqual(seqs.map((_, i) => (sync as ReadSync).seq + 1 + i));
}

describe("two users with several clients each, and observers", () => {
  it("counts clients and users, lists users per client or once with distinct, and does not count observers", async () => {
    const channel = freshChannel();
    const observer = await client({ channel });
    const joins: string[] = [];
    observer.on("join", (event) => joins.push(event.member.id));

    await client({ channel, userId: "Jack", userData: { age: 18 }, clientType: "web" });
    await client({ channel, userId: "Jack", userData: { age: 18 }, clientType: "app" });
    for (const type of ["web", "ios", "pc"]) await client({ channel, userId: "Ted", userData: null, clientType: type });
    const secondObserver = await client({ channel });

    await waitFor("the observer to count 5 clients", () => observer.counts.clientAmount === 5);
    // Observers see presence, are not counted, and a user's second tab is no new join.
    expect(observer.counts).toEqual({ clientAmount: 5, userAmount: 2 });
    expect(joins).toEqual(["Jack", "Ted"]);
    expect(byId(observer.members).map((m) => [m.id, m.status, m.clients])).toEqual([
      ["Jack", "online", 2],
      ["Ted", "online", 3],
    ]);
    expect(secondObserver.members.map((m) => m.id).sort()).toEqual(["Jack", "Ted"]);

    // Each member carries its clients by type: "Jack is on web and app" is one read.
    expect(byId(observer.members).map((m) => [m.id, m.clientTypes])).toEqual([
      ["Jack", { web: 1, app: 1 }],
      ["Ted", { web: 1, ios: 1, pc: 1 }],
    ]);

    const perClient = [
      { id: "Jack", data: { age: 18 }, clientType: "web" },
      { id: "Jack", data: { age: 18 }, clientType: "app" },
      { id: "Ted", data: null, clientType: "web" },
      { id: "Ted", data: null, clientType: "ios" },
      { id: "Ted", data: null, clientType: "pc" },
    ];
    const distinct = [
      { id: "Jack", data: { age: 18 }, clientTypes: { web: 1, app: 1 } },
      { id: "Ted", data: null, clientTypes: { web: 1, ios: 1, pc: 1 } },
    ];
    const clientTypes = { web: 2, app: 1, ios: 1, pc: 1 };
    const cases = [
      { query: "includeUsers=true&distinct=false", options: { includeUsers: true, distinct: false }, users: perClient },
      { query: "includeUsers=true&distinct=true", options: { includeUsers: true, distinct: true }, users: distinct },
      { query: "includeUsers=true", options: { includeUsers: true }, users: perClient },
      { query: "", options: {}, users: undefined },
    ];
    for (const { query, options, users } of cases) {
      const overHttp = await httpHereNow(channel, query);
      expect(overHttp, `HTTP ?${query}`).toMatchObject({ channel, clientAmount: 5, userAmount: 2, clientTypes });
      expect(byId(overHttp.users), `HTTP ?${query}`).toEqual(users ?? []);
      expect("users" in overHttp, `HTTP ?${query}`).toBe(users !== undefined);

      for (const asker of [observer, secondObserver]) {
        const overSocket = HereNowResponse.parse(await asker.hereNow(options));
        const entry = overSocket.content.channels[channel]!;
        expect(entry, `socket ${JSON.stringify(options)}`).toMatchObject({ channel, clientAmount: 5, userAmount: 2, clientTypes });
        expect(byId(entry.users), `socket ${JSON.stringify(options)}`).toEqual(users ?? []);
        expect("users" in entry).toBe(users !== undefined);
      }
    }
  });

  it("tells others of a second tab only as a quiet change of the member's client count", async () => {
    const channel = freshChannel();
    await client({ channel, userId: "Jack" });
    const watch = await watcher(channel);
    await client({ channel, userId: "Jack" });
    await waitFor("the quiet change", () =>
      watch.messages.some((m) => m.type === "diff" && m.quiet.some((q) => q.id === "Jack" && q.clients === 2)),
    );
    expect(watch.events()).toEqual([]);
    const diff = watch.messages.find((m) => m.type === "diff" && m.quiet.length > 0);
    expect(diff).toMatchObject({ clientAmount: 2, userAmount: 1, events: [] });
  });
});

describe("each event, as a third client sees it", () => {
  it("sees join, update, offline, online and leave in order, each with the counts after it", async () => {
    const channel = freshChannel();
    const bob = await client({ channel, userId: "Bob" });
    const watch = await watcher(channel);

    const alice = await client({ channel, userId: "Alice", userData: { v: 1 } });
    await waitFor("join", () => watch.eventsOf("Alice").length === 1);
    alice.setUserData({ v: 2 });
    await waitFor("update", () => watch.eventsOf("Alice").length === 2);
    const closedAt = Date.now();
    alice.close();
    await waitFor("offline", () => watch.eventsOf("Alice").length === 3, GRACE_MS + 10_000);
    const offlineAfter = Date.now() - closedAt;
    const again = await client({ channel, userId: "Alice", userData: { v: 2 } });
    await waitFor("online", () => watch.eventsOf("Alice").length === 4);
    await again.leave();
    await waitFor("leave", () => watch.eventsOf("Alice").length === 5);

    const seen = watch.eventsOf("Alice").map((e) => ({
      action: e.action,
      status: e.member.status,
      data: e.member.data,
      clients: e.member.clients,
      clientAmount: e.clientAmount,
      userAmount: e.userAmount,
    }));
    expect(seen).toEqual([
      { action: "join", status: "online", data: { v: 1 }, clients: 1, clientAmount: 2, userAmount: 2 },
      { action: "update", status: "online", data: { v: 2 }, clients: 1, clientAmount: 2, userAmount: 2 },
      { action: "offline", status: "offline", data: { v: 2 }, clients: 0, clientAmount: 1, userAmount: 1 },
      { action: "online", status: "online", data: { v: 2 }, clients: 1, clientAmount: 2, userAmount: 2 },
      { action: "leave", status: "online", data: { v: 2 }, clients: 0, clientAmount: 1, userAmount: 1 },
    ]);
    expect(offlineAfter).toBeGreaterThanOrEqual(GRACE_MS - 50);
    // Nobody else's presence moved, and no diff was skipped.
    expect(watch.eventsOf("Bob")).toEqual([]);
    expectConsecutiveSeq(watch);
    // The offline member's times: offline since the end of grace, last seen when it dropped.
    const offline = watch.eventsOf("Alice")[2]!.member;
    expect(offline.since - offline.lastSeen).toBeGreaterThanOrEqual(GRACE_MS - 50);
    await waitFor("Bob's client to drop Alice", () => bob.member("Alice") === undefined);
  });

  it("shows leave at once but close as offline only after grace, and keeps the closed member as offline", async () => {
    const channel = freshChannel();
    const leaver = await client({ channel, userId: "Leaver", userData: { who: "L" } });
    const closer = await client({ channel, userId: "Closer", userData: { who: "C" } });
    const watch = await watcher(channel);

    const start = Date.now();
    const left = leaver.leave();
    closer.close();
    await left;
    await waitFor("the offline", () => watch.eventsOf("Closer").length === 1, GRACE_MS + 10_000);
    expect(Date.now() - start).toBeGreaterThanOrEqual(GRACE_MS - 50);
    // leave came at once, before the closed client's grace ran out, which still counted it then.
    expect(watch.events().map((e) => `${e.action} ${e.member.id}`)).toEqual(["leave Leaver", "offline Closer"]);
    expect(watch.eventsOf("Leaver")[0]).toMatchObject({ action: "leave", clientAmount: 1, userAmount: 1 });
    const offline = watch.eventsOf("Closer")[0]!;
    expect(offline).toMatchObject({
      action: "offline",
      member: { id: "Closer", status: "offline", clients: 0, data: { who: "C" } },
      clientAmount: 0,
      userAmount: 0,
    });
    // By the room's own clock: offline exactly one grace period after Closer was last seen.
    expect(offline.member.since - offline.member.lastSeen).toBe(GRACE_MS);

    // The offline member is kept (herenow lists online members only); the one that left is gone.
    expect(await httpHereNow(channel, "includeUsers=true&distinct=true")).toEqual({ channel, clientAmount: 0, userAmount: 0, clientTypes: {}, users: [] });
    const late = await client({ channel });
    expect(late.members.map((m: Member) => [m.id, m.status, m.data])).toEqual([["Closer", "offline", { who: "C" }]]);
    const { body } = await getJson(host, `/parties/main/${channel}?stats`);
    expect(body.content.members).toBe(1);
  });
});

describe("a user with two clients", () => {
  it("stays a member when one of its clients leaves, and leaves when the last one does", async () => {
    const channel = freshChannel();
    const first = await client({ channel, userId: "Two", userData: { t: 1 } });
    const second = await client({ channel, userId: "Two", userData: { t: 1 } });
    const watch = await watcher(channel);

    await first.leave();
    await waitFor("the quiet change", () =>
      watch.messages.some((m) => m.type === "diff" && m.quiet.some((q) => q.id === "Two" && q.clients === 1)),
    );
    expect(watch.events()).toEqual([]);
    expect(await httpHereNow(channel)).toEqual({ channel, clientAmount: 1, userAmount: 1, clientTypes: {}, users: [{ id: "Two", data: { t: 1 } }] });

    await second.leave();
    await waitFor("the leave", () => watch.eventsOf("Two").length === 1);
    expect(watch.events()).toMatchObject([{ action: "leave", member: { id: "Two" }, clientAmount: 0, userAmount: 0 }]);
  });

  it("goes offline only when its last client is gone past grace", async () => {
    const channel = freshChannel();
    const first = await client({ channel, userId: "Two" });
    const second = await client({ channel, userId: "Two" });
    const watch = await watcher(channel);

    first.close();
    // The first client's grace runs out: it stops counting, quietly.
    await waitFor("the first client to stop counting", async () => (await httpHereNow(channel)).clientAmount === 1, GRACE_MS + 10_000);
    expect(watch.events()).toEqual([]);
    expect(await httpHereNow(channel)).toMatchObject({ clientAmount: 1, userAmount: 1 });

    second.close();
    await waitFor("the offline", () => watch.eventsOf("Two").length === 1, GRACE_MS + 10_000);
    expect(watch.events()).toMatchObject([{ action: "offline", member: { id: "Two", status: "offline" }, clientAmount: 0, userAmount: 0 }]);
  });

  it("keeps the userData one client set when the user's other client reconnects (a blip is no event)", async () => {
    const channel = freshChannel();
    const setter = await client({ channel, userId: "Two", userData: { v: 1 } });
    const other = await client({ channel, userId: "Two", userData: { v: 1 } });
    const watch = await watcher(channel);

    setter.setUserData({ v: 2 });
    await waitFor("the update", () => watch.eventsOf("Two").length === 1);
    let syncs = 0;
    other.on("sync", () => syncs++);
    other.socket.reconnect();
    await waitFor("the other client's reconnect", () => syncs === 1);
    await sleep(SETTLE_MS);

    expect(watch.events().map((e) => [e.action, e.member.data])).toEqual([["update", { v: 2 }]]);
    expect((await httpHereNow(channel, "includeUsers=true&distinct=true")).users).toEqual([{ id: "Two", data: { v: 2 } }]);
  });
});

describe("reloads and reconnects within grace", () => {
  it("does not announce anything when a client closes and a new one of the same user connects within grace", async () => {
    const channel = freshChannel();
    const first = await client({ channel, userId: "Reloader", userData: { page: 1 } });
    const since = first.member("Reloader")!.since;
    const watch = await watcher(channel);

    const closedAt = Date.now();
    first.close();
    const second = await client({ channel, userId: "Reloader", userData: { page: 1 } });
    expect(second.connectionId).not.toBe(first.connectionId);
    // Past the first client's grace, and proven seen by the watcher.
    await quietUntil(host, channel, watch, closedAt + GRACE_MS + 300);

    expect(watch.events()).toEqual([]);
    expect(await httpHereNow(channel)).toEqual({ channel, clientAmount: 1, userAmount: 1, clientTypes: {}, users: [{ id: "Reloader", data: { page: 1 } }] });
    const member = second.member("Reloader")!;
    expect(member).toMatchObject({ status: "online", clients: 1, since });
  });

  it("does not announce anything when partysocket reconnects with the same connection id", async () => {
    const channel = freshChannel();
    const blip = await client({ channel, userId: "Blip" });
    const since = blip.member("Blip")!.since;
    const id = blip.connectionId;
    const watch = await watcher(channel);
    let syncs = 0;
    blip.on("sync", () => syncs++);

    const droppedAt = Date.now();
    blip.socket.reconnect();
    await waitFor("the reconnect's snapshot", () => syncs === 1);
    await quietUntil(host, channel, watch, droppedAt + GRACE_MS + 300);

    expect(blip.connectionId).toBe(id);
    expect(watch.events()).toEqual([]);
    expect(await httpHereNow(channel)).toEqual({ channel, clientAmount: 1, userAmount: 1, clientTypes: {}, users: [{ id: "Blip", data: null }] });
    expect(blip.member("Blip")).toMatchObject({ status: "online", clients: 1, since });
  });
});

describe("userData updates", () => {
  it("shows a change of userData as update, with the new data everywhere", async () => {
    const channel = freshChannel();
    const user = await client({ channel, userId: "U", userData: { name: "u", n: 1 } });
    const other = await client({ channel, userId: "Other" });
    const watch = await watcher(channel);
    const updates: unknown[] = [];
    other.on("update", (event) => updates.push(event.member.data));

    user.setUserData({ name: "u", n: 2 });
    await waitFor("the update", () => watch.eventsOf("U").length === 1);
    expect(watch.eventsOf("U")[0]).toMatchObject({
      action: "update",
      member: { id: "U", status: "online", data: { name: "u", n: 2 } },
      clientAmount: 2,
      userAmount: 2,
    });
    await waitFor("the other client's update", () => updates.length === 1);
    expect(updates).toEqual([{ name: "u", n: 2 }]);
    expect(other.member("U")!.data).toEqual({ name: "u", n: 2 });
    expect((await httpHereNow(channel, "includeUsers=true&distinct=true")).users).toContainEqual({ id: "U", data: { name: "u", n: 2 } });
  });

  it.each([
    { name: "the same data", data: { name: "u", n: 1, tags: ["a"] } },
    { name: "the same data with its keys in another order", data: { tags: ["a"], n: 1, name: "u" } },
  ])("does not announce an update with $name", async ({ data }) => {
    const channel = freshChannel();
    const user = await client({ channel, userId: "U", userData: { name: "u", n: 1, tags: ["a"] } });
    const watch = await watcher(channel);

    user.setUserData(data);
    // A later, known event: had the update produced one, it would come before this join.
    await client({ channel, userId: "Sentinel" });
    await waitFor("the sentinel's join", () => watch.eventsOf("Sentinel").length === 1);
    expect(watch.events().map((e) => [e.action, e.member.id])).toEqual([["join", "Sentinel"]]);
  });
});
