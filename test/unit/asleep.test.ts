/**
 * A room that has done its work holds nothing that would keep a Durable Object awake: no
 * timer but its storage alarm, whatever features are on. On the in-memory host with vitest's
 * fake clock, where every pending timer is counted (`vi.getTimerCount()`): after webhooks are
 * delivered, and while a failed batch waits for its retry (which its alarm covers, not a tick
 * armed again and again). test/integration/asleep.test.ts shows the same on the real engine.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { WebhookPayload } from "../../party/protocol/index.ts";
import { joinThroughEdge, memoryService, requestThroughEdge } from "../support/memory-edge.ts";
import type { MemoryWorld } from "../support/memory-host.ts";
import { webhookSecret } from "../support/webhook-receiver.ts";

const RETRY_MS = 60_000;
const ENV = {
  PRESENCE_GRACE_MS: "1000",
  PRESENCE_TICK_MS: "50",
  PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000",
  PRESENCE_HEARTBEAT_INTERVAL_MS: "10000",
  PRESENCE_DIRECTORY: "off",
  PRESENCE_WEBHOOK_URL: "http://hooks.example/in",
  PRESENCE_WEBHOOK_SECRET: webhookSecret(),
  PRESENCE_WEBHOOK_TIMEOUT_MS: "30000",
  PRESENCE_WEBHOOK_RETRY_MS: String(RETRY_MS),
};
let world: MemoryWorld;
let edge: EdgeHost;
/** How the endpoint answers the next request (200 by default). */
let status: number[];
/** The presence batches the endpoint was sent (each attempt), as their events' types. */
let attempts: string[][];

beforeEach(() => {
  vi.useFakeTimers({ now: 5_000_000 });
  status = [];
  attempts = [];
  vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
    const payload = JSON.parse(String(init.body)) as WebhookPayload;
    attempts.push(payload.type === "presence.events" ? payload.data.events.map((e) => e.type) : payload.data.events.map((e) => e.type));
    return new Response("ok", { status: status.shift() ?? 200 });
  });
  ({ world, edge } = memoryService(ENV));
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** Timers pending in the world beyond the rooms' storage alarms (the memory host arms one timer per alarm). */
function strayTimers(): number {
  const alarms = [...world.rooms.values()].filter((room) => room.storage.alarm !== null).length;
  return vi.getTimerCount() - alarms;
}

describe("a room with webhooks on, once its work is done", () => {
  it("holds no timer but its alarm after a delivery", async () => {
    const room = await world.room<SocketState>("main", "quiet-hall");
    await joinThroughEdge(room, edge, "a1", "userId=ann");
    // The tick, the delivery, the counters the delivery moved (stored by a tick of their own), and
    // the index's report of them (GET /metrics), a second after its first: the room is done by 1.5 s.
    await vi.advanceTimersByTimeAsync(1500);
    expect(attempts).toEqual([["channel.occupied", "join"]]);
    expect(strayTimers(), "timers left behind by the tick or the delivery").toBe(0);
  });

  it("waits for a failed batch's retry on its alarm, with no tick running meanwhile", async () => {
    const room = await world.room<SocketState>("main", "retry-hall");
    status = [500];
    await joinThroughEdge(room, edge, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(200);
    expect(attempts).toHaveLength(1);
    const writes = room.storage.writes;
    // Long before the retry: the room must be idle, with its alarm set for the retry.
    await vi.advanceTimersByTimeAsync(RETRY_MS / 2);
    expect(strayTimers(), "a tick armed again and again while the retry waits").toBe(0);
    expect(room.storage.writes, "storage written while nothing happened").toBe(writes);
    expect(room.storage.alarm, "the alarm covers the retry").not.toBeNull();
    expect(room.storage.alarm!).toBeLessThanOrEqual(Date.now() + RETRY_MS);
    // The alarm sends it again, and then nothing is left pending.
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toEqual(attempts[0]);
    const stats = await requestThroughEdge(room, edge, "GET", "?stats");
    expect(stats.body.content.webhooks).toMatchObject({ pending: 0, delivered: 1, failedAttempts: 1 });
    expect(strayTimers()).toBe(0);
  });
});

describe("a directory part with webhooks on", () => {
  it("waits for a failed batch's retry on its alarm, with no tick running meanwhile", async () => {
    ({ world, edge } = memoryService({ ...ENV, PRESENCE_DIRECTORY: "on", PRESENCE_DIRECTORY_PARTS: "1", PRESENCE_WEBHOOK_EVENTS: "user.online,user.offline" }));
    const room = await world.room<SocketState>("main", "directory-hall");
    status = [500];
    await joinThroughEdge(room, edge, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(1000);
    expect(attempts).toEqual([["user.online"]]);
    const part = world.rooms.get("directory/p0")!;
    const writes = part.storage.writes;
    await vi.advanceTimersByTimeAsync(RETRY_MS / 2);
    expect(strayTimers(), "a tick armed again and again while the retry waits").toBe(0);
    expect(part.storage.writes, "storage written while nothing happened").toBe(writes);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(attempts).toEqual([["user.online"], ["user.online"]]);
    expect(strayTimers()).toBe(0);
  });
});
