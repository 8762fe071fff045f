/**
 * The pacing rule of every room's tick loop: a lone change after a quiet spell runs at once;
 * the changes of a burst are coalesced into one run per tick, a tick counted from the end of the
 * last run that sent something, so runs that take long are never closer than a tick.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TickLoop, waitForRun } from "../../party/server/tick-loop.ts";
import { MemoryStorage } from "../support/memory-host.ts";

describe("waitForRun", () => {
  it("does not wait before anything was sent, nor after a whole tick without a send", () => {
    expect(waitForRun(null, 250, 1_000)).toBe(0);
    expect(waitForRun(1_000, 250, 1_250)).toBe(0);
    expect(waitForRun(1_000, 250, 9_000)).toBe(0);
  });

  it("waits until a tick after the last send while the tick is open", () => {
    expect(waitForRun(1_000, 250, 1_000)).toBe(250);
    expect(waitForRun(1_000, 250, 1_100)).toBe(150);
    expect(waitForRun(1_000, 250, 1_249)).toBe(1);
  });
});

describe("TickLoop", () => {
  const TICK_MS = 250;
  let runs: number[];
  let loop: TickLoop;
  /** How long the next runs take (fake time), and whether they send. */
  let runMs: number;
  let sends: boolean;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    runs = [];
    runMs = 0;
    sends = true;
    loop = new TickLoop({
      tickMs: () => TICK_MS,
      storage: new MemoryStorage(),
      now: () => Date.now(),
      run: async (now) => {
        runs.push(now - 1_000_000);
        if (runMs > 0) await new Promise((done) => setTimeout(done, runMs));
        return sends;
      },
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

  it("counts the tick from a run's end: a change during a long run waits for its end, then a tick", async () => {
    runMs = 400;
    loop.schedule();
    await vi.advanceTimersByTimeAsync(100);
    // The run takes 0-400 ms; a change at 100 ms is not in it.
    loop.schedule();
    await vi.advanceTimersByTimeAsync(300 + TICK_MS - 1);
    expect(runs).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([0, 400 + TICK_MS]);
  });

  it("a run that sent nothing does not hold the next change", async () => {
    sends = false;
    loop.schedule();
    await vi.advanceTimersByTimeAsync(50);
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([0, 50]);
    // A run that sent: the change after it waits for the tick.
    sends = true;
    await vi.advanceTimersByTimeAsync(50);
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    sends = false;
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual([0, 50, 100]);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(runs).toEqual([0, 50, 100, 100 + TICK_MS]);
  });

  it("an alarm's run takes the changes a timer waited for: no second run a moment later", async () => {
    loop.schedule();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(50);
    loop.schedule(); // armed for 250 ms
    await vi.advanceTimersByTimeAsync(50);
    await loop.alarm(); // a deadline at 100 ms runs, and takes the change
    await vi.advanceTimersByTimeAsync(TICK_MS * 2);
    expect(runs).toEqual([0, 100]);
  });
});

