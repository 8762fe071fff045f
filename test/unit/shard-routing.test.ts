import { describe, expect, it } from "vitest";
import { parseShardRoom, SHARD_COUNT_TTL_MS, ShardCounts, shardOf, shardRoom } from "../../party/server/channel-shards.ts";
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

describe("ShardCounts: an edge's memory of shard counts", () => {
  it("takes a channel it does not know for one shard, and one it learnt for its count until the memory is stale", () => {
    const counts = new ShardCounts();
    expect(counts.get("stage", 0)).toBe(1);
    counts.learn("stage", 4, 1_000);
    expect(counts.get("stage", 1_000 + SHARD_COUNT_TTL_MS - 1)).toBe(4);
    expect(counts.get("stage", 1_000 + SHARD_COUNT_TTL_MS)).toBe(1);
    expect(counts.size).toBe(0);
  });

  it("forgets a channel back to one shard, and the oldest learnt past its limit", () => {
    const counts = new ShardCounts(2);
    counts.learn("a", 2, 0);
    counts.learn("b", 3, 0);
    counts.learn("a", 2, 1);
    counts.learn("c", 4, 2);
    expect([counts.get("a", 3), counts.get("b", 3), counts.get("c", 3)]).toEqual([2, 1, 4]);
    counts.learn("a", 1, 4);
    expect(counts.get("a", 5)).toBe(1);
    expect(counts.size).toBe(1);
  });
});
