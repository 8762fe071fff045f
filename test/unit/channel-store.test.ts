/**
 * The channel's one read at a start (loadChannel): every kind of row the room writes comes back,
 * in two lists (the HTTP clients, then one range for the rest but the history), and every
 * prefix but those two falls inside that range.
 */
import { describe, expect, it } from "vitest";
import { historyKey } from "../../party/channel/history.ts";
import { HTTP_CLIENT_PREFIX } from "../../party/channel/http-client-rows.ts";
import { PUSH_LOG_PREFIX } from "../../party/channel/pushes.ts";
import { loadChannel, memberRows, metaRow, ROWS_END, ROWS_START } from "../../party/channel/store.ts";
import { WATCH_PREFIX } from "../../party/channel/watching.ts";
import { SHARD_CLIENT_PREFIX } from "../../party/channel/shard-clients.ts";
import type { WebhookSettings } from "../../party/server/config.ts";
import { loadOutbox, outboxRows } from "../../party/server/webhooks.ts";
import type { WebhookBatch } from "../../party/server/webhook-outbox.ts";
import { MemoryStorage } from "../support/memory-host.ts";

const webhook: WebhookSettings = { url: "https://hooks.example/in", secret: "whsec_x", events: new Set(), timeoutMs: 1000, retryMs: 1000, maxAttempts: 3 };
const batch = (n: number): WebhookBatch => ({ n, id: `b${n}`, body: "{}", createdAt: 0, attempts: 0, nextAt: 0 });

/** A storage holding one row of every kind a channel writes, and a count of its reads. */
function storedChannel() {
  const storage = new MemoryStorage();
  const member = { id: "ann", status: "online", data: null, joinedAt: 1, lastSeen: 1 };
  const rows: Array<readonly [string, unknown]> = [
    ...memberRows([member as never], [], { rows: [[historyKey(7), { at: 5, action: "join" } as never]], drops: [] }).put,
    metaRow({ seq: 3, history: { first: 7, next: 8 } }),
    [HTTP_CLIENT_PREFIX + "dev-1", { clientId: "dev-1", userId: "bob", clientType: "device", ttlMs: 60_000, renewedAt: 1, expiresAt: 60_001 }],
    [WATCH_PREFIX + "conn-1", ["cat"]],
    [SHARD_CLIENT_PREFIX + "s1-a", { connectionId: "s1-a", shard: 1, userId: "dan", clientType: "ios" }],
    [PUSH_LOG_PREFIX + "push-1", { result: { delivered: 1 }, expiresAt: 9 }],
    ...outboxRows({ put: [batch(1)], delete: [], deadPut: [batch(2)], deadDelete: [] }, webhook.url).put,
  ];
  for (const [key, value] of rows) storage.rows.set(key, value);
  const reads: string[] = [];
  const list = storage.list.bind(storage);
  const get = storage.get.bind(storage);
  storage.list = (options) => (reads.push("list"), list(options));
  storage.get = (key) => (reads.push(`get ${key}`), get(key));
  return { storage, reads, keys: rows.map(([key]) => key) };
}

describe("loadChannel", () => {
  it("reads back every kind of row in two lists (and the history's two ends)", async () => {
    const { storage, reads } = storedChannel();
    const stored = await loadChannel(storage, webhook);
    expect(stored.meta?.seq).toBe(3);
    expect(stored.members.map((m) => m.id)).toEqual(["ann"]);
    expect(stored.httpClients.map((row) => row.clientId)).toEqual(["dev-1"]);
    expect([...stored.watches]).toEqual([["conn-1", ["cat"]]]);
    expect(stored.shardClients).toEqual([{ connectionId: "s1-a", shard: 1, userId: "dan", clientType: "ios" }]);
    expect([...stored.pushLog.keys()]).toEqual(["push-1"]);
    expect(stored.webhooks).toMatchObject({ queue: [{ n: 1 }], dead: [{ n: 2 }], gone: true });
    expect(stored.historyEnds).toEqual({ oldestAt: 5, lastAt: 5 });
    expect(reads).toEqual(["list", "list", `get ${historyKey(7)}`, `get ${historyKey(7)}`]);
  });

  it("covers every prefix but the HTTP clients' and the history's with its one range", () => {
    const { keys } = storedChannel();
    const outside = keys.filter((key) => !(key >= ROWS_START && key < ROWS_END));
    expect(outside.sort()).toEqual([HTTP_CLIENT_PREFIX + "dev-1", historyKey(7)].sort());
  });

  it("reads a webhook outbox on its own (the directory's) in one list, beside watch rows it must not take", async () => {
    const { storage, reads } = storedChannel();
    expect(await loadOutbox(storage, webhook)).toMatchObject({ queue: [{ n: 1 }], dead: [{ n: 2 }], gone: true });
    expect(reads).toEqual(["list"]);
  });

  it("reads no outbox without a webhook URL", async () => {
    const { storage } = storedChannel();
    expect((await loadChannel(storage, null)).webhooks).toBeNull();
  });
});
