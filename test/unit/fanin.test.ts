/**
 * The fan-in simulation (bench/fanin): its clock and its counting on a case small enough to
 * follow by hand through the real reporters' rules, and today's design's figures scaling as the
 * code says they should.
 */
import { describe, expect, it } from "vitest";
import { todayDesign } from "../../bench/fanin/design.ts";
import { EventQueue } from "../../bench/fanin/queue.ts";
import { simulate } from "../../bench/fanin/simulation.ts";
import { Tally } from "../../bench/fanin/tally.ts";
import { indexShardOf, partOf } from "../../party/server/parts.ts";

describe("the event queue", () => {
  it("hands events out in time order, ties first queued first, and moves the clock", () => {
    const queue = new EventQueue<string>();
    for (const [at, name] of [[30, "c"], [10, "a"], [30, "d"], [20, "b"], [10, "a2"]] as const) queue.push(at, name);
    const seen: string[] = [];
    for (let item = queue.pop(); item; item = queue.pop()) {
      expect(queue.now).toBe(item.at);
      seen.push(item.event);
    }
    expect(seen).toEqual(["a", "a2", "b", "c", "d"]);
  });

  it("never queues into the past", () => {
    const queue = new EventQueue<string>();
    queue.push(50, "later");
    queue.pop();
    queue.push(10, "late");
    expect(queue.pop()).toMatchObject({ at: 50, event: "late" });
  });
});

describe("the tally", () => {
  it("counts per object and second, the warm-up apart", () => {
    const tally = new Tally(2000, 5000);
    for (const at of [0, 500, 1500, 2000, 2100, 2200, 4999, 5000]) tally.count("index", "all", "report", at);
    tally.count("directory", "p0", "report", 3000);
    tally.count("directory", "p1", "report", 3000);
    tally.count("directory", "p1", "report", 3999);
    const [directory, index] = tally.figures();
    expect(index).toMatchObject({ party: "index", objects: 1, warmup: { seconds: 2, totalMean: 1.5, totalPeak: 2, hottestPeak: 2 }, measured: { seconds: 3, totalMean: 4 / 3, totalPeak: 3, hottestPeak: 3, hottestPeakObject: "all" } });
    expect(directory?.measured).toMatchObject({ totalMean: 1, totalPeak: 3, hottestMean: 2 / 3, hottestMeanObject: "p1", hottestPeak: 2, byName: { report: 1 } });
    expect(tally.calls("index", "all")).toBe(7);
    expect(tally.perSecond("index")).toEqual([2, 1, 3, 0, 1]);
  });
});

describe("the simulation, by hand: 3 channels of 2 users, 2 directory parts, no idle wakes", () => {
  // The sockets' idle check is pushed past the run, so a room wakes only for its reporters and for changes.
  const design = todayDesign({ directoryParts: 2, heartbeatTimeoutMs: 600_000 });
  const part = (user: number) => partOf(`u${user}`, 2);
  const parts = (...users: number[]) => [...new Set(users.map(part))];

  it("counts each report the reporters' rules give", async () => {
    const result = await simulate({
      design,
      channels: 3,
      users: 6,
      placement: [0, 0, 1, 1, 2, 2],
      httpClients: 0,
      isolates: 1,
      churnPerSec: 0,
      seconds: 100,
      warmupMs: 0,
      // u6 joins c1 at 10 s; u0's socket closes at 20 s (grace 5 s: offline at 25 s).
      script: [{ at: 10_000, join: 1 }, { at: 20_000, leave: 0 }],
    });
    const { tally } = result;
    // The index: every room at its start (0 s) and on each renewal a third of the lease later
    // (40 s, 80 s); c1's join at 10 s at once; c0 renews early at 20 s (woken by the close, a
    // sixth of the lease early is due) and reports u0 offline at 25 s, then renews at 60 s.
    // The ban list: the one isolate reads it at the first connect (0 s) and at u6's (10 s).
    expect(tally.perSecond("index").flatMap((n, second) => (n > 0 ? [[second, n]] : []))).toEqual([[0, 4], [10, 2], [20, 1], [25, 1], [40, 2], [60, 1], [80, 2]]);
    // Reports go to each channel's shard, the ban list's reads to the root.
    expect(tally.calls("index", "all")).toBe(2);
    const reports = [0, 1, 2].map((c) => indexShardOf(`c${c}`, design.config.indexShards));
    expect([...new Set(reports)].reduce((sum, shard) => sum + tally.calls("index", shard), 0)).toBe(11);
    // The directory, per part: every part a room's users hash to, at each renewal (c0 at 0, 20
    // and 60 s, the last to u0's part too, which held u0 and is told it is empty of this room;
    // c1 at 0, 40, 80 s, with u6's part from 40 s; c2 at 0, 40, 80 s), and each change to its
    // user's part (u6's join at 10 s, u0 offline at 25 s).
    const expected = new Map<string, number>();
    const add = (names: string[]) => names.forEach((name) => expected.set(name, (expected.get(name) ?? 0) + 1));
    for (let i = 0; i < 3; i++) add(parts(0, 1));
    add([part(0)]);
    add(parts(2, 3));
    add([part(6)]);
    for (let i = 0; i < 2; i++) add(parts(2, 3, 6));
    for (let i = 0; i < 3; i++) add(parts(4, 5));
    for (const name of ["p0", "p1"]) expect(tally.calls("directory", name), name).toBe(expected.get(name) ?? 0);
    // The channel rooms: one request per socket's connect.
    expect([0, 1, 2].map((c) => tally.calls("main", `c${c}`))).toEqual([2, 3, 2]);
    expect(result.figures.map((f) => f.party)).toEqual(["directory", "index", "main"]);
  });

  it("is the same run every time", async () => {
    const options = { design, channels: 50, users: 400, httpClients: 20, isolates: 5, churnPerSec: 5, seconds: 60, seed: 7 } as const;
    const [a, b] = [await simulate(options), await simulate(options)];
    expect(a.figures).toEqual(b.figures);
  });
});

describe("today's design at a small size", () => {
  it("renews every channel in the index exactly every lease/3 at rest when nothing else wakes the rooms, in proportion to the channels", async () => {
    // All connect at 0 and report at once; then renewals at 40 s, 80 s, …: 6 of them in the 240 s after the 120 s warm-up.
    const design = todayDesign({ heartbeatTimeoutMs: 3_600_000 });
    for (const channels of [150, 300]) {
      const result = await simulate({ design, channels, users: channels * 10, httpClients: 0, isolates: 1, churnPerSec: 0, seconds: 360 });
      const index = result.figures.find((f) => f.party === "index")!;
      expect(index.measured.totalMean).toBe(channels / (design.config.leaseMs / 3 / 1000));
      // In step: they all renew in the same second, each into its shard: the hottest shard's peak is its channel count, a fraction of them all.
      const perShard = new Map<string, number>();
      for (let c = 0; c < channels; c++) perShard.set(indexShardOf(`c${c}`, design.config.indexShards), (perShard.get(indexShardOf(`c${c}`, design.config.indexShards)) ?? 0) + 1);
      expect(index.measured.hottestPeak).toBe(Math.max(...perShard.values()));
      expect(index.measured.hottestPeak).toBeLessThan(channels / 8);
      // The directory: one request per part a channel's users hash to, at each renewal.
      const directory = result.figures.find((f) => f.party === "directory")!;
      expect(directory.measured.totalMean).toBeGreaterThan((channels * 3) / 40);
      expect(directory.measured.totalMean).toBeLessThanOrEqual((channels * 4) / 40);
    }
  });

  it("with the shards' forwarding simulated: the root takes a renewal per shard every lease/3 at rest and at most one report per shard a second under churn", async () => {
    const design = todayDesign({ heartbeatTimeoutMs: 3_600_000, indexShards: 4 });
    const rest = await simulate({ design, channels: 300, users: 3_000, httpClients: 0, isolates: 1, churnPerSec: 0, seconds: 360, indexRoot: true });
    const measured = rest.figures.find((f) => f.party === "index")!.measured;
    // 240 measured seconds at rest: each of the 4 shards renews at the root every 40 s (6 times), with nothing changed.
    expect(measured.byName["shard-report"]).toBeCloseTo((4 * 6) / 240, 5);
    // Every shard's first report is its whole table: one each, at the start.
    expect(rest.tally.calls("index", "all")).toBe(4 * (1 + 8) + 1);
    const churn = await simulate({ design, channels: 100, users: 500, httpClients: 0, isolates: 1, churnPerSec: 200, seconds: 40, warmupMs: 10_000, indexRoot: true });
    const busy = churn.figures.find((f) => f.party === "index")!.measured;
    // 200 joins and 200 leaves a second move most of 100 channels every second: still at most one report per shard a second into the root.
    expect(busy.byName["shard-report"]).toBeGreaterThan(3);
    expect(busy.byName["shard-report"]).toBeLessThanOrEqual(4);
    expect(busy.hottestPeakObject).not.toBe("all");
  }, 60_000);

  it("renews every channel in the index once per lease/6 to lease/3 at rest, and each isolate reads the bans once per 5 s", async () => {
    const channels = 500;
    const result = await simulate({ design: todayDesign(), channels, users: 5_000, httpClients: 0, isolates: 10, churnPerSec: 100, seconds: 200, rampMs: 10_000 });
    const index = result.figures.find((f) => f.party === "index")!;
    const directory = result.figures.find((f) => f.party === "directory")!;
    // At rest each channel renews every third of the lease (40 s), or a sixth early when its
    // sockets' idle check wakes it (every 20-30 s): between channels/40 and channels/20 a second.
    // The churn (100 joins and 100 leaves a second) adds at most 2 reports per change.
    const reports = index.measured.byName.report!;
    expect(reports).toBeGreaterThan(channels / 40);
    expect(reports).toBeLessThan(channels / 20 + 2 * 2 * 100);
    // 10 isolates, each passed by about 20 connects a second: one read each per 5 s.
    expect(index.measured.byName.bans).toBeGreaterThan(10 / 5 - 0.2);
    expect(index.measured.byName.bans).toBeLessThanOrEqual(10 / 5);
    // The directory: 4 parts, each channel's 10 users touch nearly all of them on every renewal.
    expect(directory.objects).toBe(4);
    expect(directory.measured.hottestMean).toBeGreaterThan(directory.measured.totalMean / 4);
    expect(directory.measured.hottestMean).toBeLessThan((directory.measured.totalMean / 4) * 1.1);
    expect(directory.measured.totalMean).toBeGreaterThan((channels * 3) / 40);
  }, 60_000);
});

describe("the isolates reading the bans from replicas", () => {
  it("sends the isolates' reads to the replicas, and the root at most one read a second per replica", async () => {
    const seconds = 60;
    const options = { channels: 50, users: 500, httpClients: 0, isolates: 40, churnPerSec: 50, seconds, warmupMs: 0, seed: 3 } as const;
    const root = await simulate({ ...options, design: todayDesign() });
    const replicas = await simulate({ ...options, design: todayDesign({ banReplicas: 2 }, { banReads: "replicas" }) });
    const bansOf = (result: typeof root) => result.figures.find((f) => f.party === "index")!.measured.byName.bans! * seconds;
    // From the root: every isolate once per 5 s.
    expect(bansOf(root)).toBeGreaterThan((40 / 5) * seconds * 0.9);
    const intoReplicas = [0, 1].map((n) => replicas.tally.calls("index", `bans-${n}`));
    // Into the replicas: the same reads, split between them (each isolate picked one).
    expect(intoReplicas[0]! + intoReplicas[1]!).toBeGreaterThan((40 / 5) * seconds * 0.9);
    expect(Math.min(...intoReplicas)).toBeGreaterThan(0);
    // Into the root from the replicas: at most one a second each.
    const intoRoot = bansOf(replicas) - intoReplicas[0]! - intoReplicas[1]!;
    expect(intoRoot).toBeGreaterThan(seconds);
    expect(intoRoot).toBeLessThanOrEqual(2 * seconds);
    // The channels' reports are the same run either way.
    expect(replicas.figures.find((f) => f.party === "index")!.measured.byName.report).toBe(root.figures.find((f) => f.party === "index")!.measured.byName.report);
  }, 60_000);
});
