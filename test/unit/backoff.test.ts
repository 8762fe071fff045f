/**
 * The client's reconnect jitter (client/backoff.ts): none for the first connect; for each
 * retry, a random extra wait of up to partysocket's own delay for that retry, so a crowd that
 * dropped at once spreads over the delay instead of coming back in the same instant.
 */
import { describe, expect, it } from "vitest";
import { reconnectJitterMs } from "../../client/backoff.ts";

describe("reconnectJitterMs", () => {
  it("adds nothing to the first connect", () => {
    expect(reconnectJitterMs(0, 250, 10_000, 0.99)).toBe(0);
  });

  it.each([
    [1, 250],
    [2, 325],
    [5, 250 * 1.3 ** 4],
    [20, 10_000],
  ])("spreads retry %i over [0, %d ms): partysocket's delay for it, capped at the longest", (retry, delay) => {
    expect(reconnectJitterMs(retry, 250, 10_000, 0)).toBe(0);
    expect(reconnectJitterMs(retry, 250, 10_000, 0.5)).toBe(Math.floor(delay * 0.5));
    expect(reconnectJitterMs(retry, 250, 10_000, 0.999999)).toBe(Math.floor(delay * 0.999999));
  });

  it("sends a crowd of a thousand back over the whole delay, not in one instant", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const waits = Array.from({ length: 1000 }, () => reconnectJitterMs(8, 250, 10_000, random()));
    const delay = 250 * 1.3 ** 7;
    // Ten slices of the delay each get about a tenth of the crowd.
    const slices = Array.from({ length: 10 }, (_, k) => waits.filter((w) => w >= (k * delay) / 10 && w < ((k + 1) * delay) / 10).length);
    for (const n of slices) expect(n).toBeGreaterThan(60);
  });
});
