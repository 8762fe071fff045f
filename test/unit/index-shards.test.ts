/** The channel index's shards and root: routing by hash, the shard→root forwarder, the root's per-shard leases, the edge's merge, and the whole in memory. */
import { describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import { partyHooks } from "../../party/edge/before.ts";
import { addTotals, mergeLists } from "../../party/edge/index-shards.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { forwardIntervalMs, ROOT_REPORTS_PER_SECOND, ShardForwarder } from "../../party/index/forwarder.ts";
import { indexRoom, indexRoomKind } from "../../party/index/rooms.ts";
import { ShardBook } from "../../party/index/shard-book.ts";
import type { ChannelEntry, ChannelsMessage, MetricsTotals, ShardReport, ShardReportReply } from "../../party/protocol/index.ts";
import { loadConfig } from "../../party/server/config.ts";
import { zeroCounters } from "../../party/server/counters.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import { indexShardOf, indexShards } from "../../party/server/parts.ts";
import { joinThroughEdge, memoryServiceEach } from "../support/memory-edge.ts";
import { MemorySocket, type MemoryWorld } from "../support/memory-host.ts";

const entry = (channel: string, userAmount: number, updatedAt = 0): ChannelEntry => ({ channel, userAmount, clientAmount: userAmount, members: userAmount, mode: "full", updatedAt });

describe("routing by hash", () => {
  it("sends a channel to one shard of N, always the same, and spreads channels over all of them", () => {
    expect(indexShardOf("lobby", 16)).toBe(indexShardOf("lobby", 16));
    expect(indexShardOf("lobby", 1)).toBe("s0");
    const counts = new Map<string, number>();
    for (let i = 0; i < 1600; i++) {
      const shard = indexShardOf(`channel-${i}`, 16);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(indexShards(16).sort());
    for (const n of counts.values()) expect(n).toBeGreaterThan(50);
  });

  it("spreads names that differ only in characters with the same low bits (FNV-1a % 4 alone puts them on one shard)", () => {
    const names = ["a", "e", "i", "m", "q", "u", "y"].map((c) => `room-${c}`);
    expect(new Set(names.map((name) => indexShardOf(name, 4))).size).toBeGreaterThan(2);
  });

  it("names the root, the shards under PRESENCE_INDEX_SHARDS, and refuses any other room name", () => {
    expect(indexRoomKind("all", 4)).toEqual({ kind: "root" });
    expect(indexRoomKind("s0", 4)).toEqual({ kind: "shard" });
    expect(indexRoomKind("s3", 4)).toEqual({ kind: "shard" });
    for (const name of ["s4", "s01", "x", "", "bans-1", "S1"]) {
      const kind = indexRoomKind(name, 4);
      expect(kind.kind, name).toBe("unknown");
      expect(kind).toMatchObject({ message: expect.stringContaining("s0…s3") });
    }
  });
});

/** A forwarder whose root answers as `answer` says, recording every report. */
function forwarderWith(table: ChannelEntry[], answer: (report: ShardReport) => ShardReportReply | Error = () => ({ full: false })) {
  const sent: ShardReport[] = [];
  const forwarder = new ShardForwarder({
    shard: "s1",
    leaseMs: 30_000,
    table: () => table,
    send: async (report) => {
      sent.push(report);
      const reply = answer(report);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  });
  return { forwarder, sent };
}

describe("ShardForwarder", () => {
  it("sends its whole table first, then only changes and removals, at most once a second, and renews every lease/3 at rest", async () => {
    const { forwarder, sent } = forwarderWith([entry("a", 1), entry("b", 2)]);
    expect(forwarder.nextDeadline()).toBe(0);
    await forwarder.flush(0);
    expect(sent).toEqual([{ shard: "s1", full: true, channels: [entry("a", 1), entry("b", 2)], removed: [] }]);
    // At rest: the renewal a third of the lease later.
    expect(forwarder.nextDeadline()).toBe(10_000);
    forwarder.note({ channels: [entry("a", 3)], removed: [] });
    expect(forwarder.nextDeadline()).toBe(1000);
    await forwarder.flush(500);
    expect(sent).toHaveLength(1);
    forwarder.note({ channels: [entry("a", 4)], removed: ["b"] });
    await forwarder.flush(1000);
    expect(sent[1]).toEqual({ shard: "s1", full: false, channels: [entry("a", 4)], removed: ["b"] });
    // A burst of changes within the second goes as one report, the latest of each channel.
    for (let n = 5; n < 10; n++) forwarder.note({ channels: [entry("c", n)], removed: [] });
    await forwarder.flush(1500);
    await forwarder.flush(2000);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual({ shard: "s1", full: false, channels: [entry("c", 9)], removed: [] });
    // The renewal: empty, lease/3 after the last report.
    await forwarder.flush(11_999);
    expect(sent).toHaveLength(3);
    await forwarder.flush(12_000);
    expect(sent[3]).toEqual({ shard: "s1", full: false, channels: [], removed: [] });
  });

  it("bounds its rate: 100 seconds of constant change make at most 101 reports", async () => {
    const { forwarder, sent } = forwarderWith([]);
    for (let now = 0; now < 100_000; now += 50) {
      forwarder.note({ channels: [entry(`c${now % 7}`, now)], removed: [] });
      await forwarder.flush(now);
    }
    expect(sent.length).toBeLessThanOrEqual(101);
    expect(sent.length).toBeGreaterThanOrEqual(99);
  });

  it("sends the whole table again when the root asks, and after a failed full report; a failed change waits behind newer ones", async () => {
    let failNext = true;
    const table = [entry("a", 1)];
    const { forwarder, sent } = forwarderWith(table, (report) => {
      if (failNext) {
        failNext = false;
        return new Error("unreachable");
      }
      return { full: report.channels.some((e) => e.channel === "ask") };
    });
    await forwarder.flush(0);
    expect(sent[0]!.full).toBe(true);
    await forwarder.flush(1000);
    expect(sent[1]).toMatchObject({ full: true, channels: [entry("a", 1)] });
    // The root did not hold the shard (it asks for the table): the next report is full.
    forwarder.note({ channels: [entry("ask", 1)], removed: [] });
    await forwarder.flush(2000);
    await forwarder.flush(3000);
    expect(sent[3]).toMatchObject({ full: true });
    // A failed change report: its changes go again, the newer state of a channel taking precedence.
    forwarder.note({ channels: [entry("x", 1), entry("y", 1)], removed: [] });
    failNext = true;
    await forwarder.flush(4000);
    forwarder.note({ channels: [entry("x", 2)], removed: [] });
    await forwarder.flush(5000);
    expect(sent[5]).toEqual({ shard: "s1", full: false, channels: [entry("x", 2), entry("y", 1)], removed: [] });
  });
});

describe("ShardBook", () => {
  const full = (shard: string, channels: ChannelEntry[]): ShardReport => ({ shard, full: true, channels, removed: [] });
  const changes = (shard: string, channels: ChannelEntry[], removed: string[] = []): ShardReport => ({ shard, full: false, channels, removed });

  it("drops a dead shard's entries when its lease lapses, and takes them back from its full report", () => {
    const book = new ShardBook();
    expect(book.apply(full("s0", [entry("a", 1)]), 0, 1000)).toEqual({ put: [entry("a", 1)], drop: [], askFull: false });
    book.apply(full("s1", [entry("b", 2)]), 0, 1000);
    book.take();
    // s1 renews, s0 does not.
    book.apply(changes("s1", []), 600, 1000);
    expect(book.nextExpiry()).toBe(1000);
    expect([...book.expire(999)]).toEqual([]);
    expect([...book.expire(1000)]).toEqual([["s0", ["a"]]]);
    expect(book.all().map((e) => e.channel)).toEqual(["b"]);
    expect(book.take()).toEqual({ channels: [], removed: ["a"] });
    // s0 back: a change report is taken, and its whole table asked for.
    expect(book.apply(changes("s0", [entry("c", 1)]), 1100, 1000).askFull).toBe(true);
    // Its full table replaces what the root held of it.
    expect(book.apply(full("s0", [entry("a", 1)]), 1200, 1000)).toEqual({ put: [entry("a", 1)], drop: ["c"], askFull: false });
    expect(book.all().map((e) => e.channel).sort()).toEqual(["a", "b"]);
    expect(book.take()).toEqual({ channels: [entry("a", 1)], removed: ["c"] });
  });

  it("applies changes and removals, lists a channel two shards hold once (its latest), and restores from storage", () => {
    const book = new ShardBook();
    book.apply(full("s0", [entry("a", 1, 10), entry("b", 1, 10)]), 0, 1000);
    book.apply(full("s1", [entry("a", 5, 20)]), 0, 1000);
    expect(book.all()).toEqual([entry("a", 5, 20), entry("b", 1, 10)]);
    book.take();
    // The newer holder drops it: the older shard's entry shows until its own lease on it lapses.
    expect(book.apply(changes("s1", [], ["a"]), 100, 1000).drop).toEqual(["a"]);
    expect(book.take()).toEqual({ channels: [entry("a", 1, 10)], removed: [] });
    const restored = new ShardBook();
    restored.restore("s0", 1000, [entry("b", 1, 10)]);
    expect(restored.holds("s0")).toBe(true);
    expect(restored.apply(changes("s0", []), 500, 1000).askFull).toBe(false);
  });
});

describe("the edge's merge", () => {
  it("merges shards' lists by name and adds their totals", () => {
    const merged = mergeLists(
      [
        { total: 3, channels: [entry("a", 9), entry("b", 3, 5)] },
        { total: 2, channels: [entry("c", 4), entry("b", 1, 9)] },
      ],
      3,
    );
    expect(merged).toEqual({ total: 4, channels: [entry("a", 9), entry("c", 4), entry("b", 1, 9)] });
    const totals = (channels: number, join: number): MetricsTotals => ({ channels, clientAmount: channels, userAmount: channels, httpClients: 1, members: { full: channels, interval: 0 }, counters: { ...zeroCounters(), events: { join } } });
    expect(addTotals(totals(2, 3), totals(1, 4))).toMatchObject({ channels: 3, httpClients: 2, members: { full: 3 }, counters: { events: { join: 7 } } });
  });
});

describe("index shards in memory (PRESENCE_INDEX_SHARDS=4)", () => {
  const SERVER_KEY = "shards-server-key-0123456789";
  const ENV = { PRESENCE_INDEX_SHARDS: "4", PRESENCE_LEASE_MS: "30000", PRESENCE_GRACE_MS: "1000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000", PRESENCE_SERVER_KEY: SERVER_KEY };
  const key = { authorization: `Bearer ${SERVER_KEY}` };
  let world: MemoryWorld;
  let edge: EdgeHost;

  memoryServiceEach(ENV, (service) => ({ world, edge } = service));

  const channels = async () => (await (await edgeFetch(new Request("http://memory/channels", { headers: key }), edge)).json()).content;
  const dashboard = async () => {
    const root = await world.room("index", "all");
    const socket = new MemorySocket("dash");
    root.connect(socket, new Request("http://memory/parties/index/all"));
    return socket;
  };

  it("lists channels from every shard, sums their metrics, and the root's dashboards see them; a dead shard's entries leave the root at its lease", async () => {
    const names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    expect(new Set(names.map((name) => indexShardOf(name, 4))).size).toBeGreaterThan(1);
    for (const [i, name] of names.entries()) {
      const room = await world.room<SocketState>("main", name);
      for (let u = 0; u <= i; u++) await joinThroughEdge(room, edge, `${name}-${u}`, `userId=u${u}`);
    }
    await vi.advanceTimersByTimeAsync(3_000);
    // Reports went to the shards, none to the root.
    const reports = world.calls.filter((c) => c.party === "index" && c.call === "report");
    expect(reports.length).toBeGreaterThanOrEqual(6);
    expect(reports.every((c) => /^s[0-3]$/.test(c.room))).toBe(true);
    const list = await channels();
    expect(list.total).toBe(6);
    expect(list.channels.map((e: ChannelEntry) => [e.channel, e.userAmount])).toEqual(names.map((name, i) => [name, i + 1]).reverse());
    const text = await (await edgeFetch(new Request("http://memory/metrics", { headers: key }), edge)).text();
    expect(text).toMatch(/^presence_channels_active 6$/m);
    expect(text).toMatch(/^presence_users 21$/m);
    expect(text).toMatch(/^presence_events_total\{type="join"\} 21$/m);
    // The root's dashboards: the whole list from the shards.
    const socket = await dashboard();
    const first = socket.sent[0] as ChannelsMessage;
    expect(first.channels.map((e) => e.channel).sort()).toEqual([...names].sort());

    // A shard stops (its room is gone, its storage kept, nothing wakes it): the root drops its channels when its lease lapses.
    const dead = indexShardOf("alpha", 4);
    const deadRoom = await world.room("index", dead);
    deadRoom.service = { start: async () => {}, connect() {}, message() {}, closed() {}, request: async () => new Response("down", { status: 503 }), alarm: async () => {}, reachable() {} };
    const onDead = names.filter((name) => indexShardOf(name, 4) === dead);
    // The channel rooms keep renewing; the dead shard does not forward them. (Its storage alarm is a no-op now.)
    await vi.advanceTimersByTimeAsync(31_000);
    const removed = socket.sent.slice(1).flatMap((m) => (m as ChannelsMessage).removed);
    expect(removed.sort()).toEqual([...onDead].sort());
    // The shard comes back on its storage: its whole table goes to the root again.
    deadRoom.service = indexRoom(deadRoom, loadConfig(ENV));
    await deadRoom.service.start();
    await vi.advanceTimersByTimeAsync(2_000);
    const back = socket.sent.slice(1).flatMap((m) => (m as ChannelsMessage).channels.map((e) => e.channel));
    for (const name of onDead) expect(back).toContain(name);
  });

  it("the root restarts from its rows: a live shard's entries are kept without a resend, a shard whose lease lapsed meanwhile is dropped, the old single index's entries go and its retired counters stay", async () => {
    const [a, b] = ["alpha", "gamma"];
    expect(indexShardOf(a, 4)).not.toBe(indexShardOf(b, 4));
    for (const name of [a, b]) await joinThroughEdge(await world.room<SocketState>("main", name), edge, `${name}-1`, "userId=u1");
    await vi.advanceTimersByTimeAsync(3_000);
    const root = await world.room("index", "all");
    expect([...root.storage.rows.keys()].filter((k) => k.startsWith("e:")).sort()).toEqual([`e:${indexShardOf(a, 4)}:${a}`, `e:${indexShardOf(b, 4)}:${b}`].sort());
    // What the single index of earlier versions left: an entry and a retired total.
    root.storage.rows.set("c:old-channel", { entry: entry("old-channel", 1), expiresAt: Date.now() + 60_000 });
    root.storage.rows.set("retired", { ...zeroCounters(), events: { join: 7 } });
    // b's shard's lease at the root ran out while the root was down (set it in the past).
    root.storage.rows.set(`s:${indexShardOf(b, 4)}`, Date.now() - 1);
    const reportsBefore = world.calls.filter((c) => c.call === "shard-report").length;
    root.service = indexRoom(root, loadConfig(ENV));
    await root.service.start();
    const socket = await dashboard();
    expect((socket.sent[0] as ChannelsMessage).channels.map((e) => e.channel)).toEqual([a]);
    expect(world.calls.filter((c) => c.call === "shard-report").length).toBe(reportsBefore);
    expect(root.storage.rows.has("c:old-channel")).toBe(false);
    expect([...root.storage.rows.keys()].some((k) => k.startsWith(`e:${indexShardOf(b, 4)}:`))).toBe(false);
    const text = await (await edgeFetch(new Request("http://memory/metrics", { headers: key }), edge)).text();
    // Two joins now, seven retired by the old index.
    expect(text).toMatch(/^presence_events_total\{type="join"\} 9$/m);
    expect(text).toMatch(/^presence_channels_active 2$/m);
    // b's shard renews within a third of the lease: the root, not holding it, asks for its whole table, and b is back.
    await vi.advanceTimersByTimeAsync(12_000);
    const shown = socket.sent.slice(1).flatMap((m) => (m as ChannelsMessage).channels.map((e) => e.channel));
    expect(shown).toContain(b);
  });

  it("refuses dashboards' sockets to a shard and unknown rooms, and answers a shard's calls only in shards", async () => {
    const refused = await partyHooks.index.beforeConnect(new Request("http://memory/parties/index/s0"), "s0", edge);
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(404);
    // The root: the admin token is what it asks for (the server key is set).
    const root = await partyHooks.index.beforeConnect(new Request("http://memory/parties/index/all"), "all", edge);
    expect((root as Response).status).toBe(401);
    await expect(edge.parties.call("index", "s9", "list", { q: "", limit: 10 })).rejects.toThrow(/s0…s3/);
    await expect(edge.parties.call("index", "all", "list", { q: "", limit: 10 })).rejects.toThrow(/404/);
    await expect(edge.parties.call("index", "s1", "bans", {})).rejects.toThrow(/404/);
  });
});

describe("forwardIntervalMs", () => {
  it("keeps a shard's reports a second apart up to 50 shards, then spaces them so the root hears at most 50 a second", () => {
    expect(forwardIntervalMs(1)).toBe(1000);
    expect(forwardIntervalMs(50)).toBe(1000);
    expect(forwardIntervalMs(64)).toBe(1280);
    expect(forwardIntervalMs(256)).toBe(5120);
    for (const shards of [16, 64, 256, 1024]) expect(shards / (forwardIntervalMs(shards) / 1000)).toBeLessThanOrEqual(ROOT_REPORTS_PER_SECOND);
  });
});
