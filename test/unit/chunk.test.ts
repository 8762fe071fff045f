import { describe, expect, it } from "vitest";
import { chunkByBytes, joinByBytes } from "../../party/channel/chunk.ts";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/** A deterministic mix of item sizes, including multi-byte characters. */
function items(n: number): Array<{ id: string; data: string }> {
  return Array.from({ length: n }, (_, i) => ({ id: `user-${i}`, data: (i % 3 === 0 ? "é🎉" : "x").repeat((i * 37) % 200) }));
}

describe("chunkByBytes", () => {
  it.each([1, 2, 10, 500])("keeps every one of %i items, in order", (n) => {
    const input = items(n);
    expect(chunkByBytes(input, 2_000).flat()).toEqual(input);
  });

  it.each([2_000, 4_000, 64_000])("keeps each part's JSON within a budget of %i bytes", (budget) => {
    const input = items(400);
    const parts = chunkByBytes(input, budget);
    for (const part of parts) expect(bytes(part)).toBeLessThanOrEqual(budget);
  });

  it("never produces an empty part for non-empty input", () => {
    for (const budget of [1, 50, 500, 5_000]) {
      const parts = chunkByBytes(items(100), budget);
      expect(parts.length).toBeGreaterThan(0);
      for (const part of parts) expect(part.length).toBeGreaterThan(0);
    }
  });

  it("gives an item larger than the budget a part of its own", () => {
    const big = { data: "x".repeat(1_000) };
    const parts = chunkByBytes([{ a: 1 }, big, { b: 2 }], 100);
    expect(parts).toEqual([[{ a: 1 }], [big], [{ b: 2 }]]);
  });

  it("keeps everything in one part when it fits", () => {
    const input = items(20);
    expect(chunkByBytes(input, 1_000_000)).toEqual([input]);
  });

  it("splits a list that does not fit into several parts", () => {
    expect(chunkByBytes(items(400), 4_000).length).toBeGreaterThan(1);
  });

  it("returns one empty part for an empty list, so an empty snapshot still goes out", () => {
    expect(chunkByBytes([], 1_000)).toEqual([[]]);
  });

  it("counts multi-byte characters against the budget", () => {
    // 100 four-byte emoji per item: about 400 bytes of UTF-8 each, though only 200 UTF-16 units.
    const input = Array.from({ length: 10 }, () => "🎉".repeat(100));
    const parts = chunkByBytes(input, 1_000);
    for (const part of parts) expect(bytes(part)).toBeLessThanOrEqual(1_000);
    expect(parts.length).toBeGreaterThanOrEqual(4);
  });
});

describe("joinByBytes", () => {
  it.each([
    [0, 1_000],
    [1, 1_000],
    [20, 1_000_000],
    [400, 4_000],
    [400, 64_000],
    [100, 50],
  ])("gives the texts of chunkByBytes' parts for %i items under %i bytes, each item stringified once", (n, budget) => {
    const input = items(n);
    expect(joinByBytes(input.map((item) => JSON.stringify(item)), budget)).toEqual(chunkByBytes(input, budget).map((part) => JSON.stringify(part)));
  });
});
