import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../party/channel/rate-limit.ts";
import { Outbox } from "../../party/channel/effects.ts";
import { SocketBook } from "../../party/channel/sockets.ts";

/** How many takes succeed at `now` until the first refusal (capped). */
function drain(bucket: TokenBucket, now: number, cap = 10_000): number {
  let n = 0;
  while (n < cap && bucket.take(now)) n++;
  return n;
}

describe("TokenBucket", () => {
  it("starts full: allows a burst of exactly `burst` messages at once", () => {
    const bucket = new TokenBucket(20, 40, 0);
    expect(drain(bucket, 0)).toBe(40);
    expect(bucket.take(0)).toBe(false);
  });

  it("refills at ratePerSec: one token every 1000/rate ms", () => {
    const bucket = new TokenBucket(20, 40, 0);
    drain(bucket, 0);
    expect(bucket.take(49)).toBe(false);
    expect(bucket.take(50)).toBe(true);
    expect(bucket.take(50)).toBe(false);
    expect(drain(bucket, 550)).toBe(10);
  });

  it("sustains ratePerSec messages per second over a long run, no more", () => {
    const bucket = new TokenBucket(20, 40, 0);
    drain(bucket, 0);
    let allowed = 0;
    for (let t = 1; t <= 10_000; t++) if (bucket.take(t)) allowed++;
    expect(allowed).toBe(200);
  });

  it("does not refill beyond burst however long it rests", () => {
    const bucket = new TokenBucket(20, 40, 0);
    drain(bucket, 0);
    expect(drain(bucket, 3_600_000)).toBe(40);
  });

  it("does not count an idle start beyond burst either", () => {
    const bucket = new TokenBucket(5, 3, 0);
    expect(drain(bucket, 1_000_000)).toBe(3);
  });

  it("adds nothing when the clock goes backwards", () => {
    const bucket = new TokenBucket(20, 40, 1_000);
    drain(bucket, 1_000);
    expect(bucket.take(999)).toBe(false);
    expect(bucket.take(0)).toBe(false);
  });

  it("keeps fractional refill between calls", () => {
    const bucket = new TokenBucket(3, 1, 0);
    expect(bucket.take(0)).toBe(true);
    // 3/s: a token every 333.3 ms, even when asked every 100 ms.
    const results = [100, 200, 300, 400].map((t) => bucket.take(t));
    expect(results).toEqual([false, false, false, true]);
  });
});

describe("TokenBucket credit", () => {
  it("lets an answer the room asked for through even when the bucket is empty", () => {
    const bucket = new TokenBucket(1, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
    bucket.credit();
    bucket.credit();
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
  });
});

describe("SocketBook.ask", () => {
  it("sends the frame and lets the socket's answer through even when its bucket is empty", () => {
    const out = new Outbox();
    const book = new SocketBook({ ratePerSec: 1, rateBurst: 2, abuseCloseAfter: 10 }, out);
    book.accept("a", { instance: "i1", userId: "ann", at: 0 });
    expect([book.admit("a", 0), book.admit("a", 0), book.admit("a", 0)]).toEqual([true, true, false]);
    book.ask("a", { type: "push", id: "p1", data: 1, channel: "lobby", from: null }, 0);
    expect(book.admit("a", 0), "the push's answer").toBe(true);
    expect(book.admit("a", 0), "one answer per push").toBe(false);
    expect(out.take().filter((effect) => effect.kind === "send")).toMatchObject([{ kind: "send", to: "a", text: expect.stringContaining('"type":"push"') }]);
  });
});
