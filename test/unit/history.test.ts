/**
 * A channel's presence history as pure logic (`HistoryLog`), against an in-memory "storage" of
 * its rows and a clock of the test's own: numbering, the cap, expiry by age, pages with a
 * cursor, `since`, a restart from the stored range, and the reads it costs; and, through the
 * in-memory service, who may read it.
 */
import { describe, expect, it } from "vitest";
import { HISTORY_PREFIX, historyKey, HistoryLog, type HistorySettings, type PageQuery } from "../../party/channel/history.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import type { HistoryEvent, Member, PresenceEvent } from "../../party/protocol/index.ts";
import { memoryService, requestThroughEdge } from "../support/memory-edge.ts";
import { SECRET, token } from "../support/tokens.ts";

const HOUR = 3_600_000;

function member(id: string): Member {
  return { id, data: null, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0 };
}

function joins(...ids: string[]): PresenceEvent[] {
  return ids.map((id, i) => ({ action: "join", member: member(id), clientAmount: i + 1, userAmount: i + 1 }));
}

/** A log over a Map of rows, as the room keeps it in storage; counts the reads. */
function world(settings: Partial<HistorySettings> = {}) {
  const rows = new Map<string, HistoryEvent>();
  const config = { historyMs: 24 * HOUR, historyMax: 10_000, ...settings };
  let reads = 0;
  const readTime = async (n: number) => {
    reads++;
    return rows.get(historyKey(n))?.at;
  };
  const readRange = async (from: number, to: number) => {
    reads++;
    return [...rows.keys()].filter((key) => key >= historyKey(from) && key < historyKey(to)).sort().map((key) => rows.get(key)!);
  };
  const log = new HistoryLog(config);
  return {
    log,
    rows,
    config,
    reads: () => reads,
    /** One tick: its events appended and its write applied, as the room's one storage write does. */
    tick(events: PresenceEvent[], seq: number, now: number) {
      const write = log.append(events, seq, now);
      for (const [key, row] of write.rows) rows.set(key, row);
      for (const key of write.drops) rows.delete(key);
      return write;
    },
    async sweep(now: number) {
      for (const key of await log.sweep(now, readTime)) rows.delete(key);
    },
    page: (query: Partial<PageQuery>, now: number) => log.page({ limit: 100, ...query }, now, readTime, readRange),
    /** Every page from the start, following cursors. */
    async all(query: Partial<PageQuery>, now: number) {
      const seen: HistoryEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await log.page({ limit: 100, ...query, cursor }, now, readTime, readRange);
        if ("error" in page) throw new Error(page.error);
        seen.push(...page.events);
        cursor = page.cursor;
      } while (cursor !== undefined);
      return seen;
    },
  };
}

const ids = (events: HistoryEvent[]) => events.map((e) => e.member.id);

describe("HistoryLog", () => {
  it("keeps each tick's events in order with the tick's seq, time and counts, one row per event", async () => {
    const w = world();
    const write = w.tick(joins("a", "b"), 1, 1000);
    expect(write.rows.map(([key]) => key)).toEqual([historyKey(0), historyKey(1)]);
    expect(write.rows.every(([key]) => key.startsWith(HISTORY_PREFIX))).toBe(true);
    w.tick([{ action: "offline", member: { ...member("a"), status: "offline", clients: 0 }, clientAmount: 1, userAmount: 1 }], 2, 2000);
    const page = await w.page({}, 3000);
    expect(page).toEqual({
      events: [
        { action: "join", member: member("a"), clientAmount: 1, userAmount: 1, seq: 1, at: 1000 },
        { action: "join", member: member("b"), clientAmount: 2, userAmount: 2, seq: 1, at: 1000 },
        { action: "offline", member: { ...member("a"), status: "offline", clients: 0 }, clientAmount: 1, userAmount: 1, seq: 2, at: 2000 },
      ],
    });
    expect(w.log.size).toBe(3);
  });

  it("never stamps an event earlier than the one before (a clock that went back)", async () => {
    const w = world();
    w.tick(joins("a"), 1, 5000);
    w.tick(joins("b"), 2, 4000);
    const page = await w.page({}, 6000);
    expect("events" in page && page.events.map((e) => e.at)).toEqual([5000, 5000]);
  });

  it("drops the oldest events past PRESENCE_HISTORY_MAX in the same write that adds the new ones", async () => {
    const w = world({ historyMax: 3 });
    w.tick(joins("a", "b"), 1, 1000);
    const write = w.tick(joins("c", "d"), 2, 2000);
    expect(write.drops).toEqual([historyKey(0)]);
    expect(w.rows.size).toBe(3);
    expect(ids(await w.all({}, 3000))).toEqual(["b", "c", "d"]);
    // A tick bigger than the cap keeps only its newest events.
    const big = w.tick(joins("e", "f", "g", "h"), 3, 3000);
    expect(big.drops).toEqual([historyKey(1), historyKey(2), historyKey(3), historyKey(4)]);
    expect(ids(await w.all({}, 3000))).toEqual(["f", "g", "h"]);
    expect(w.log.range).toEqual({ first: 5, next: 8 });
  });

  it("keeps nothing with PRESENCE_HISTORY_MAX=0, and drops what an earlier setting kept", async () => {
    const w = world();
    w.tick(joins("a", "b"), 1, 1000);
    const off = new HistoryLog({ historyMs: HOUR, historyMax: 0 });
    off.restore(w.log.range, { oldestAt: 1000, lastAt: 1000 });
    const write = off.append(joins("c"), 2, 2000);
    expect(write).toEqual({ rows: [], drops: [historyKey(0), historyKey(1)] });
    expect(off.size).toBe(0);
  });

  it("shows no event past PRESENCE_HISTORY_MS, swept or not, and its sweep drops exactly those", async () => {
    const w = world({ historyMs: 10_000 });
    w.tick(joins("a"), 1, 0);
    w.tick(joins("b"), 2, 5000);
    w.tick(joins("c"), 3, 9000);
    expect(ids(await w.all({}, 9000))).toEqual(["a", "b", "c"]);
    // At 12 s, a is 12 s old: gone from answers before any sweep.
    expect(ids(await w.all({}, 12_000))).toEqual(["b", "c"]);
    // The sweep is due once the oldest is past its age (plus a slack of 1/24 of it).
    expect(w.log.nextSweep()).toBe(10_000 + Math.ceil(10_000 / 24));
    await w.sweep(16_000);
    expect([...w.rows.values()].map((e) => e.member.id)).toEqual(["c"]);
    expect(w.log.range).toEqual({ first: 2, next: 3 });
    expect(w.log.nextSweep()).toBe(9000 + 10_000 + Math.ceil(10_000 / 24));
    await w.sweep(30_000);
    expect(w.rows.size).toBe(0);
    expect(w.log.nextSweep()).toBeNull();
  });

  it("finds the first young enough event by bisection: a few reads, not one per event", async () => {
    const w = world({ historyMs: 1000 * 1000 });
    for (let i = 0; i < 1000; i++) w.tick(joins(`u${i}`), i + 1, i * 1000);
    const before = w.reads();
    await w.sweep(1000 * 1000 + 500_000);
    // The events stamped at 500 s and later are kept.
    expect(w.log.range).toEqual({ first: 500, next: 1000 });
    expect(w.reads() - before).toBeLessThanOrEqual(12);
    const page = await w.page({ since: 900_000, limit: 5 }, 1000 * 1000 + 500_000);
    expect("events" in page && ids(page.events)).toEqual(["u900", "u901", "u902", "u903", "u904"]);
  });

  it("pages oldest first with a cursor until the last page, which has none", async () => {
    const w = world();
    w.tick(joins("a", "b", "c", "d", "e"), 1, 1000);
    const first = await w.page({ limit: 2 }, 2000);
    expect(first).toMatchObject({ cursor: expect.any(String) });
    if (!("events" in first)) throw new Error(first.error);
    expect(ids(first.events)).toEqual(["a", "b"]);
    const second = await w.page({ limit: 2, cursor: first.cursor }, 2000);
    if (!("events" in second)) throw new Error(second.error);
    expect(ids(second.events)).toEqual(["c", "d"]);
    const last = await w.page({ limit: 2, cursor: second.cursor }, 2000);
    expect(last).toEqual({ events: [expect.objectContaining({ member: member("e") })] });
    // Events added after a page are found from its cursor.
    w.tick(joins("f"), 2, 3000);
    const more = await w.page({ limit: 2, cursor: second.cursor }, 3000);
    if (!("events" in more)) throw new Error(more.error);
    expect(ids(more.events)).toEqual(["e", "f"]);
  });

  it("answers events at or after since, and none for a since in the future", async () => {
    const w = world();
    w.tick(joins("a"), 1, 1000);
    w.tick(joins("b"), 2, 2000);
    w.tick(joins("c"), 3, 3000);
    expect(ids(await w.all({ since: 2000 }, 4000))).toEqual(["b", "c"]);
    expect(ids(await w.all({ since: 2001 }, 4000))).toEqual(["c"]);
    expect(await w.page({ since: 10_000 }, 4000)).toEqual({ events: [] });
    expect(await w.page({ since: 0 }, 4000)).toMatchObject({ events: [{}, {}, {}] });
  });

  it("refuses a cursor past the newest event, and starts a cursor whose events were dropped at the oldest kept", async () => {
    const w = world({ historyMax: 2 });
    w.tick(joins("a", "b", "c"), 1, 1000);
    expect(await w.page({ cursor: "4" }, 2000)).toEqual({ error: expect.stringContaining("cursor") });
    expect(await w.page({ cursor: "9999999999999999" }, 2000)).toEqual({ error: expect.stringContaining("cursor") });
    expect(ids(await w.all({ cursor: "0" }, 2000))).toEqual(["b", "c"]);
    expect(await w.page({ cursor: "3" }, 2000)).toEqual({ events: [] });
  });

  it("takes up where a restart left off: numbers go on, old events stay readable and expire on time", async () => {
    const w = world({ historyMs: 10_000 });
    w.tick(joins("a", "b"), 1, 1000);
    w.tick(joins("c"), 2, 2000);
    const range = w.log.range;
    // A new log over the same rows, as a room after a kill -9 builds it from the meta row and the two ends' times.
    const again = new HistoryLog(w.config);
    again.restore(range, { oldestAt: 1000, lastAt: 2000 });
    const write = again.append(joins("d"), 3, 1500);
    expect(write.rows).toEqual([[historyKey(3), expect.objectContaining({ seq: 3, at: 2000 })]]);
    for (const [key, row] of write.rows) w.rows.set(key, row);
    expect(again.nextSweep()).toBe(1000 + 10_000 + Math.ceil(10_000 / 24));
    const page = await again.page({ limit: 100 }, 3000, async (n) => w.rows.get(historyKey(n))?.at, async (from, to) =>
      [...w.rows.keys()].filter((k) => k >= historyKey(from) && k < historyKey(to)).sort().map((k) => w.rows.get(k)!),
    );
    expect("events" in page && ids(page.events)).toEqual(["a", "b", "c", "d"]);
  });

  it("treats a restart without a stored range as empty", () => {
    const log = new HistoryLog({ historyMs: HOUR, historyMax: 10 });
    log.restore(undefined);
    expect(log.range).toEqual({ first: 0, next: 0 });
    expect(log.nextSweep()).toBeNull();
  });
});

describe("who may read a channel's history", () => {
  const SERVER_KEY = "history-server-key-0123456789";

  it("takes the server key, not a client token that opens the channel, and with auth on and no key set, nobody", async () => {
    const keyed = memoryService({ PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_AUTH_SECRET: SECRET });
    const room = await keyed.world.room<SocketState>("main", "private");
    const userToken = await token({ userId: "ann", channels: ["*"] });
    const read = (headers: Record<string, string>, query = "") => requestThroughEdge(room, keyed.edge, "GET", `?history${query}`, undefined, headers);
    expect(await read({ authorization: `Bearer ${SERVER_KEY}` })).toMatchObject({ status: 200, body: { content: { events: [] } } });
    expect(await read({}, `&token=${userToken}`)).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    expect(await read({ authorization: `Bearer ${userToken}` })).toMatchObject({ status: 401, body: { error: "unauthorized" } });

    const keyless = memoryService({ PRESENCE_AUTH_SECRET: SECRET });
    const open = await keyless.world.room<SocketState>("main", "private");
    const refused = await requestThroughEdge(open, keyless.edge, "GET", `?history&token=${userToken}`);
    expect(refused).toMatchObject({ status: 403, body: { error: "forbidden", message: expect.stringMatching(/PRESENCE_SERVER_KEY is not set/) } });
  });
});
