/**
 * GET /metrics, its pure parts and the whole path on the in-memory host: the counter
 * arithmetic, the index's ledger (retired and lapsed channels: totals that never decrease,
 * nothing counted twice), the room's reporter (what it counts from, kept across restarts), the
 * text format, and rooms' counters reaching /metrics through the index in one call.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Outbox } from "../../party/channel/effects.ts";
import { ChannelService } from "../../party/channel/service.ts";
import { IndexReporter, type IndexSnapshot } from "../../party/channel/index-reporter.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { prometheusText } from "../../party/edge/metrics.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { MetricsLedger } from "../../party/index/metrics.ts";
import { indexRoom } from "../../party/index/rooms.ts";
import type { IndexReport, MetricsTotals, RoomCounters, RoomStats } from "../../party/protocol/index.ts";
import { addCounters, LAPSED_KEEP_MS, maxCounters, subtractCounters, zeroCounters } from "../../party/server/counters.ts";
import { loadConfig } from "../../party/server/config.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import { joinThroughEdge, memoryService, memoryServiceEach, requestThroughEdge } from "../support/memory-edge.ts";
import type { MemoryWorld } from "../support/memory-host.ts";
import { webhookSecret } from "../support/webhook-receiver.ts";

/** Counters with these starts and events (the other groups empty). */
const counters = (starts: number, events: Record<string, number> = {}, refused: Record<string, number> = {}): RoomCounters => ({
  ...zeroCounters(),
  starts,
  events,
  refusedConnections: refused,
});

const report = (channel: string, active: boolean, c: RoomCounters, gen = 0): IndexReport => ({
  active,
  entry: { channel, userAmount: active ? 1 : 0, clientAmount: active ? 1 : 0, members: active ? 1 : 0, mode: "full", updatedAt: 0 },
  httpClients: 0,
  counters: c,
  gen,
});

describe("counters", () => {
  it("add, subtract (never below zero) and take the higher, key by key", () => {
    const a = counters(2, { join: 3, leave: 1 });
    const b = counters(1, { join: 5, update: 2 });
    expect(addCounters(a, b)).toMatchObject({ starts: 3, events: { join: 8, leave: 1, update: 2 } });
    expect(subtractCounters(a, b)).toMatchObject({ starts: 1, events: { leave: 1 } });
    expect(subtractCounters(a, b).events).not.toHaveProperty("join");
    expect(maxCounters(a, b)).toMatchObject({ starts: 2, events: { join: 5, leave: 1, update: 2 } });
  });
});

describe("MetricsLedger", () => {
  /** The ledger and an index's entries, played the way IndexService plays them. */
  function index() {
    const ledger = new MetricsLedger();
    const held = new Map<string, { counters: RoomCounters; gen: number; expiresAt: number }>();
    const apply = (r: IndexReport, now = 0) => {
      const kept = ledger.report(r, held.get(r.entry.channel), now);
      if (kept === null) held.delete(r.entry.channel);
      else held.set(r.entry.channel, { counters: kept, gen: r.gen ?? 0, expiresAt: now + 1000 });
    };
    const lapse = (channel: string) => {
      const entry = held.get(channel)!;
      held.delete(channel);
      ledger.lapse([{ channel, ...entry }]);
    };
    const totals = () => ledger.totals([...held.values()].map(({ counters }) => ({ clientAmount: 1, userAmount: 1, members: 1, mode: "full" as const, counters })));
    return { ledger, apply, lapse, totals };
  }

  it("keeps a channel's counters in the totals after it reports itself empty, and counts what it reports later on top", () => {
    const { apply, totals } = index();
    apply(report("a", true, counters(1, { join: 2 })));
    apply(report("b", true, counters(1, { join: 1 })));
    expect(totals()).toMatchObject({ channels: 2, counters: { starts: 2, events: { join: 3 } } });
    apply(report("a", false, counters(1, { join: 2, leave: 2 })));
    expect(totals()).toMatchObject({ channels: 1, counters: { starts: 2, events: { join: 3, leave: 2 } } });
    // The room counts from what the index retired (IndexReporter's base), as its next generation: new counts only.
    apply(report("a", true, counters(0, { join: 1 }), 1));
    expect(totals()).toMatchObject({ channels: 2, counters: { starts: 2, events: { join: 4, leave: 2 } } });
  });

  it("counts a repeat of the report that retired a channel (its answer was lost) once, with whatever it adds", () => {
    const { apply, totals } = index();
    apply(report("a", true, counters(1, { join: 1 })), 0);
    apply(report("a", false, counters(1, { join: 1, leave: 1 })), 1000);
    apply(report("a", false, counters(1, { join: 1, leave: 1 })), 2000);
    expect(totals().counters).toMatchObject({ starts: 1, events: { join: 1, leave: 1 } });
    // Still without the answer, the room takes a refusal, and is joined again: the same generation, more counts.
    apply(report("a", false, counters(1, { join: 1, leave: 1 }, { origin: 1 })), 3000);
    apply(report("a", true, counters(1, { join: 2, leave: 1 }, { origin: 1 })), 4000);
    expect(totals()).toMatchObject({ channels: 1, counters: { starts: 1, events: { join: 2, leave: 1 }, refusedConnections: { origin: 1 } } });
  });

  it("retires a lapsed channel's counters when its room comes back as a later generation (it took them as retired), and counts what it reports on top", () => {
    const { apply, lapse, totals } = index();
    apply(report("a", true, counters(1, { join: 5 })));
    lapse("a");
    apply(report("a", false, counters(1), 1), 2000);
    expect(totals()).toMatchObject({ channels: 0, counters: { starts: 2, events: { join: 5 } } });
  });

  it("keeps a lapsed channel apart: a room that comes back takes its counters up again (not twice), and they are retired after LAPSED_KEEP_MS", () => {
    const { ledger, apply, lapse, totals } = index();
    apply(report("a", true, counters(1, { join: 5 })));
    lapse("a");
    expect(totals()).toMatchObject({ channels: 0, counters: { starts: 1, events: { join: 5 } } });
    expect(ledger.nextExpiry()).toBe(1000 + LAPSED_KEEP_MS);
    // Back within the time: its cumulative counters replace what was kept apart.
    apply(report("a", true, counters(2, { join: 6 })));
    expect(totals()).toMatchObject({ channels: 1, counters: { starts: 2, events: { join: 6 } } });
    expect(ledger.nextExpiry()).toBeNull();
    lapse("a");
    ledger.expire(1000 + LAPSED_KEEP_MS);
    expect(ledger.nextExpiry()).toBeNull();
    expect(totals()).toMatchObject({ channels: 0, counters: { starts: 2, events: { join: 6 } } });
    expect(ledger.take()).toMatchObject({ retired: { starts: 2, events: { join: 6 } } });
  });

  it("never lets a total go down, whatever a room reports (a room that lost counts in a crash reports less)", () => {
    const { apply, lapse, totals } = index();
    const seen: number[] = [];
    const joins = () => seen.push(totals().counters.events.join ?? 0);
    apply(report("a", true, counters(1, { join: 5 })));
    joins();
    apply(report("a", true, counters(1, { join: 3 })));
    joins();
    lapse("a");
    joins();
    apply(report("a", true, counters(2, { join: 4 })));
    joins();
    apply(report("a", false, counters(2, { join: 2 })));
    joins();
    expect(seen).toEqual([5, 5, 5, 5, 5]);
  });

  it("restores its retired total and lapsed channels from storage", () => {
    const ledger = new MetricsLedger();
    ledger.restore(counters(3, { join: 1 }), [{ channel: "x", counters: counters(1, { join: 2 }), gen: 0, until: 50 }]);
    expect(ledger.totals([]).counters).toMatchObject({ starts: 4, events: { join: 3 } });
    ledger.expire(50);
    expect(ledger.totals([]).counters).toMatchObject({ starts: 4, events: { join: 3 } });
    expect(ledger.take()).toMatchObject({ retired: { starts: 4 }, lapsed: new Map([["x", null]]) });
  });

  it("sums the active channels' gauges, members by mode", () => {
    const ledger = new MetricsLedger();
    const totals = ledger.totals([
      { clientAmount: 3, userAmount: 2, members: 4, mode: "full", httpClients: 1 },
      { clientAmount: 10, userAmount: 9, members: 12, mode: "interval" },
    ]);
    expect(totals).toMatchObject({ channels: 2, clientAmount: 13, userAmount: 11, httpClients: 1, members: { full: 4, interval: 12 } });
  });
});

describe("IndexReporter's counters", () => {
  const LEASE = 30_000;
  function reporter() {
    const out = new Outbox();
    const r = new IndexReporter({ channel: "c", leaseMs: LEASE, out });
    const posts: IndexReport[] = [];
    /** Answers every call made so far (ok unless told), at `now`. */
    const answer = (now: number, ok = true) => {
      for (const effect of out.take()) {
        if (effect.kind !== "call") continue;
        posts.push(effect.call.args as IndexReport);
        r.replied(effect.ticket, ok, now);
      }
    };
    return { r, posts, answer, out };
  }
  const snap = (userAmount: number, c: RoomCounters): IndexSnapshot => ({ userAmount, clientAmount: userAmount, members: userAmount, mode: "full", httpClients: 0, counters: c });

  it("reports counters beyond what the index retired: after an empty report, from there", () => {
    const { r, posts, answer } = reporter();
    r.note(snap(1, counters(1, { join: 1 })), 0);
    r.flush(0, true);
    answer(0);
    r.note(snap(0, counters(1, { join: 1, leave: 1 })), 2000);
    r.flush(2000, true);
    answer(2000);
    expect(posts.map((p) => [p.active, p.counters?.events])).toEqual([
      [true, { join: 1 }],
      [false, { join: 1, leave: 1 }],
    ]);
    expect(r.memory()).toMatchObject({ gen: 1, base: { starts: 1, events: { join: 1, leave: 1 } } });
    expect(posts.map((p) => p.gen)).toEqual([0, 0]);
    // Nothing new: nothing to tell.
    r.note(snap(0, counters(1, { join: 1, leave: 1 })), 4000);
    r.flush(4000, true);
    answer(4000);
    expect(posts).toHaveLength(2);
    // A refusal in the empty room: reported inactive, as the count alone, an interval later (a join might have carried it).
    r.note(snap(0, counters(1, { join: 1, leave: 1 }, { origin: 1 })), 6000);
    r.flush(6000, true);
    answer(6000);
    expect(posts).toHaveLength(2);
    expect(r.nextDeadline()).toBe(7000);
    r.flush(7000, true);
    answer(7000);
    expect(posts[2]).toMatchObject({ active: false, gen: 1, counters: { starts: 0, events: {}, refusedConnections: { origin: 1 } } });
  });

  it("holds a report of counters alone an interval, so the join that woke the room carries its start: one report, at once", () => {
    const { r, posts, answer } = reporter();
    // The room's start, before its first join is handled: counted, nobody in it.
    r.note(snap(0, counters(1)), 0);
    r.flush(0, true);
    answer(0);
    expect(posts).toEqual([]);
    expect(r.nextDeadline()).toBe(1000);
    // The join, a moment later: reported at once, with the start.
    r.note(snap(1, counters(1, { join: 1 })), 5);
    r.flush(5, true);
    answer(5);
    expect(posts.map((p) => [p.active, p.counters?.starts, p.counters?.events])).toEqual([[true, 1, { join: 1 }]]);
    // A room woken with nobody to join (an HTTP request) still reports its start, an interval later.
    const idle = reporter();
    idle.r.note(snap(0, counters(1)), 0);
    idle.r.flush(999, true);
    idle.answer(999);
    expect(idle.posts).toEqual([]);
    idle.r.flush(1000, true);
    idle.answer(1000);
    expect(idle.posts.map((p) => [p.active, p.counters?.starts])).toEqual([[false, 1]]);
  });

  it("asks for the meta row to be written when the index retired its counters, and for an active report's answer at most hourly", () => {
    const out = new Outbox();
    const r = new IndexReporter({ channel: "c", leaseMs: LEASE, out, intervalMs: 0 });
    const written: boolean[] = [];
    const send = (userAmount: number, c: RoomCounters, now: number) => {
      r.note(snap(userAmount, c), now);
      r.flush(now, true);
      for (const effect of out.take()) if (effect.kind === "call") written.push(r.replied(effect.ticket, true, now));
    };
    send(1, counters(1), 0);
    send(2, counters(1), 1000);
    r.memory();
    send(3, counters(1), 2000);
    send(4, counters(1), 3_602_000);
    send(0, counters(1, { leave: 4 }), 3_603_000);
    expect(written).toEqual([true, true, false, true, true]);
  });

  it("does not send an empty report queued while the index was retiring the same counters (no double count)", () => {
    const { r, posts, answer, out } = reporter();
    r.note(snap(1, counters(1)), 0);
    r.flush(0, true);
    answer(0);
    r.note(snap(0, counters(1, { leave: 1 })), 2000);
    r.flush(2000, true);
    // In flight; the next tick notes the same numbers again.
    r.note(snap(0, counters(1, { leave: 1 })), 2100);
    answer(2200);
    r.flush(3500, true);
    answer(3500);
    expect(out.take()).toEqual([]);
    expect(posts.map((p) => p.active)).toEqual([true, false]);
  });

  it("keeps what it counts from across a restart, and after a silence of LAPSED_KEEP_MS counts from what the index last heard, as a new generation", () => {
    const first = reporter();
    first.r.note(snap(1, counters(1, { join: 4 })), 0);
    first.r.flush(0, true);
    first.answer(0);
    const memory = first.r.memory();
    expect(memory).toMatchObject({ base: { starts: 0 }, acked: { counters: { starts: 1, events: { join: 4 } }, at: 0 } });

    // Restarted soon: its entry (or its lapsed counters) is still at the index, so it reports everything.
    const soon = reporter();
    soon.r.restore(memory, 60_000);
    soon.r.note(snap(0, counters(2, { join: 4 })), 60_000);
    soon.r.flush(61_000, true);
    expect(soon.out.take().find((e) => e.kind === "call")).toMatchObject({ call: { args: { active: false, gen: 0, counters: { starts: 2, events: { join: 4 } } } } });

    // Restarted after the index retired it: only what came since.
    const late = reporter();
    late.r.restore(memory, LAPSED_KEEP_MS);
    late.r.note(snap(0, counters(2, { join: 4 })), LAPSED_KEEP_MS);
    late.r.flush(LAPSED_KEEP_MS + 1000, true);
    const call = late.out.take().find((e) => e.kind === "call");
    expect(call).toMatchObject({ call: { args: { active: false, gen: 1, counters: { starts: 1 } } } });
    expect((call as { call: { args: IndexReport } }).call.args.counters?.events).toEqual({});
  });
});

describe("prometheusText", () => {
  const totals: MetricsTotals = {
    channels: 2,
    clientAmount: 3,
    userAmount: 2,
    httpClients: 1,
    members: { full: 2, interval: 0 },
    counters: {
      ...zeroCounters(),
      starts: 4,
      events: { join: 3, leave: 1 },
      refusedConnections: { origin: 2, 'we"ird\\': 1 },
      pushes: { delivered: 2, acked: 1, timeout: 1 },
      webhookDeliveries: { delivered: 5, failed: 2, deadLettered: 1 },
    },
  };

  it("writes HELP and TYPE once per metric, then its samples with labels", () => {
    const text = prometheusText(totals);
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.split("\n");
    for (const name of ["presence_channels_active", "presence_events_total", "presence_room_starts_total"]) {
      expect(lines.filter((line) => line.startsWith(`# TYPE ${name} `))).toHaveLength(1);
      expect(lines.filter((line) => line.startsWith(`# HELP ${name} `))).toHaveLength(1);
    }
    expect(lines).toContain("# TYPE presence_channels_active gauge");
    expect(lines).toContain("presence_channels_active 2");
    expect(lines).toContain("presence_clients 3");
    expect(lines).toContain("presence_users 2");
    expect(lines).toContain("presence_http_clients 1");
    expect(lines).toContain('presence_members{mode="full"} 2');
    expect(lines).toContain('presence_members{mode="interval"} 0');
    expect(lines).toContain("# TYPE presence_events_total counter");
    expect(lines.filter((line) => line.startsWith("presence_events_total{"))).toEqual([
      'presence_events_total{type="join"} 3',
      'presence_events_total{type="leave"} 1',
      'presence_events_total{type="offline"} 0',
      'presence_events_total{type="online"} 0',
      'presence_events_total{type="update"} 0',
    ]);
    expect(lines).toContain('presence_refused_connections_total{reason="origin"} 2');
    expect(lines).toContain('presence_refused_connections_total{reason="we\\"ird\\\\"} 1');
    expect(lines).toContain("presence_pushes_total 2");
    expect(lines).toContain('presence_push_outcomes_total{outcome="acked"} 1');
    expect(lines).toContain('presence_push_outcomes_total{outcome="timeout"} 1');
    expect(lines).toContain('presence_push_outcomes_total{outcome="closed"} 0');
    expect(lines).toContain("presence_webhook_deliveries_total 5");
    expect(lines).toContain("presence_webhook_failures_total 2");
    expect(lines).toContain("presence_webhook_dead_letters_total 1");
    expect(lines).toContain("presence_room_starts_total 4");
    // Every sample line is NAME{LABELS} VALUE of a metric whose TYPE came before it.
    const typed = new Set<string>();
    for (const line of lines.filter((l) => l !== "")) {
      const type = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
      if (type) typed.add(type[1]!);
      if (line.startsWith("#")) continue;
      const sample = /^([a-z_]+)(\{[^}]*\})? (\d+)$/.exec(line);
      expect(sample, line).not.toBeNull();
      expect(typed.has(sample![1]!), line).toBe(true);
    }
  });
});

describe("GET /metrics on the in-memory host", () => {
  const SERVER_KEY = "metrics-server-key-0123456789";
  const ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_SERVER_KEY: SERVER_KEY };
  const key = { authorization: `Bearer ${SERVER_KEY}` };
  let world: MemoryWorld;
  let edge: EdgeHost;

  memoryServiceEach(ENV, (service) => ({ world, edge } = service));

  const metrics = async (headers: Record<string, string> = key) => edgeFetch(new Request("http://memory/metrics", { headers }), edge);
  const sample = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"()]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  const stats = async (channel: string): Promise<RoomStats> => {
    const room = await world.room<SocketState>("main", channel);
    return (await requestThroughEdge(room, edge, "GET", "?stats", undefined, key)).body.content;
  };

  it("needs the server key, and answers in Prometheus' text format", async () => {
    expect((await metrics({})).status).toBe(401);
    expect((await metrics({ authorization: "Bearer wrong-key-0123456789abc" })).status).toBe(401);
    expect((await edgeFetch(new Request("http://memory/metrics", { method: "POST", headers: key }), edge)).status).toBe(405);
    const response = await metrics();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await response.text()).toContain("presence_channels_active 0");
  });

  it("adds up the rooms' counters through the index, keeps those of a channel that emptied, and survives a restart of the index", async () => {
    const lobby = await world.room<SocketState>("main", "lobby");
    const other = await world.room<SocketState>("main", "other");
    const ann = await joinThroughEdge(lobby, edge, "a1", "userId=ann");
    await joinThroughEdge(lobby, edge, "b1", "userId=bob");
    const cat = await joinThroughEdge(other, edge, "c1", "userId=cat");
    await vi.advanceTimersByTimeAsync(1_500);
    let text = await (await metrics()).text();
    expect(sample(text, "presence_channels_active")).toBe(2);
    expect(sample(text, "presence_users")).toBe(3);
    expect(sample(text, 'presence_events_total{type="join"}')).toBe(3);
    expect(sample(text, "presence_room_starts_total")).toBe(2);

    // `other` empties (an explicit leave): it drops out of the index, its counters stay.
    other.send(cat, { type: "leave" });
    lobby.drop(ann);
    await vi.advanceTimersByTimeAsync(3_000);
    const [a, b] = [await stats("lobby"), await stats("other")];
    text = await (await metrics()).text();
    expect(sample(text, "presence_channels_active")).toBe(1);
    for (const type of ["join", "leave", "offline"]) {
      expect(sample(text, `presence_events_total{type="${type}"}`), type).toBe((a.events[type] ?? 0) + (b.events[type] ?? 0));
    }
    expect(sample(text, 'presence_events_total{type="leave"}')).toBe(1);
    expect(sample(text, 'presence_events_total{type="offline"}')).toBe(1);
    expect(sample(text, "presence_room_starts_total")).toBe(a.starts + b.starts);

    // Every index room (the root and the shards, which hold the counters) restarts on its storage: the retired counters are still there.
    for (const [key, index] of world.rooms) {
      if (!key.startsWith("index/")) continue;
      index.service = indexRoom(index, loadConfig(ENV));
      await index.service.start();
    }
    const again = await (await metrics()).text();
    expect(sample(again, 'presence_events_total{type="leave"}')).toBe(1);
    expect(sample(again, 'presence_events_total{type="join"}')).toBe(3);
  });

  it("counts a channel room's restart once and carries its counters across it, without counting them twice", async () => {
    const lobby = await world.room<SocketState>("main", "lobby");
    const ann = await joinThroughEdge(lobby, edge, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(1_500);
    expect(sample(await (await metrics()).text(), "presence_room_starts_total")).toBe(1);
    // An eviction: the room starts again on its storage, its socket still open.
    lobby.service = new ChannelService(lobby, loadConfig(ENV));
    await lobby.service.start();
    await vi.advanceTimersByTimeAsync(1_500);
    let text = await (await metrics()).text();
    expect(sample(text, "presence_room_starts_total")).toBe(2);
    expect(sample(text, 'presence_events_total{type="join"}')).toBe(1);
    lobby.send(ann, { type: "leave" });
    await vi.advanceTimersByTimeAsync(1_500);
    const counted = await stats("lobby");
    text = await (await metrics()).text();
    expect(sample(text, "presence_channels_active")).toBe(0);
    expect(counted).toMatchObject({ starts: 2, events: { join: 1, leave: 1 } });
    expect(sample(text, "presence_room_starts_total")).toBe(2);
    expect(sample(text, 'presence_events_total{type="join"}')).toBe(1);
    expect(sample(text, 'presence_events_total{type="leave"}')).toBe(1);
  });

  it("counts a refusal in a channel nobody joined", async () => {
    const room = await world.room<SocketState>("main", "empty");
    expect((await requestThroughEdge(room, edge, "GET", "?stats")).status).toBe(401);
    await vi.advanceTimersByTimeAsync(1_500);
    const text = await (await metrics()).text();
    expect(sample(text, "presence_channels_active")).toBe(0);
    expect(sample(text, 'presence_refused_requests_total{reason="unauthorized"}')).toBe(1);
    // The room's start went to the index before the refusal did, and is not counted again with it.
    expect(sample(text, "presence_room_starts_total")).toBe(1);
  });
});

describe("webhook counters in GET /metrics", () => {
  const ENV = {
    PRESENCE_GRACE_MS: "1000",
    PRESENCE_TICK_MS: "50",
    PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000",
    PRESENCE_DIRECTORY: "off",
    PRESENCE_WEBHOOK_URL: "http://hooks.example/in",
    PRESENCE_WEBHOOK_SECRET: webhookSecret(),
    PRESENCE_WEBHOOK_RETRY_MS: "100",
    PRESENCE_WEBHOOK_MAX_ATTEMPTS: "2",
  };
  let failing = true;

  beforeEach(() => {
    vi.useFakeTimers({ now: 3_000_000 });
    failing = true;
    vi.stubGlobal("fetch", async () => new Response(failing ? "down" : "ok", { status: failing ? 500 : 200 }));
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("counts deliveries, failed attempts and dead letters", async () => {
    const { world, edge } = memoryService(ENV);
    const room = await world.room<SocketState>("main", "hooked");
    await joinThroughEdge(room, edge, "a1", "userId=ann");
    // Two attempts fail: the batch goes to the dead letters.
    await vi.advanceTimersByTimeAsync(2_000);
    failing = false;
    await joinThroughEdge(room, edge, "b1", "userId=bob");
    await vi.advanceTimersByTimeAsync(2_000);
    const text = await (await edgeFetch(new Request("http://memory/metrics"), edge)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
    expect(value("presence_webhook_failures_total")).toBe(2);
    expect(value("presence_webhook_dead_letters_total")).toBe(1);
    expect(value("presence_webhook_deliveries_total")).toBe(1);
  });
});
