/**
 * The device helper (`partykit-presence/device`) against a scripted `fetch` on vitest's fake
 * clock: when it renews, what each heartbeat carries, each push handed over once and
 * acknowledged at once, a failing handler not acknowledged, fatal refusals stop it, and
 * `stop()` removes the client.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPresenceDevice, type HeldPush } from "../../client/device.ts";

type Sent = { method: string; path: string; auth: string | null; body: any };

/** A fetch that records each request and answers with what `answer` returns for it. */
function scripted(answer: (sent: Sent, n: number) => { status: number; body: unknown }) {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const request: Sent = { method: init?.method ?? "GET", path: url.pathname, auth: headers.get("authorization"), body: init?.body ? JSON.parse(String(init.body)) : undefined };
    sent.push(request);
    const { status, body } = answer(request, sent.length);
    return new Response(JSON.stringify(body), { status });
  };
  return { sent, fetch: fetch as typeof globalThis.fetch };
}

const state = (pushes: HeldPush[] = []) => ({
  status: 200,
  body: { code: 200, content: { clientId: "d1", userId: "u", clientType: "device", expiresAt: Date.now() + 9000, pushes, clientAmount: 1, userAmount: 1 } },
});
const removed = { status: 200, body: { code: 200, content: { clientId: "d1", removed: true, clientAmount: 0, userAmount: 0 } } };

beforeEach(() => {
  vi.useFakeTimers({ now: 5_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createPresenceDevice", () => {
  it("sends a heartbeat at once and then every third of its TTL, with its token, and removes the client on stop", async () => {
    const { sent, fetch } = scripted((request) => (request.method === "DELETE" ? removed : state()));
    const device = createPresenceDevice({ host: "localhost:1999", channel: "claws", clientId: "d1", userId: "u", data: { coins: 0 }, ttlMs: 9000, token: () => "tok", fetch });
    const first = await device.start();
    expect(first.expiresAt).toBe(5_009_000);
    expect(device.expiresAt).toBe(5_009_000);
    expect(sent).toEqual([{ method: "PUT", path: "/parties/main/claws/clients/d1", auth: "Bearer tok", body: { userId: "u", ttlMs: 9000, data: { coins: 0 } } }]);
    await vi.advanceTimersByTimeAsync(2999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(sent).toHaveLength(3);
    await device.stop();
    expect(sent.at(-1)).toMatchObject({ method: "DELETE", path: "/parties/main/claws/clients/d1" });
    expect(device.running).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sent, "nothing after stop").toHaveLength(4);
  });

  it("hands each push to onPush once, acknowledges it in an immediate heartbeat, and leaves a failed one unacknowledged", async () => {
    const push = { id: "p1", data: { coins: 2 }, channel: "claws", from: null };
    const bad = { id: "p2", data: "boom", channel: "claws", from: "ops" };
    const { sent, fetch } = scripted((_request, n) => (n <= 2 ? state([push, bad]) : state([bad])));
    const handled: string[] = [];
    const device = createPresenceDevice({
      host: "localhost:1999",
      channel: "claws",
      clientId: "d1",
      userId: "u",
      ttlMs: 30_000,
      fetch,
      onPush: (p) => {
        handled.push(p.id);
        if (p.id === "p2") throw new Error("handler failed");
      },
    });
    await device.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(sent).toHaveLength(3);
    expect(sent[1]!.body.acks, "acknowledged at once, not a whole interval later").toEqual(["p1"]);
    // The second answer still lists p1 (as if that ack were lost): acknowledged again, not handled again.
    expect(sent[2]!.body.acks).toEqual(["p1"]);
    await vi.advanceTimersByTimeAsync(10);
    expect(sent, "then nothing until the interval: p1 is acknowledged, p2 failed again").toHaveLength(3);
    expect(handled.filter((id) => id === "p1")).toHaveLength(1);
    // p2's handler fails each time: never acknowledged.
    expect(sent.every((request) => !(request.body?.acks ?? []).includes("p2"))).toBe(true);
    expect(handled.filter((id) => id === "p2").length).toBeGreaterThanOrEqual(2);
  });

  it("stops on a refusal it cannot get past (409 replaced), telling onError, and keeps renewing after a network failure", async () => {
    let fail: "network" | "replaced" | null = "network";
    const errors: Array<[string, boolean]> = [];
    const { sent, fetch } = scripted(() => {
      if (fail === "replaced") return { status: 409, body: { code: 409, error: "replaced", message: "a newer client replaced d1" } };
      return state();
    });
    const flaky: typeof globalThis.fetch = async (input, init) => {
      if (fail === "network") {
        fail = null;
        throw new TypeError("fetch failed");
      }
      return fetch(input, init);
    };
    const device = createPresenceDevice({ host: "localhost:1999", channel: "c", clientId: "d1", userId: "u", ttlMs: 3000, fetch: flaky, onError: (e, fatal) => errors.push([e.message, fatal]) });
    await expect(device.start()).rejects.toThrow("fetch failed");
    expect(device.running).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    fail = "replaced";
    await vi.advanceTimersByTimeAsync(1000);
    expect(device.running).toBe(false);
    expect(errors).toEqual([
      ["fetch failed", false],
      ["409 replaced: a newer client replaced d1", true],
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toHaveLength(2);
  });
});
