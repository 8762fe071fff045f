import { describe, expect, it } from "vitest";
import { parseShardRoom, SPREAD_TTL_MS, KnownSpreads, shardOf, shardRoom, SPREAD_AT, spreadFor } from "../../party/server/channel-shards.ts";
import { ChannelName, MAX_CHANNEL_SHARDS } from "../../party/protocol/index.ts";

describe("a channel's shard rooms", () => {
  it("names shard 0 by the channel and the others CHANNEL~k, which no channel can be called", () => {
    expect(shardRoom("stage", 0)).toBe("stage");
    expect(shardRoom("stage", 3)).toBe("stage~3");
    expect(ChannelName.safeParse(shardRoom("stage", 3)).success).toBe(false);
    for (const shard of [0, 1, 7, MAX_CHANNEL_SHARDS - 1]) expect(parseShardRoom(shardRoom("a.b:c@d", shard))).toEqual({ channel: "a.b:c@d", shard });
  });

  it("reads no shard from a name whose number is missing, zero, padded, too large or not a number", () => {
    for (const room of ["stage~", "stage~0", "stage~01", "stage~x", "stage~1x", `stage~${MAX_CHANNEL_SHARDS}`, "stage~-1"]) expect(parseShardRoom(room), room).toBeNull();
  });
});

describe("shardOf", () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `${i.toString(36)}-${(i * 7919).toString(16)}`);

  it("puts every id in shard 0 of a channel with one shard", () => {
    expect(ids.slice(0, 100).every((id) => shardOf(id, 1) === 0)).toBe(true);
  });

  it("spreads ids evenly over the shards", () => {
    const counts = new Array<number>(8).fill(0);
    for (const id of ids) counts[shardOf(id, 8)]!++;
    for (const count of counts) expect(Math.abs(count - ids.length / 8)).toBeLessThan(ids.length / 8 / 10);
  });

  it("when the count grows, moves only about the new shard's share of ids, each to the new shard", () => {
    const moved = ids.filter((id) => shardOf(id, 4) !== shardOf(id, 5));
    expect(moved.every((id) => shardOf(id, 5) === 4)).toBe(true);
    expect(Math.abs(moved.length / ids.length - 1 / 5)).toBeLessThan(0.02);
  });
});

describe("KnownSpreads: an edge's memory of spread channels", () => {
  const spread = (shards: number, closed: number[] = []) => ({ shards, closed });

  it("takes a channel it does not know for one object, and one it learnt for its spread until the memory is stale", () => {
    const counts = new KnownSpreads();
    expect(counts.get("stage", 0)).toEqual(spread(1));
    counts.learn("stage", spread(4, [0]), 1_000);
    expect(counts.get("stage", 1_000 + SPREAD_TTL_MS - 1)).toEqual(spread(4, [0]));
    expect(counts.get("stage", 1_000 + SPREAD_TTL_MS)).toEqual(spread(1));
    expect(counts.size).toBe(0);
  });

  it("forgets a channel back in one object, and the oldest learnt past its limit", () => {
    const counts = new KnownSpreads(2);
    counts.learn("a", spread(2), 0);
    counts.learn("b", spread(3), 0);
    counts.learn("a", spread(2), 1);
    counts.learn("c", spread(4), 2);
    expect([counts.get("a", 3).shards, counts.get("b", 3).shards, counts.get("c", 3).shards]).toEqual([2, 1, 4]);
    counts.learn("a", spread(1), 4);
    expect(counts.get("a", 5)).toEqual(spread(1));
    expect(counts.size).toBe(1);
  });
});

describe("spreadFor and shardOf: a channel spreading through a storm", () => {
  it("keeps one object while it is under the threshold, and never lowers the count", () => {
    expect(spreadFor([79], 1, 100)).toEqual({ shards: 1, closed: [] });
    expect(spreadFor([10, 5, 0], 3, 100)).toEqual({ shards: 3, closed: [] });
  });

  it("closes the objects past the threshold and grows to hold every client at half the cap, with one open at least", () => {
    expect(spreadFor([SPREAD_AT * 100], 1, 100)).toEqual({ shards: 2, closed: [0] });
    expect(spreadFor([80, 80, 80], 3, 100)).toEqual({ shards: 5, closed: [0, 1, 2] });
    expect(spreadFor([90, 10], 2, 100)).toEqual({ shards: 2, closed: [0] });
    expect(spreadFor([1_000_000], 1, 10).shards).toBe(MAX_CHANNEL_SHARDS);
  });

  it("sends no id to a closed object, and an id to the same object while the spread stands", () => {
    const spread = { shards: 8, closed: [0, 3, 5] };
    for (let i = 0; i < 2_000; i++) {
      const shard = shardOf(`id-${i}`, spread);
      expect(spread.closed).not.toContain(shard);
      expect(shardOf(`id-${i}`, spread)).toBe(shard);
    }
    expect(shardOf("x", { shards: 3, closed: [0, 1, 2] })).toBe(shardOf("x", 3));
  });

  it("keeps every object under its cap through a storm, with the spread seen a step late", () => {
    const cap = 100;
    const ids = Array.from({ length: 5_000 }, (_, i) => `storm-${i}`);
    const clients = [0];
    let spread = { shards: 1, closed: [] as readonly number[] };
    // The edges route by the spread decided one step earlier: the delay of the spread list.
    const step = 10;
    for (let i = 0; i < ids.length; i += step) {
      const routedWith = spread;
      for (const id of ids.slice(i, i + step)) {
        const shard = shardOf(id, routedWith);
        clients[shard] = (clients[shard] ?? 0) + 1;
      }
      spread = spreadFor(clients, spread.shards, cap);
      for (let k = clients.length; k < spread.shards; k++) clients[k] = 0;
    }
    expect(Math.max(...clients)).toBeLessThanOrEqual(cap);
    expect(clients.reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect(spread.shards, "about every client at half the cap to four fifths of it").toBeLessThanOrEqual(ids.length / (cap / 2));
  });
});
