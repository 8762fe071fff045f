/**
 * A channel room as its shards' coordinator, on the in-memory host: the clients its shards
 * report (the `shard-report` call) are counted, announced and listed with its own sockets', as
 * one channel; a shard that stops reporting loses its clients to grace, then offline.
 */
import { describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { ChannelShardReport } from "../../party/protocol/index.ts";
import { eventsSent, joinThroughEdge, memoryServiceEach } from "../support/memory-edge.ts";
import { MemorySocket, type MemoryWorld } from "../support/memory-host.ts";
import { forwardHandshake } from "../../party/server/hand-off.ts";
import { indexShardOf } from "../../party/server/parts.ts";
import { loadConfig } from "../../party/server/config.ts";

const LEASE = 6_000;
const GRACE = 1_000;
const ENV = { PRESENCE_GRACE_MS: String(GRACE), PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_LEASE_MS: String(LEASE) };

let world: MemoryWorld;
let edge: EdgeHost;

memoryServiceEach(ENV, (service) => ({ world, edge } = service));

const events = (socket: MemorySocket) => eventsSent(socket).map((event) => `${event.action}:${event.member.id}`);

/** A shard's report to the channel's coordinator, as a shard's room sends it. */
const report = (channel: string, args: ChannelShardReport) => world.parties().call("main", channel, "shard-report", args);

/** The room's herenow, straight from the room (past the edge's credentials). */
async function hereNow(channel: string) {
  return world.parties().call("main", channel, "herenow", { includeUsers: true, distinct: true, limit: 100 });
}

describe("a channel room coordinating its shards", () => {
  it("counts, announces and lists its shards' clients as its own: a user on two objects once", async () => {
    const room = await world.room<SocketState>("main", "stage");
    const ann = await joinThroughEdge(room, edge, "a0", "userId=ann&clientType=web");
    await vi.advanceTimersByTimeAsync(60);
    const reply = await report("stage", {
      shard: 1,
      full: true,
      changes: [
        { op: "connect", connectionId: "a1", userId: "ann", clientType: "ios", data: null },
        { op: "connect", connectionId: "b1", userId: "bob", data: { seat: 7 } },
      ],
    });
    expect(reply).toEqual({ full: false });
    await vi.advanceTimersByTimeAsync(60);
    expect(events(ann)).toEqual(["join:ann", "join:bob"]);
    const now = await hereNow("stage");
    expect(now).toMatchObject({ clientAmount: 3, userAmount: 2, clientTypes: { web: 1, ios: 1 } });
    expect(now.users).toEqual([
      { id: "ann", data: null, clientTypes: { web: 1, ios: 1 } },
      { id: "bob", data: { seat: 7 } },
    ]);
  });

  it("asks a shard it does not know for a full report", async () => {
    await world.room<SocketState>("main", "hall");
    expect(await report("hall", { shard: 2, full: false, changes: [] })).toEqual({ full: true });
    expect(await report("hall", { shard: 2, full: false, changes: [] })).toEqual({ full: false });
  });

  it("drops a silent shard's clients into grace when its lease lapses, then takes them offline", async () => {
    const room = await world.room<SocketState>("main", "arena");
    const ann = await joinThroughEdge(room, edge, "a0", "userId=ann");
    // Off the beat of the room's own renewals (every third of the lease), so the lapse needs its own deadline.
    await vi.advanceTimersByTimeAsync(LEASE / 6);
    await report("arena", { shard: 1, full: true, changes: [{ op: "connect", connectionId: "b1", userId: "bob", data: null }] });
    await vi.advanceTimersByTimeAsync(LEASE - 100);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 2 });
    expect(events(ann)).toEqual(["join:ann", "join:bob"]);
    // The lease lapses (no renewal came): bob is still counted for the grace period, then goes offline.
    await vi.advanceTimersByTimeAsync(200);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 2, clientAmount: 2 });
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(events(ann)).toEqual(["join:ann", "join:bob", "offline:bob"]);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 1, clientAmount: 1 });
  });

  it("runs a room named CHANNEL~k as shard k: its clients are reported to the channel's room, which speaks for the channel", async () => {
    const coordinator = await world.room<SocketState>("main", "stage");
    const ann = await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    const shard = await world.room<SocketState>("main", "stage~1");
    // As the edge will forward it: the handshake it accepted, in its header.
    const request = forwardHandshake(new Request("http://memory/parties/main/stage~1?_pk=b1"), "b1", { userId: "bob", userData: { seat: 2 }, clientType: "ios", window: 0, dataLocked: false, expiresAt: null });
    const bob = shard.connect(new MemorySocket<SocketState>("b1"), request);
    await vi.advanceTimersByTimeAsync(200);
    expect(events(ann)).toEqual(["join:ann", "join:bob"]);
    expect(await hereNow("stage")).toMatchObject({ clientAmount: 2, userAmount: 2, clientTypes: { ios: 1 }, users: [{ id: "ann", data: null }, { id: "bob", data: { seat: 2 }, clientTypes: { ios: 1 } }] });
    shard.drop(bob);
    await vi.advanceTimersByTimeAsync(200);
    expect(await hereNow("stage"), "still counted for the grace period").toMatchObject({ userAmount: 2 });
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(events(ann)).toEqual(["join:ann", "join:bob", "offline:bob"]);
    // The channel is one: the index lists `stage` only, and nothing is kept under the shard's name elsewhere.
    const index = await world.room("index", indexShardOf("stage", loadConfig(ENV).indexShards));
    expect([...index.storage.rows.keys()].filter((key) => key.includes("stage"))).toEqual(["c:stage"]);
    expect(world.calls.filter((call) => call.room === "stage" && call.call === "shard-report").length).toBeGreaterThan(0);
    expect(world.calls.some((call) => call.party !== "main" && call.room.includes("~"))).toBe(false);
  });
});
