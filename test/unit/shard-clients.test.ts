import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PresenceState, type PresenceTiming, type TickDiff } from "../../party/channel/presence.ts";
import { SHARD_CLIENT_EXPIRY, ShardClients } from "../../party/channel/shard-clients.ts";
import { ChannelShardReport, type ShardClientChange } from "../../party/protocol/index.ts";

const GRACE = 1_000;
const LEASE = 30_000;
const timing: PresenceTiming = { graceMs: GRACE, retentionMs: 60_000, heartbeatTimeoutMs: 30_000 };

/** A coordinator's presence and its shards' clients. */
function coordinator(overrides: Partial<PresenceTiming> = {}): { presence: PresenceState; shards: ShardClients } {
  const presence = new PresenceState({ ...timing, ...overrides });
  return { presence, shards: new ShardClients(presence, LEASE) };
}

function connect(connectionId: string, userId: string, data: unknown = null, clientType?: string): ShardClientChange {
  return { op: "connect", connectionId, userId, data: data as never, ...(clientType ? { clientType } : {}) };
}

/** The events of a diff as "action:userId" strings. */
function actions(diff: TickDiff | null): string[] {
  return (diff?.events ?? []).map((e) => `${e.action}:${e.member.id}`);
}

describe("ShardClients: one channel's clients over several shards", () => {
  it("counts a user with clients on two shards once, with both clients and their types, and announces it once", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice", { v: 1 }, "web")] }, 0);
    shards.apply({ shard: 2, full: false, changes: [connect("a2", "alice", { v: 1 }, "ios"), connect("b2", "bob")] }, 0);
    const diff = presence.takeDiff();
    expect(actions(diff)).toEqual(["join:alice", "join:bob"]);
    expect(presence.counts()).toEqual({ clientAmount: 3, userAmount: 2 });
    expect(presence.hereNow("c").clientTypes).toEqual({ web: 1, ios: 1 });
    expect(diff!.events[0]!.member).toMatchObject({ id: "alice", clients: 2, clientTypes: { web: 1, ios: 1 } });
    expect(shards.shards()).toEqual([
      { shard: 1, clients: 1, leaseUntil: LEASE },
      { shard: 2, clients: 2, leaseUntil: LEASE },
    ]);
  });

  it("keeps a user online while another shard holds a client of it, and lets grace run where it dropped", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice")] }, 0);
    shards.apply({ shard: 2, full: false, changes: [connect("a2", "alice")] }, 0);
    presence.takeDiff();
    shards.apply({ shard: 1, full: false, changes: [{ op: "drop", connectionId: "a1", lastSeen: 50 }] }, 100);
    expect(presence.takeDiff()).toBeNull();
    expect(presence.counts()).toEqual({ clientAmount: 2, userAmount: 1 });
    presence.expire(100 + GRACE);
    presence.takeDiff();
    expect(presence.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    shards.apply({ shard: 2, full: false, changes: [{ op: "leave", connectionId: "a2" }] }, 2_000);
    expect(actions(presence.takeDiff())).toEqual(["leave:alice"]);
  });

  it("drops a dead shard's clients into grace when its lease lapses: offline after grace, last seen at its last report", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice"), connect("b1", "bob")] }, 0);
    shards.apply({ shard: 2, full: false, changes: [connect("b2", "bob")] }, 0);
    presence.takeDiff();
    shards.apply({ shard: 1, full: false, changes: [] }, 10_000);
    shards.apply({ shard: 2, full: false, changes: [] }, 30_000);
    expect(shards.nextDeadline()).toBe(10_000 + LEASE);
    expect(shards.lapse(10_000 + LEASE - 1)).toEqual([]);
    expect(shards.lapse(10_000 + LEASE)).toEqual([1]);
    // Still counted for the grace period: a blip of a shard changes nothing anyone sees.
    expect(presence.takeDiff()).toBeNull();
    presence.expire(10_000 + LEASE + GRACE);
    const diff = presence.takeDiff();
    expect(actions(diff)).toEqual(["offline:alice"]);
    expect(diff!.events[0]!.member.lastSeen).toBe(10_000);
    expect(presence.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(shards.shards().map((entry) => entry.shard)).toEqual([2]);
  });

  it("a shard that comes back within grace changes nothing", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice")] }, 0);
    presence.takeDiff();
    shards.lapse(LEASE);
    shards.apply({ shard: 1, full: true, changes: [connect("a1", "alice")] }, LEASE + GRACE / 2);
    presence.expire(LEASE + GRACE);
    expect(presence.takeDiff()).toBeNull();
    expect(presence.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });

  it("ignores a shard's late news of a client that another shard took since (its id moved)", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a", "alice")] }, 0);
    presence.takeDiff();
    shards.apply({ shard: 2, full: false, changes: [connect("a", "alice")] }, 100);
    shards.apply({ shard: 1, full: false, changes: [{ op: "drop", connectionId: "a", lastSeen: 90 }, { op: "update", connectionId: "a", data: 1 }] }, 150);
    expect(shards.ownerOf("a")).toBe(2);
    presence.expire(150 + GRACE);
    expect(presence.takeDiff()).toBeNull();
    expect(presence.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(shards.shards().map((entry) => [entry.shard, entry.clients])).toEqual([[1, 0], [2, 1]]);
  });

  it("a full report drops into grace whatever it does not list for its shard", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice"), connect("b1", "bob")] }, 0);
    presence.takeDiff();
    shards.apply({ shard: 1, full: true, changes: [connect("a1", "alice")] }, 1_000);
    expect(presence.takeDiff()).toBeNull();
    presence.expire(1_000 + GRACE);
    expect(actions(presence.takeDiff())).toEqual(["offline:bob"]);
    expect(shards.ownerOf("b1")).toBeUndefined();
  });

  it("an ended client goes without grace, last seen when its shard last heard it", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice")] }, 0);
    presence.takeDiff();
    shards.apply({ shard: 1, full: false, changes: [{ op: "end", connectionId: "a1", lastSeen: 400 }] }, 500);
    const diff = presence.takeDiff();
    expect(actions(diff)).toEqual(["offline:alice"]);
    expect(diff!.events[0]!.member.lastSeen).toBe(400);
  });

  it("leaves a shard's client to its shard: no idle check and no TTL here", () => {
    const { presence, shards } = coordinator();
    shards.apply({ shard: 1, full: false, changes: [connect("a1", "alice")] }, 0);
    presence.takeDiff();
    const late = 100 * timing.heartbeatTimeoutMs;
    expect(presence.expire(late)).toEqual([]);
    expect(presence.lapse(late)).toEqual([]);
    expect(presence.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(SHARD_CLIENT_EXPIRY).toBeGreaterThan(late);
  });

  it("the wire schema takes a report and refuses a bad one", () => {
    const report = { shard: 1, full: false, changes: [connect("a1", "alice", { x: 1 }, "web"), { op: "drop", connectionId: "a1", lastSeen: 5 }] };
    expect(ChannelShardReport.parse(report)).toEqual(report);
    expect(ChannelShardReport.safeParse({ ...report, shard: 0 }).success).toBe(false);
    expect(ChannelShardReport.safeParse({ shard: 1, full: false, changes: [{ op: "connect", connectionId: "a1", userId: null, data: null }] }).success).toBe(false);
    expect(ChannelShardReport.safeParse({ shard: 1, full: false, changes: [{ op: "warp", connectionId: "a1" }] }).success).toBe(false);
  });
});

/** One step of a channel's life: a change on a client (each client lives on one shard), or a tick. */
type Step = { kind: "change"; client: number; op: "connect" | "update" | "drop" | "leave" | "end"; user: number; data: number } | { kind: "tick"; advance: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("change" as const),
    client: fc.nat(7),
    op: fc.constantFrom("connect" as const, "connect" as const, "update" as const, "drop" as const, "leave" as const, "end" as const),
    user: fc.nat(3),
    data: fc.nat(2),
  }),
  fc.record({ kind: fc.constant("tick" as const), advance: fc.integer({ min: 1, max: 3 * GRACE }) }),
);

describe("ShardClients against one room", () => {
  it("gives the events and counts one room gives, tick by tick, whatever the shards", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (steps, spread) => {
        // No idle check in either: a shard's sockets are its own to time out.
        const settings = { heartbeatTimeoutMs: 1e12 };
        const room = new PresenceState({ ...timing, ...settings });
        const { presence, shards } = coordinator(settings);
        const shardOf = (client: number) => 1 + (client % spread);
        const userOf = new Map<number, number>();
        let now = 0;
        let pending: Array<{ shard: number; change: ShardClientChange }> = [];
        const tick = () => {
          // The coordinator hears each shard's changes in one report, shard by shard: the room hears them in that order too.
          const byShard = new Map<number, ShardClientChange[]>();
          for (const { shard, change } of pending) byShard.set(shard, [...(byShard.get(shard) ?? []), change]);
          for (const shard of [...byShard.keys()].sort((a, b) => a - b)) {
            const changes = byShard.get(shard)!;
            shards.apply({ shard, full: false, changes }, now);
            for (const change of changes) {
              if (change.op === "connect") room.connect({ connectionId: change.connectionId, userId: change.userId, data: change.data }, now);
              else if (change.op === "update") room.update(change.connectionId, change.data);
              else if (change.op === "drop") room.drop(change.connectionId, now, change.lastSeen);
              else if (change.op === "leave") room.leave(change.connectionId);
              else room.kick(change.connectionId, now, change.lastSeen);
            }
          }
          pending = [];
          room.expire(now);
          presence.expire(now);
          expect(presence.takeDiff()).toEqual(room.takeDiff());
          expect(presence.counts()).toEqual(room.counts());
        };
        for (const s of steps) {
          if (s.kind === "tick") {
            tick();
            now += s.advance;
            continue;
          }
          const connectionId = `c${s.client}`;
          const live = userOf.has(s.client);
          // What a shard can say of its client: it connects when it has none, the rest only while it has one.
          if (s.op === "connect") {
            if (live) continue;
            userOf.set(s.client, s.user);
            pending.push({ shard: shardOf(s.client), change: { op: "connect", connectionId, userId: `u${s.user}`, data: s.data } });
            continue;
          }
          if (!live) continue;
          if (s.op === "update") {
            pending.push({ shard: shardOf(s.client), change: { op: "update", connectionId, data: s.data } });
            continue;
          }
          userOf.delete(s.client);
          const change: ShardClientChange =
            s.op === "leave" ? { op: "leave", connectionId } : { op: s.op, connectionId, lastSeen: Math.max(0, now - s.data) };
          pending.push({ shard: shardOf(s.client), change });
        }
        tick();
      }),
      { numRuns: 300 },
    );
  });
});
