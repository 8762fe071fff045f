/**
 * A channel spread over rooms, on the in-memory host: `CHANNEL` coordinates, `CHANNEL~k` are its
 * shards. The clients the shards report (`shard-report`) are counted, announced and listed with
 * the coordinator's own, as one channel; every socket, on any shard, is shown the whole channel
 * (the coordinator's diffs, `shard-diff`, kept in each shard's mirror); a shard that dies loses
 * its clients to grace, then offline.
 */
import { describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { ChannelShardReport, RoomStats } from "../../party/protocol/index.ts";
import { eventsSent, joinThroughEdge, memoryServiceEach } from "../support/memory-edge.ts";
import { type MemoryHost, MemorySocket, type MemoryWorld } from "../support/memory-host.ts";
import { forwardHandshake } from "../../party/server/hand-off.ts";
import { indexShardOf } from "../../party/server/parts.ts";
import { loadConfig } from "../../party/server/config.ts";
import { ChannelService } from "../../party/channel/service.ts";

const LEASE = 6_000;
const GRACE = 1_000;
const ENV = { PRESENCE_GRACE_MS: String(GRACE), PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_LEASE_MS: String(LEASE) };

let world: MemoryWorld;
let edge: EdgeHost;

memoryServiceEach(ENV, (service) => ({ world, edge } = service));

const events = (socket: MemorySocket) => eventsSent(socket).map((event) => `${event.action}:${event.member.id}`);

/** A shard's report to the channel's coordinator, as a shard's room sends it. */
const report = (channel: string, args: ChannelShardReport) => world.parties().call("main", channel, "shard-report", args);

/** The room's `?stats`, straight from the room (past the edge's credentials). */
async function stats(room: MemoryHost<SocketState>): Promise<RoomStats> {
  const response = await room.service.request(new Request(`http://memory/parties/main/${room.name}?stats`));
  return ((await response.json()) as { content: RoomStats }).content;
}

/** The room's herenow, straight from the room (past the edge's credentials). */
async function hereNow(channel: string) {
  return world.parties().call("main", channel, "herenow", { includeUsers: true, distinct: true, limit: 100 });
}

describe("a channel spread over rooms", () => {
  /** A socket opened on a shard's room, as the edge will forward it (the handshake it accepted, in its header). */
  function joinShard(room: MemoryHost<SocketState>, id: string, userId: string, clientType?: string, userData: unknown = null): MemorySocket<SocketState> {
    const request = forwardHandshake(new Request(`http://memory/parties/main/${room.name}?_pk=${id}`), id, { userId, userData: userData as never, clientType, window: 0, dataLocked: false, expiresAt: null });
    return room.connect(new MemorySocket<SocketState>(id), request);
  }

  it("counts, announces and lists every shard's clients as one channel, a user on two rooms once, and shows every socket the whole channel", async () => {
    const coordinator = await world.room<SocketState>("main", "stage");
    const ann = await joinThroughEdge(coordinator, edge, "a0", "userId=ann&clientType=web");
    await vi.advanceTimersByTimeAsync(60);
    const shard = await world.room<SocketState>("main", "stage~1");
    const ann1 = joinShard(shard, "a1", "ann", "ios");
    const bob = joinShard(shard, "b1", "bob", undefined, { seat: 7 });
    await vi.advanceTimersByTimeAsync(300);
    expect(events(ann)).toEqual(["join:ann", "join:bob"]);
    const now = await hereNow("stage");
    expect(now).toMatchObject({ clientAmount: 3, userAmount: 2, clientTypes: { web: 1, ios: 1 } });
    expect(now.users).toEqual([
      { id: "ann", data: null, clientTypes: { web: 1, ios: 1 } },
      { id: "bob", data: { seat: 7 } },
    ]);
    // The shard's sockets hold the channel as the coordinator's own sockets do.
    const cat = await joinThroughEdge(coordinator, edge, "c0", "userId=cat");
    await vi.advanceTimersByTimeAsync(300);
    expect(events(cat)).toContain("join:cat");
    for (const socket of [ann1, bob]) {
      const heard = new Set(events(socket).map((event) => event.split(":")[1]));
      const shown = new Set([...socket.of("sync").flatMap((sync: { members: unknown[][] }) => sync.members.map((member) => member[0]))]);
      for (const user of ["ann", "bob", "cat"]) expect(heard.has(user) || shown.has(user), `${socket.id} knows ${user}`).toBe(true);
    }
    const lastCounts = (socket: MemorySocket<SocketState>) => eventsSent(socket).at(-1);
    expect(lastCounts(bob)).toMatchObject({ clientAmount: 4, userAmount: 3 });
    expect((await stats(coordinator)).shards).toEqual([
      { shard: 0, clientAmount: 2 },
      { shard: 1, clientAmount: 2 },
    ]);
  });

  it("asks a shard it does not know for a full report, and answers a full one with a copy of the channel", async () => {
    const coordinator = await world.room<SocketState>("main", "hall");
    await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    await vi.advanceTimersByTimeAsync(60);
    expect((await stats(coordinator)).shards, "a channel in one room: one entry").toEqual([{ shard: 0, clientAmount: 1 }]);
    expect(await report("hall", { shard: 2, full: false, changes: [] })).toEqual({ full: true });
    const full = await report("hall", { shard: 2, full: true, changes: [] });
    expect(full).toMatchObject({ full: false, copy: { clientAmount: 1, userAmount: 1, size: 1, mode: "full", members: [{ id: "ann", status: "online" }] } });
  });

  it("drops a dead shard's clients into grace when its lease lapses, then takes them offline; the living stay", async () => {
    const coordinator = await world.room<SocketState>("main", "arena");
    const ann = await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    // Off the beat of the room's own renewals (every third of the lease), so the lapse needs its own deadline.
    await vi.advanceTimersByTimeAsync(LEASE / 6);
    joinShard(await world.room<SocketState>("main", "arena~1"), "b1", "bob");
    joinShard(await world.room<SocketState>("main", "arena~2"), "c2", "cat");
    await vi.advanceTimersByTimeAsync(200);
    expect(events(ann)).toEqual(["join:ann", "join:bob", "join:cat"]);
    world.kill("main", "arena~1");
    await vi.advanceTimersByTimeAsync(LEASE - 400);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 3 });
    // The lease lapses (no renewal came): bob is still counted for the grace period, then goes offline.
    await vi.advanceTimersByTimeAsync(300);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 3, clientAmount: 3 });
    expect((await stats(coordinator)).shards, "the dead shard is forgotten; its client, in grace, counts with the room's own").toEqual([
      { shard: 0, clientAmount: 2 },
      { shard: 2, clientAmount: 1 },
    ]);
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(events(ann)).toEqual(["join:ann", "join:bob", "join:cat", "offline:bob"]);
    expect(await hereNow("arena")).toMatchObject({ userAmount: 2, clientAmount: 2 });
  });

  it("keeps the channel one outside: its shards report nothing of their own to the index, the directory or webhooks", async () => {
    const coordinator = await world.room<SocketState>("main", "stage");
    await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    const shard = await world.room<SocketState>("main", "stage~1");
    const bob = joinShard(shard, "b1", "bob");
    await vi.advanceTimersByTimeAsync(300);
    shard.drop(bob);
    await vi.advanceTimersByTimeAsync(300 + GRACE);
    expect(await hereNow("stage")).toMatchObject({ userAmount: 1 });
    const index = await world.room("index", indexShardOf("stage", loadConfig(ENV).indexShards));
    expect([...index.storage.rows.keys()].filter((key) => key.includes("stage"))).toEqual(["c:stage"]);
    expect(world.calls.filter((call) => call.room === "stage" && call.call === "shard-report").length).toBeGreaterThan(0);
    expect(world.calls.some((call) => call.party !== "main" && call.room.includes("~"))).toBe(false);
  });

  it("keeps its shards' clients across its own restart: no placeholder, no event, and still no ghost when a shard dies", async () => {
    const coordinator = await world.room<SocketState>("main", "keep");
    const ann = await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    joinShard(await world.room<SocketState>("main", "keep~1"), "b1", "bob", "ios");
    await vi.advanceTimersByTimeAsync(300);
    expect(coordinator.storage.rows.get("s:b1")).toEqual({ connectionId: "b1", shard: 1, userId: "bob", clientType: "ios" });
    // Evicted, or restarted: the coordinator is rebuilt from its rows and the sockets that survived.
    coordinator.service = new ChannelService(coordinator, loadConfig(ENV));
    await coordinator.service.start();
    await vi.advanceTimersByTimeAsync(3 * GRACE);
    expect(events(ann)).toEqual(["join:ann", "join:bob"]);
    expect(await hereNow("keep")).toMatchObject({ userAmount: 2, clientAmount: 2, clientTypes: { ios: 1 } });
    world.kill("main", "keep~1");
    await vi.advanceTimersByTimeAsync(LEASE + GRACE + 500);
    expect(events(ann)).toEqual(["join:ann", "join:bob", "offline:bob"]);
    expect(coordinator.storage.rows.has("s:b1"), "the row goes with the client").toBe(false);
  });

  it("disconnects a user on every object of the channel: each object closes its own, and the answer lists them all once", async () => {
    const coordinator = await world.room<SocketState>("main", "kicks");
    const watcher = await joinThroughEdge(coordinator, edge, "w0", "userId=wes");
    const ann0 = await joinThroughEdge(coordinator, edge, "a0", "userId=ann&clientType=web");
    const shard = await world.room<SocketState>("main", "kicks~1");
    const ann1 = joinShard(shard, "a1", "ann", "ios");
    await vi.advanceTimersByTimeAsync(300);
    expect(await hereNow("kicks")).toMatchObject({ userAmount: 2, clientAmount: 3 });
    const reply = await world.parties().call("main", "kicks", "kick", { userId: "ann", reason: "bye" });
    expect(reply.clients.map((client) => client.connectionId).sort()).toEqual(["a0", "a1"]);
    expect([ann0.closed, ann1.closed]).toMatchObject([{ code: 4004 }, { code: 4004 }]);
    await vi.advanceTimersByTimeAsync(300);
    // Gone at once, without grace, on both objects.
    expect(await hereNow("kicks")).toMatchObject({ userAmount: 1, clientAmount: 1 });
    expect(events(watcher)).toEqual(["join:wes", "join:ann", "offline:ann"]);
  });

  it("answers a disconnect when a shard cannot be reached, with what the others closed", async () => {
    const coordinator = await world.room<SocketState>("main", "kicks-down");
    await joinThroughEdge(coordinator, edge, "a0", "userId=ann");
    joinShard(await world.room<SocketState>("main", "kicks-down~1"), "a1", "ann");
    await vi.advanceTimersByTimeAsync(300);
    world.kill("main", "kicks-down~1");
    const reply = await world.parties().call("main", "kicks-down", "kick", { userId: "ann", reason: "bye" });
    expect(reply.clients.map((client) => client.connectionId)).toEqual(["a0"]);
  });
});
