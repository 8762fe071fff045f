import { describe, expect, it } from "vitest";
import { BUSY_TICK_MS, tickFor } from "../../party/channel/pacing.ts";

const pacing = { tickMs: 50, intervalMs: 1000 };

describe("tickFor: how long a channel gathers changes", () => {
  it("is PRESENCE_TICK_MS in a small full-mode room", () => {
    expect(tickFor("full", 0, pacing)).toBe(50);
    expect(tickFor("full", 10, pacing)).toBe(50);
  });

  it("grows 2.5 ms per socket to 250 ms: a client of a room of 100 or more gets at most 4 diffs a second", () => {
    expect(tickFor("full", 40, pacing)).toBe(100);
    expect(tickFor("full", 100, pacing)).toBe(BUSY_TICK_MS);
    for (const sockets of [100, 250, 500, 999, 1000, 3000, 10_000]) {
      expect(1000 / tickFor("full", sockets, pacing)).toBeLessThanOrEqual(4);
    }
  });

  it("past 1,250 sockets grows 0.2 ms per socket: a room sends at most about 5,000 diffs a second", () => {
    expect(tickFor("full", 1000, pacing)).toBe(250);
    expect(tickFor("full", 2500, pacing)).toBe(500);
    expect(tickFor("full", 5000, pacing)).toBe(1000);
    for (const sockets of [1000, 2000, 5000, 10_000]) expect((sockets * 1000) / tickFor("full", sockets, pacing)).toBeLessThanOrEqual(5000);
  });

  it("never goes below PRESENCE_TICK_MS", () => {
    expect(tickFor("full", 500, { tickMs: 400, intervalMs: 1000 })).toBe(400);
  });

  it("is PRESENCE_INTERVAL_MS in interval mode, whatever the size", () => {
    expect(tickFor("interval", 10, pacing)).toBe(1000);
    expect(tickFor("interval", 10_000, pacing)).toBe(1000);
  });
});
