/**
 * Deadlines (party/server/deadlines.ts): the earliest deadline and the keys due, against a
 * plain map scanned in full, over random sets, moves and clears; and its stale entries kept
 * bounded.
 */
import { describe, expect, it } from "vitest";
import { Deadlines } from "../../party/server/deadlines.ts";

/** A small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("Deadlines", () => {
  it("gives the earliest deadline in force, and the keys due earliest first, leaving them cleared", () => {
    const deadlines = new Deadlines();
    deadlines.set("a", 30);
    deadlines.set("b", 10);
    deadlines.set("c", 20);
    expect(deadlines.next()).toBe(10);
    deadlines.set("b", 40); // moved later: its old entry no longer counts
    expect(deadlines.next()).toBe(20);
    deadlines.delete("c");
    expect(deadlines.next()).toBe(30);
    expect(deadlines.due(29)).toEqual([]);
    expect(deadlines.due(40)).toEqual(["a", "b"]);
    expect(deadlines.next()).toBeNull();
    expect(deadlines.size).toBe(0);
  });

  it("agrees with a full scan over thousands of random sets, moves, clears and takes", () => {
    const next = random(7);
    const deadlines = new Deadlines();
    const model = new Map<string, number>();
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(next() * 300)}`;
      const roll = next();
      if (roll < 0.6) {
        const at = now + Math.floor(next() * 1000);
        deadlines.set(key, at);
        model.set(key, at);
      } else if (roll < 0.8) {
        deadlines.delete(key);
        model.delete(key);
      } else {
        now += Math.floor(next() * 100);
        const due = [...model].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
        for (const [k] of due) model.delete(k);
        const taken = deadlines.due(now);
        expect(new Set(taken)).toEqual(new Set(due.map(([k]) => k)));
        // Earliest first (ties in any order).
        expect(taken.map((k) => due.find(([d]) => d === k)![1])).toEqual(due.map(([, at]) => at));
      }
      const earliest = model.size === 0 ? null : Math.min(...model.values());
      expect(deadlines.next()).toBe(earliest);
      expect(deadlines.size).toBe(model.size);
      for (const [k, at] of model) if (k === key) expect(deadlines.get(k)).toBe(at);
    }
  });

  it("keeps its stale entries bounded when the same keys move again and again (lease renewals)", () => {
    const deadlines = new Deadlines();
    for (let round = 0; round < 1000; round++) for (let k = 0; k < 100; k++) deadlines.set(`k${k}`, round * 1000 + k);
    expect(deadlines.size).toBe(100);
    expect(deadlines.next()).toBe(999_000);
    // Each move leaves an entry behind; without the rebuild there would be 100,000.
    expect(deadlines.entries).toBeLessThanOrEqual(2 * 100 + 64);
    expect(deadlines.due(Infinity)).toHaveLength(100);
  });
});
