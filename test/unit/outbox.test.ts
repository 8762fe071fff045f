/**
 * The channel core's outbox: effects in order, and writes with nothing between them merged into
 * one that leaves storage as the separate writes would.
 */
import { describe, expect, it } from "vitest";
import { type Effect, Outbox } from "../../party/channel/effects.ts";

/** Storage as a map, after applying the writes among `effects` in order (a write puts, then deletes). */
function applied(effects: readonly Effect[], start: Record<string, unknown> = {}): Record<string, unknown> {
  const rows = new Map(Object.entries(start));
  for (const effect of effects) {
    if (effect.kind !== "write") continue;
    for (const [key, value] of effect.put) rows.set(key, value);
    for (const key of effect.delete) rows.delete(key);
  }
  return Object.fromEntries([...rows].sort(([a], [b]) => a.localeCompare(b)));
}

describe("Outbox", () => {
  it("merges writes that follow each other into one, the later word on a key winning", () => {
    const out = new Outbox();
    out.write([["m:a", 1], ["m:b", 1]]);
    out.write([["hist:1", "join"]], ["m:c"]);
    out.write([["meta", { seq: 1 }], ["m:c", 2]], ["m:a"]);
    const effects = out.take();
    expect(effects).toHaveLength(1);
    expect(effects[0]).toEqual({ kind: "write", put: [["m:b", 1], ["hist:1", "join"], ["m:c", 2], ["meta", { seq: 1 }]], delete: ["m:a"] });
  });

  it("keeps writes apart when something comes between them, and leaves storage as the separate writes would", () => {
    const out = new Outbox();
    const separate: Effect[] = [];
    const script: Array<[Array<[string, unknown]>, string[]]> = [
      [[["a", 1], ["b", 1]], []],
      [[], ["a"]],
      [[["a", 2]], ["b"]],
      [[["c", 3]], ["c"]],
    ];
    for (const [put, deleted] of script) {
      out.write(put, deleted);
      separate.push({ kind: "write", put, delete: deleted });
    }
    out.sync();
    out.write([["d", 4]]);
    const effects = out.take();
    expect(effects.map((effect) => effect.kind)).toEqual(["write", "sync", "write"]);
    expect(applied(effects, { b: 0, c: 0 })).toEqual(applied([...separate, { kind: "write", put: [["d", 4]], delete: [] }], { b: 0, c: 0 }));
    expect(applied(effects, { b: 0, c: 0 })).toEqual({ a: 2, d: 4 });
  });

  it("writes nothing for empty lists", () => {
    const out = new Outbox();
    out.write([], []);
    expect(out.take()).toEqual([]);
  });
});
