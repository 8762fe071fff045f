/** The webhook outbox as pure logic: order, one at a time, backoff with jitter and Retry-After, dead letters, 410, restore. */
import { describe, expect, it } from "vitest";
import { WebhookOutbox } from "../../party/server/webhook-outbox.ts";

const outbox = (over: { maxAttempts?: number; random?: number } = {}) =>
  new WebhookOutbox({ retryMs: 1000, maxAttempts: over.maxAttempts ?? 4, random: () => over.random ?? 0.5 });
const fail = (error = "the endpoint answered 500", retryAfterMs?: number) => ({ ok: false as const, gone: false as const, error, retryAfterMs });

describe("WebhookOutbox", () => {
  it("sends batches strictly in order, one at a time, each only after the one before it succeeded", () => {
    const box = outbox();
    const a = box.add("a", "{}", 0);
    box.add("b", "{}", 0);
    expect(box.due(0)?.id).toBe("a");
    expect(box.due(0), "nothing else while one is being sent").toBeNull();
    box.settle(a.n, fail(), 0);
    expect(box.due(0), "b waits behind a's retry").toBeNull();
    expect(box.due(1000)?.id).toBe("a");
    box.settle(a.n, { ok: true }, 1000);
    expect(box.due(1000)?.id).toBe("b");
  });

  it("backs off 4 times longer after each failure, with jitter, and honours a longer Retry-After", () => {
    const delays: number[] = [];
    for (const random of [0, 0.5, 0.999]) {
      const box = outbox({ maxAttempts: 10, random });
      const batch = box.add("a", "{}", 0);
      let now = 0;
      const mine: number[] = [];
      for (let i = 0; i < 3; i++) {
        box.due(now);
        box.settle(batch.n, fail(), now);
        const next = box.nextDeadline()!;
        mine.push(next - now);
        now = next;
      }
      delays.push(...mine);
    }
    // 1 s, 4 s, 16 s, within ±20%.
    expect(delays.slice(0, 3)).toEqual([800, 3200, 12800]);
    expect(delays.slice(3, 6)).toEqual([1000, 4000, 16000]);
    expect(delays.slice(6, 9).map((d) => Math.round(d / 100) * 100)).toEqual([1200, 4800, 19200]);
    const box = outbox();
    const batch = box.add("a", "{}", 0);
    box.due(0);
    box.settle(batch.n, fail("429", 30_000), 0);
    expect(box.nextDeadline()).toBe(30_000);
  });

  it("moves a batch to the dead letters after the last attempt, lets the next one go, and re-sends dead letters on request", () => {
    const box = outbox({ maxAttempts: 2 });
    const a = box.add("a", "{}", 0);
    const b = box.add("b", "{}", 0);
    box.due(0);
    box.settle(a.n, fail(), 0);
    box.due(10_000);
    box.settle(a.n, fail("the endpoint answered 503"), 10_000);
    expect(box.deadLetters.map((d) => [d.id, d.attempts, d.lastError])).toEqual([["a", 2, "the endpoint answered 503"]]);
    expect(box.due(10_000)?.id).toBe("b");
    expect(box.stats()).toMatchObject({ pending: 1, deadLetters: 1, failedAttempts: 2 });
    box.settle(b.n, { ok: true }, 10_000);
    expect(box.resend(20_000)).toBe(1);
    expect(box.deadLetters).toEqual([]);
    const again = box.due(20_000)!;
    expect([again.id, again.attempts]).toEqual(["a", 0]);
  });

  it("stops on 410 Gone, keeping the batch, until restored for another URL", () => {
    const box = outbox();
    const a = box.add("a", "{}", 0);
    box.due(0);
    box.settle(a.n, { ok: false, gone: true, error: "410" }, 0);
    expect(box.disabled).toBe(true);
    expect(box.due(1_000_000)).toBeNull();
    expect(box.nextDeadline()).toBeNull();
    const changes = box.take()!;
    const restored = outbox();
    restored.restore(changes.put, [], false);
    expect(restored.due(0)?.id).toBe("a");
  });

  it("restores in order with the numbers going on, and reports the rows to write and delete", () => {
    const box = outbox();
    const a = box.add("a", "{}", 0);
    const b = box.add("b", "{}", 0);
    expect(box.take()!.put.map((x) => x.id)).toEqual(["a", "b"]);
    box.due(0);
    box.settle(a.n, { ok: true }, 0);
    expect(box.take()).toEqual({ put: [], delete: [a.n], deadPut: [], deadDelete: [] });
    const restored = outbox();
    restored.restore([b], [], false);
    expect(restored.add("c", "{}", 0).n).toBeGreaterThan(b.n);
    expect(restored.due(0)?.id).toBe("b");
  });
});
