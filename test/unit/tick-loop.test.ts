/**
 * The pacing rule of every room's tick loop: a lone change after a quiet spell runs at once;
 * the changes of a burst are coalesced into one run per tick, as many runs as without the rule.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TickLoop, waitForRun } from "../../party/server/tick-loop.ts";
import { MemoryStorage } from "../support/memory-host.ts";

describe("waitForRun", () => {
  it("does not wait before the first run, nor after a whole tick without one", () => {
    expect(waitForRun(null, 250, 1_000)).toBe(0);
    expect(waitForRun(1_000, 250, 1_250)).toBe(0);
    expect(waitForRun(1_000, 250, 9_000)).toBe(0);
  });

  it("waits until a tick after the last run while the tick is open", () => {
    expect(waitForRun(1_000, 250, 1_000)).toBe(250);
    expect(waitForRun(1_000, 250, 1_100)).toBe(150);
    expect(waitForRun(1_000, 250, 1_249)).toBe(1);
  });
});

describe("TickLoop", () => {
  const TICK_MS = 250;
  let runs: number[];
  let loop: TickLoop;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    runs = [];
    loop = new TickLoop({
      tickMs: () => TICK_MS,
      storage: new MemoryStorage(),
      now: () => Date.now(),
      run: async (now) => void runs.push(now - 1_000_000),
      nextDeadline: () => null,
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs a lone change at once", async () => {
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([0]);
  });

  it("coalesces a burst into one run per tick after the first", async () => {
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    // Ten changes within the tick that follows: one run, at its end.
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(20);
      loop.schedule();
    }
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(runs).toEqual([0, TICK_MS]);
    // A storm from 450 ms to 1,440 ms, a change every 10 ms: one run per tick, as a fixed tick would.
    for (let i = 0; i < 100; i++) {
      loop.schedule();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(runs).toEqual([0, 250, 500, 750, 1000, 1250, 1500]);
  });

  it("runs at once again after a quiet spell of a tick", async () => {
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(TICK_MS + 50);
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([0, TICK_MS + 50]);
  });

  it("counts a run on the alarm as a run: a change right after it waits for the tick", async () => {
    await loop.alarm();
    await vi.advanceTimersByTimeAsync(100);
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([0]);
    await vi.advanceTimersByTimeAsync(TICK_MS - 100);
    expect(runs).toEqual([0, TICK_MS]);
  });
});
