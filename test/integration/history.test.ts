/**
 * A channel's presence history (`GET /parties/main/CHANNEL?history`) against real dev servers:
 * the events its clients heard, with the same seq and counts; pages with a cursor and `since`;
 * bad queries refused and counted; the server key; the cap (PRESENCE_HISTORY_MAX) and the age
 * (PRESENCE_HISTORY_MS), each on a server of its own; every member's events in interval mode;
 * and the history across a kill -9.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createPresenceApi, PresenceHttpError } from "../../client/server.ts";
import { type HistoryEvent, HistoryResponse, type RoomStats, StatsResponse } from "../../party/protocol/index.ts";
import { freshChannel, getJson, joined, rawSocket, type RawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import type { ReadDiff } from "../support/messages.ts";

const sharedHost = inject("host");
const SERVER_KEY = "history-server-key-0123456789";
/** The keyed server's cap, and the members past which its channels go to interval mode. */
const HISTORY_MAX = 8;
const ANNOUNCE_MAX = 3;
const HISTORY_MS = 3000;

let keyed: DevServer;
let ageing: DevServer;
beforeAll(async () => {
  [keyed, ageing] = await Promise.all([
    startDevServer({ vars: { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_HISTORY_MAX: String(HISTORY_MAX), PRESENCE_ANNOUNCE_MAX: String(ANNOUNCE_MAX) } }),
    startDevServer({ vars: { PRESENCE_HISTORY_MS: String(HISTORY_MS) } }),
  ]);
});
afterAll(async () => {
  await Promise.all([keyed?.stop(), ageing?.stop()]);
});

const closers: Array<() => void> = [];
const servers: DevServer[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const server of servers.splice(0)) await server.stop();
});

async function observer(host: string, channel: string, query: Record<string, string> = {}): Promise<RawSocket> {
  const socket = await rawSocket(host, channel, query);
  closers.push(() => socket.ws.close());
  return socket;
}

/** Every event a raw socket heard, as the history should hold it. */
function heard(socket: RawSocket) {
  return socket.messages
    .filter((m): m is ReadDiff => m.type === "diff")
    .flatMap((diff) => diff.events.map((e) => ({ seq: diff.seq, action: e.action, id: e.member.id, data: e.member.data, status: e.member.status, clientAmount: e.clientAmount, userAmount: e.userAmount })));
}

/** An event in the same terms as `heard`. */
const brief = (e: HistoryEvent) => ({ seq: e.seq, action: e.action, id: e.member.id, data: e.member.data, status: e.member.status, clientAmount: e.clientAmount, userAmount: e.userAmount });
const order = (a: { seq: number; id: string }, b: { seq: number; id: string }) => a.seq - b.seq || a.id.localeCompare(b.id);

/** Every page of a channel's history, following cursors. */
async function wholeHistory(api: ReturnType<typeof createPresenceApi>, channel: string, limit = 1000): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.history(channel, { limit, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.channel).toBe(channel);
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return events;
}

/** The whole history once it holds `n` events (an HTTP client's change is stored with the next tick, after its answer). */
function holding(api: ReturnType<typeof createPresenceApi>, channel: string, n: number, limit?: number): Promise<HistoryEvent[]> {
  return waitFor(`${n} events in the history`, async () => {
    const events = await wholeHistory(api, channel, limit);
    return events.length === n ? events : null;
  });
}

async function stats(host: string, channel: string, key?: string): Promise<RoomStats> {
  const response = await fetch(`http://${host}/parties/main/${channel}?stats`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return StatsResponse.parse(await response.json()).content;
}

describe("on the shared server (no key: open)", () => {
  const api = createPresenceApi({ host: sharedHost });

  it("keeps every event its clients heard, with the same seq, member and counts, oldest first", async () => {
    const channel = freshChannel("history");
    const watcher = await observer(sharedHost, channel);
    const ann = await joined(sharedHost, { channel, userId: "ann", userData: { v: 1 } });
    closers.push(() => ann.close());
    const bob = await joined(sharedHost, { channel, userId: "bob" });
    closers.push(() => bob.close());
    ann.setUserData({ v: 2 });
    await bob.leave();
    ann.close();
    // Offline after the grace period: every kind but online.
    await waitFor("ann's offline", () => heard(watcher).some((e) => e.action === "offline" && e.id === "ann"));
    const events = await wholeHistory(api, channel);
    expect(events.map(brief).sort(order)).toEqual(heard(watcher).sort(order));
    expect(new Set(events.map((e) => e.action))).toEqual(new Set(["join", "update", "leave", "offline"]));
    // Oldest first: seq and time never go back.
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.seq).toBeGreaterThanOrEqual(events[i - 1]!.seq);
      expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
    }
    expect((await stats(sharedHost, channel)).historyEvents).toBe(events.length);
  });

  it("pages with a cursor until the last page, and since picks the events from a time on", async () => {
    const channel = freshChannel("history-pages");
    for (let i = 0; i < 5; i++) await api.heartbeat(channel, `c${i}`, { userId: `u${i}`, ttlMs: 60_000 });
    const all = await holding(api, channel, 5);
    expect(all.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join u0", "join u1", "join u2", "join u3", "join u4"]);
    const first = await api.history(channel, { limit: 2 });
    expect(first.events).toEqual(all.slice(0, 2));
    expect(first.cursor).toEqual(expect.any(String));
    const second = await api.history(channel, { limit: 2, cursor: first.cursor! });
    expect(second.events).toEqual(all.slice(2, 4));
    const last = await api.history(channel, { limit: 2, cursor: second.cursor! });
    expect(last).toEqual({ channel, events: all.slice(4) });
    expect(await wholeHistory(api, channel, 1)).toEqual(all);
    // since: events at or after that time.
    const since = all[3]!.at;
    expect((await api.history(channel, { since })).events).toEqual(all.filter((e) => e.at >= since));
    for (const page of [await api.history(channel, { since: Date.now() + 3_600_000 }), await getJson(sharedHost, `/parties/main/${freshChannel("history-none")}?history`).then((r) => HistoryResponse.parse(r.body).content)]) {
      expect(page.events).toEqual([]);
      expect(page.cursor).toBeUndefined();
    }
    for (let i = 0; i < 5; i++) await api.removeClient(channel, `c${i}`);
  });

  it("refuses a bad since, limit or cursor with 400 bad_request, counting each, and changes nothing", async () => {
    const channel = freshChannel("history-bad");
    await api.heartbeat(channel, "c", { userId: "u", ttlMs: 60_000 });
    await holding(api, channel, 1);
    const before = await stats(sharedHost, channel);
    const bad = ["since=abc", "since=-5", "since=1.5", "limit=0", "limit=1001", "limit=ten", "cursor=zz", "cursor=-1", "cursor=99999999"];
    for (const query of bad) {
      const { status, body } = await getJson(sharedHost, `/parties/main/${channel}?history&${query}`);
      expect({ query, status, body }).toEqual({ query, status: 400, body: { code: 400, error: "bad_request", message: expect.any(String) } });
      expect(body.message).toMatch(query.startsWith("since") ? /since/ : query.startsWith("limit") ? /limit/ : /cursor/);
    }
    const after = await stats(sharedHost, channel);
    expect((after.refusedRequests.bad_request ?? 0) - (before.refusedRequests.bad_request ?? 0)).toBe(bad.length);
    expect(after.historyEvents).toBe(1);
    await expect(api.history(channel, { limit: 0 })).rejects.toMatchObject({ code: 400, error: "bad_request" } satisfies Partial<PresenceHttpError>);
    expect((await api.history(channel)).events.map((e) => e.member.id)).toEqual(["u"]);
    await api.removeClient(channel, "c");
  });
});

describe(`with a server key, PRESENCE_HISTORY_MAX=${HISTORY_MAX} and PRESENCE_ANNOUNCE_MAX=${ANNOUNCE_MAX}`, () => {
  const api = () => createPresenceApi({ host: keyed.host, serverKey: SERVER_KEY });

  it("refuses a missing or wrong server key with 401, counting each, and answers the right one", async () => {
    const channel = freshChannel("history-key");
    await api().heartbeat(channel, "c", { userId: "u", ttlMs: 60_000 });
    await holding(api(), channel, 1);
    const before = await stats(keyed.host, channel, SERVER_KEY);
    const missing = await fetch(`http://${keyed.host}/parties/main/${channel}?history`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: 401, error: "unauthorized", message: expect.stringContaining("missing server key") });
    await expect(createPresenceApi({ host: keyed.host, serverKey: "not-the-key-0123456789" }).history(channel)).rejects.toMatchObject({ code: 401, error: "unauthorized" });
    await waitFor("both refusals counted", async () => ((await stats(keyed.host, channel, SERVER_KEY)).refusedRequests.unauthorized ?? 0) - (before.refusedRequests.unauthorized ?? 0) === 2);
    expect((await api().history(channel)).events.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join u"]);
    await api().removeClient(channel, "c");
  });

  it("keeps only the newest PRESENCE_HISTORY_MAX events, dropping the oldest first", async () => {
    const channel = freshChannel("history-cap");
    const total = HISTORY_MAX + 3;
    // One by one (each request answered before the next): the order of the events is the order of the requests.
    for (let i = 0; i < total; i++) await api().heartbeat(channel, `c${String(i).padStart(2, "0")}`, { userId: `u${String(i).padStart(2, "0")}`, ttlMs: 60_000 });
    const newest = `u${String(total - 1).padStart(2, "0")}`;
    // The last join is stored with a tick after its answer: wait for it in one page, then page
    // through a history that no longer moves (pages read while ticks still append would mix states).
    await waitFor(`${newest}'s join`, async () => (await api().history(channel)).events.at(-1)?.member.id === newest);
    const events = await wholeHistory(api(), channel, 3);
    expect(events.map((e) => e.member.id)).toEqual(Array.from({ length: HISTORY_MAX }, (_, i) => `u${String(i + 3).padStart(2, "0")}`));
    expect((await stats(keyed.host, channel, SERVER_KEY)).historyEvents).toBe(HISTORY_MAX);
  });

  it("in interval mode keeps every member's events, not only those of the observer's window, with the seq and counts it heard", async () => {
    const channel = freshChannel("history-interval");
    const watcher = await observer(keyed.host, channel, { window: "1" });
    for (const id of ["a0", "a1", "a2", "a3"]) await api().heartbeat(channel, id, { userId: id, ttlMs: 60_000 });
    await waitFor("interval mode", () => watcher.messages.some((m) => m.type === "sync" && m.mode === "interval"));
    for (const id of ["z0", "z1", "z2"]) await api().heartbeat(channel, id, { userId: id, ttlMs: 60_000 });
    await waitFor("the counts of 7", () => watcher.messages.some((m) => m.type === "diff" && m.userAmount === 7));
    const events = await wholeHistory(api(), channel);
    expect(events.map((e) => `${e.action} ${e.member.id}`)).toEqual(["a0", "a1", "a2", "a3", "z0", "z1", "z2"].map((id) => `join ${id}`));
    // Out of its window (the first member by userId), the observer heard the z's only as counts...
    expect(heard(watcher).filter((e) => e.id.startsWith("z"))).toEqual([]);
    // ...in diffs numbered and counted as the history says.
    const diffs = new Map(watcher.messages.filter((m): m is ReadDiff => m.type === "diff").map((d) => [d.seq, d]));
    for (const event of events.filter((e) => e.member.id.startsWith("z"))) {
      expect(diffs.get(event.seq), `the diff of seq ${event.seq}`).toMatchObject({ clientAmount: event.clientAmount, userAmount: event.userAmount });
    }
  });
});

describe(`with PRESENCE_HISTORY_MS=${HISTORY_MS}`, () => {
  it("drops events past their age: gone from the answer, then swept from the room's storage", async () => {
    const api = createPresenceApi({ host: ageing.host });
    const channel = freshChannel("history-age");
    await api.heartbeat(channel, "c", { userId: "u", ttlMs: 60_000 });
    // A join and a leave within one tick cancel: the leave goes once the join is stored.
    await waitFor("the join kept", async () => (await stats(ageing.host, channel)).historyEvents === 1);
    await api.removeClient(channel, "c");
    // Kept in storage (the stats count rows, not what the answer may still show)...
    await waitFor("two events kept", async () => (await stats(ageing.host, channel)).historyEvents === 2);
    await waitFor("the events to age out of the answer", async () => (await api.history(channel)).events.length === 0);
    // The room's alarm sweeps them; the stats count what its storage keeps.
    await waitFor("the sweep", async () => (await stats(ageing.host, channel)).historyEvents === 0);
  });
});

describe("across a kill -9", () => {
  it("keeps the history, and numbers on after it without overwriting an event", async () => {
    const first = await startDevServer();
    servers.push(first);
    const { port, persistDir } = first;
    const api = createPresenceApi({ host: first.host });
    const channel = freshChannel("history-restart");
    await api.heartbeat(channel, "ann-1", { userId: "ann", ttlMs: 600_000 });
    await api.heartbeat(channel, "bob-1", { userId: "bob", ttlMs: 600_000 });
    // A join and a leave within one tick cancel: the leave goes once the join is stored.
    await holding(api, channel, 2);
    await api.removeClient(channel, "bob-1");
    const before = await holding(api, channel, 3);

    await first.kill9();
    servers.splice(servers.indexOf(first), 1);
    const second = await startDevServer({ port, persistDir });
    servers.push(second);

    expect(await wholeHistory(api, channel)).toEqual(before);
    await api.heartbeat(channel, "carl-1", { userId: "carl", ttlMs: 600_000 });
    const after = await waitFor("carl's join", async () => {
      const events = await wholeHistory(api, channel);
      return events.some((e) => e.member.id === "carl") ? events : null;
    });
    expect(after.slice(0, 3)).toEqual(before);
    expect(after.slice(3).map((e) => `${e.action} ${e.member.id}`)).toEqual(["join carl"]);
    expect(after[3]!.seq).toBeGreaterThan(before[2]!.seq);
    expect((await stats(second.host, channel)).historyEvents).toBe(4);
  }, 120_000);
});
