/** Pushes, piece by piece: the room's delivery desk, the idempotency log, merging answers, and the client's inbox. */
import { describe, expect, it } from "vitest";
import { runPushHandlers } from "../../client/push-handlers.ts";
import { type PushHandler, PushInbox } from "../../client/push-inbox.ts";
import { PushDesk } from "../../party/channel/push-desk.ts";
import type { PushResult, Push, ServerMessage } from "../../party/protocol/index.ts";
import { type LoggedPush, mergeDeliveries, PushLog } from "../../party/server/pushes.ts";

const T = 1_000_000;
const push = (over: Partial<Push> = {}): Push => ({ id: "p1", userId: "jack", data: { n: 1 }, deadline: T + 200, from: null, ...over });

function desk() {
  const sent: Array<[string, ServerMessage]> = [];
  return { sent, desk: new PushDesk("room", { ask: (connectionId, message) => sent.push([connectionId, message]) }) };
}

/** The one delivery that settled (its answer), or a failure naming how many did. */
function settledOne(d: PushDesk): { acked: unknown[]; unacked: unknown[] } {
  const settled = d.takeSettled();
  expect(settled).toHaveLength(1);
  return settled[0]!.delivery;
}

describe("PushDesk", () => {
  it("sends to each client and settles as soon as all acknowledged, with each one's type", () => {
    const { desk: d, sent } = desk();
    d.deliver(push(), [{ connectionId: "a", clientType: "web" }, { connectionId: "b", clientType: undefined }], T);
    expect(sent.map(([id, m]) => [id, m.type])).toEqual([["a", "push"], ["b", "push"]]);
    expect(sent[0]![1]).toEqual({ type: "push", id: "p1", data: { n: 1 }, channel: "room", from: null });
    d.ack("a", "p1", true);
    expect(d.takeSettled(), "one client has not answered yet").toEqual([]);
    d.ack("b", "p1", true);
    expect(settledOne(d)).toEqual({ acked: [{ channel: "room", connectionId: "a", clientType: "web" }, { channel: "room", connectionId: "b" }], unacked: [] });
  });

  it("reports a negative ack with its error, a silent client as timeout (at the deadline, not before), and one that closed as closed", () => {
    const { desk: d } = desk();
    d.deliver(push(), ["a", "b", "c"].map((connectionId) => ({ connectionId, clientType: undefined })), T);
    d.ack("a", "p1", false, "no handler");
    d.forget("c");
    expect(d.nextDeadline()).toBe(T + 200);
    d.expire(T + 199);
    expect(d.takeSettled()).toEqual([]);
    d.expire(T + 200);
    const { acked, unacked } = settledOne(d);
    expect(acked).toEqual([]);
    expect(unacked).toEqual([
      { channel: "room", connectionId: "a", reason: "rejected", error: "no handler" },
      { channel: "room", connectionId: "b", reason: "timeout" },
      { channel: "room", connectionId: "c", reason: "closed" },
    ]);
    expect(d.nextDeadline()).toBeNull();
  });

  it("sends again to a client that comes back mid-push without having answered, and to a new client of the user", () => {
    const { desk: d, sent } = desk();
    d.deliver(push({ clientType: "web" }), [{ connectionId: "a", clientType: "web" }], T);
    d.forget("a");
    d.connected("a", "jack", "web", T);
    d.connected("n", "jack", "web", T);
    d.connected("x", "jack", "app", T);
    d.connected("t", "ted", "web", T);
    expect(sent.map(([id]) => id)).toEqual(["a", "a", "n"]);
    d.ack("a", "p1", true);
    d.ack("n", "p1", true);
    expect((settledOne(d).acked as Array<{ connectionId: string }>).map((t) => t.connectionId)).toEqual(["a", "n"]);
  });

  it("ignores answers to pushes it did not send, and repeated answers", () => {
    const { desk: d } = desk();
    d.deliver(push(), [{ connectionId: "a", clientType: undefined }], T);
    d.ack("z", "p1", true);
    d.ack("a", "other", true);
    d.ack("a", "p1", false, "first");
    d.ack("a", "p1", true);
    expect(settledOne(d).unacked).toEqual([{ channel: "room", connectionId: "a", reason: "rejected", error: "first" }]);
  });

  it("settles at once when there is nobody to send to, and runs one delivery per id", () => {
    const { desk: d, sent } = desk();
    d.deliver(push(), [], T);
    expect(settledOne(d)).toEqual({ acked: [], unacked: [] });
    d.deliver(push({ id: "same" }), [{ connectionId: "a", clientType: undefined }], T);
    d.deliver(push({ id: "same" }), [{ connectionId: "b", clientType: undefined }], T);
    expect(d.running("same")).toBe(true);
    expect(sent.map(([id]) => id)).toEqual(["a"]);
  });
});

describe("PushLog", () => {
  function memoryStore() {
    const rows = new Map<string, LoggedPush>();
    return {
      rows,
      store: {
        get: async (id: string) => rows.get(id),
        put: async (id: string, entry: LoggedPush) => void rows.set(id, entry),
        delete: async (ids: string[]) => void ids.forEach((id) => rows.delete(id)),
        list: async () => new Map(rows),
      },
    };
  }
  const result = (id: string, clients: number): PushResult => ({ id, clients, acked: [], unacked: [] });

  it("runs an id once: a repeat, even while the first runs, gets the first answer", async () => {
    const { store } = memoryStore();
    const log = new PushLog(store, () => Date.now());
    let runs = 0;
    const run = async () => result("a", ++runs);
    const [one, two] = await Promise.all([log.run("a", Date.now(), run), log.run("a", Date.now(), run)]);
    expect([one.clients, two.clients, runs]).toEqual([1, 1, 1]);
    expect((await log.run("a", Date.now(), run)).clients).toBe(1);
    expect(runs).toBe(1);
  });

  it("runs an id again after ten minutes, and sweeps the expired rows (also those from before a restart)", async () => {
    const { store, rows } = memoryStore();
    const log = new PushLog(store, () => Date.now());
    await log.run("a", Date.now(), async () => result("a", 1));
    const expiry = log.nextExpiry()!;
    expect(expiry - Date.now()).toBeGreaterThan(9 * 60 * 1000);
    expect((await log.run("a", expiry + 1, async () => result("a", 2))).clients).toBe(2);
    const restarted = new PushLog(store, () => Date.now());
    await restarted.load();
    await restarted.sweep(Date.now() + 11 * 60 * 1000);
    expect(rows.size).toBe(0);
  });
});

describe("mergeDeliveries", () => {
  it("adds up the rooms' answers and names the rooms that failed", () => {
    expect(
      mergeDeliveries("p", [
        { channel: "a", delivery: { acked: [{ channel: "a", connectionId: "1" }], unacked: [] } },
        { channel: "b", delivery: { acked: [], unacked: [{ channel: "b", connectionId: "2", reason: "timeout" }] } },
        { channel: "c", delivery: { error: "down" } },
      ]),
    ).toEqual({
      id: "p",
      clients: 2,
      acked: [{ channel: "a", connectionId: "1" }],
      unacked: [{ channel: "b", connectionId: "2", reason: "timeout" }],
      failedChannels: [{ channel: "c", error: "down" }],
    });
  });
});

describe("runPushHandlers (the app's handlers, run by the PresenceClient)", () => {
  const info = { id: "p1", channel: "room", from: null };

  it("acknowledges once the handlers return, and waits for a handler's promise", async () => {
    const seen: unknown[] = [];
    const handlers = new Set<PushHandler>([
      async (data) => {
        await new Promise((done) => setTimeout(done, 20));
        seen.push(data);
      },
    ]);
    expect(await runPushHandlers(handlers, { n: 1 }, info)).toEqual({ ok: true });
    expect(seen).toEqual([{ n: 1 }]);
  });

  it("answers negatively with the error when a handler throws or rejects, and when there is no handler", async () => {
    expect(await runPushHandlers(new Set(), 1, { ...info, id: "a" })).toEqual({ ok: false, error: "no push handler on this client" });
    const throws = () => {
      throw new Error("boom");
    };
    expect(await runPushHandlers(new Set([throws]), 1, { ...info, id: "b" })).toEqual({ ok: false, error: "boom" });
    expect(await runPushHandlers(new Set([async () => Promise.reject(new Error("later"))]), 1, { ...info, id: "c" })).toEqual({ ok: false, error: "later" });
  });
});

describe("PushInbox (pure: which push ids were answered, and how)", () => {
  it("hands a push to the handlers once per id, and answers a repeat as the first time", () => {
    const inbox = new PushInbox();
    expect(inbox.receive("p1", 0)).toBe("new");
    expect(inbox.answered("p1", { ok: true })).toBe(1);
    expect(inbox.receive("p1", 1000)).toEqual({ ok: true });
    expect(inbox.receive("p2", 1000)).toBe("new");
    expect(inbox.answered("p2", { ok: false, error: "boom" })).toBe(1);
    expect(inbox.receive("p2", 2000)).toEqual({ ok: false, error: "boom" });
  });

  it("answers a repeat that arrives while the handlers still run once they answer, once per arrival", () => {
    const inbox = new PushInbox();
    expect(inbox.receive("p1", 0)).toBe("new");
    expect(inbox.receive("p1", 10)).toBe("waiting");
    expect(inbox.receive("p1", 20)).toBe("waiting");
    expect(inbox.answered("p1", { ok: true })).toBe(3);
  });

  it("forgets an id 10 minutes after it arrived: the same id is then a new push", () => {
    const inbox = new PushInbox();
    inbox.receive("p1", 0);
    inbox.answered("p1", { ok: true });
    expect(inbox.receive("p1", 10 * 60 * 1000 - 1)).toEqual({ ok: true });
    expect(inbox.receive("p1", 10 * 60 * 1000)).toBe("new");
  });
});
