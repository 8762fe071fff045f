import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PresenceState, type PresenceTiming, RESTART_HOLD_MAX_MS, type StoredMember, type TickDiff } from "../../party/channel/presence.ts";
import type { JsonValue, PresenceAction } from "../../party/protocol/index.ts";

const GRACE = 1_000;
const RETENTION = 60_000;
const TIMEOUT = 30_000;
const timing: PresenceTiming = { graceMs: GRACE, retentionMs: RETENTION, heartbeatTimeoutMs: TIMEOUT };

/** A fresh state; all times are plain numbers. */
function fresh(overrides: Partial<PresenceTiming> = {}): PresenceState {
  return new PresenceState({ ...timing, ...overrides });
}

function join(state: PresenceState, connectionId: string, userId: string | null, now: number, data: JsonValue = null, clientType?: string): void {
  state.connect({ connectionId, userId, data, clientType }, now);
}

/** The events of a diff as "action:userId" strings (empty for no diff). */
function actions(diff: TickDiff | null): string[] {
  return (diff?.events ?? []).map((e) => `${e.action}:${e.member.id}`);
}

/** Joins users and closes the tick, so tests start from a settled state. */
function settled(entries: Array<[key: string, userId: string | null, data?: JsonValue]>, now = 0): PresenceState {
  const state = fresh();
  for (const [key, userId, data] of entries) join(state, key, userId, now, data ?? null);
  state.takeDiff();
  return state;
}

describe("PresenceState events and counts", () => {
  it("announces a join per new user with the counts after the whole tick", () => {
    const state = fresh();
    join(state, "a1", "alice", 0, { age: 1 });
    join(state, "b1", "bob", 0);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["join:alice", "join:bob"]);
    for (const event of diff!.events) {
      expect(event.clientAmount).toBe(2);
      expect(event.userAmount).toBe(2);
    }
    expect(diff!.events[0]!.member).toEqual({ id: "alice", data: { age: 1 }, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0 });
    expect(diff).toMatchObject({ clientAmount: 2, userAmount: 2 });
  });

  it("returns no diff when nothing happened in a tick", () => {
    const state = settled([["a1", "alice"]]);
    expect(state.takeDiff()).toBeNull();
  });

  it("walks join, update, offline, online and leave with the counts after each tick", () => {
    const state = fresh();
    const ticks: Array<[string, () => void, string[], number, number]> = [
      ["alice joins", () => join(state, "a1", "alice", 0), ["join:alice"], 1, 1],
      ["bob joins with two tabs", () => (join(state, "b1", "bob", 10), join(state, "b2", "bob", 10)), ["join:bob"], 3, 2],
      ["alice updates", () => state.update("a1", { mood: "happy" }), ["update:alice"], 3, 2],
      ["alice drops (still in grace)", () => state.drop("a1", 100), [], 3, 2],
      ["grace runs out", () => state.expire(100 + GRACE), ["offline:alice"], 2, 1],
      ["alice is back", () => join(state, "a2", "alice", 2_000), ["online:alice"], 3, 2],
      ["bob leaves one tab", () => state.leave("b1"), [], 2, 2],
      ["bob leaves the other", () => state.leave("b2"), ["leave:bob"], 1, 1],
    ];
    for (const [what, act, expected, clientAmount, userAmount] of ticks) {
      act();
      const diff = state.takeDiff();
      expect(actions(diff), what).toEqual(expected);
      expect(state.counts(), what).toEqual({ clientAmount, userAmount });
      for (const event of diff?.events ?? []) expect(event, what).toMatchObject({ clientAmount, userAmount });
    }
  });

  it("does not count observers and gives them no events", () => {
    const state = fresh();
    join(state, "o1", null, 0);
    join(state, "o2", null, 0);
    expect(state.takeDiff()).toBeNull();
    expect(state.counts()).toEqual({ clientAmount: 0, userAmount: 0 });
    join(state, "a1", "alice", 0);
    expect(actions(state.takeDiff())).toEqual(["join:alice"]);
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(state.members().map((m) => m.id)).toEqual(["alice"]);
    expect(state.userOf("o1")).toBeNull();
    expect(state.liveClientCount()).toBe(3);
  });

  it("forgets an observer that drops at once, without grace or event", () => {
    const state = settled([["o1", null]]);
    state.drop("o1", 5);
    expect(state.userOf("o1")).toBeUndefined();
    expect(state.liveClientCount()).toBe(0);
    expect(state.takeDiff()).toBeNull();
  });

  it("refuses update and leave from an observer or an unknown key", () => {
    const state = settled([["o1", null]]);
    expect(state.update("o1", 1)).toBe(false);
    expect(state.leave("o1")).toBe(false);
    expect(state.update("nope", 1)).toBe(false);
    expect(state.leave("nope")).toBe(false);
    expect(state.alive("nope", 1)).toBe(false);
    expect(state.takeDiff()).toBeNull();
  });

  it("announces a second tab only as a quiet change of the member's client count", () => {
    const state = settled([["a1", "alice"]]);
    join(state, "a2", "alice", 10);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([]);
    expect(diff!.quiet).toEqual([expect.objectContaining({ id: "alice", clients: 2 })]);
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 1 });
  });

  it("lists a user once per client in herenow, or once with distinct", () => {
    const state = settled([
      ["a1", "alice", { n: 1 }],
      ["a2", "alice", { n: 1 }],
      ["a3", "alice", { n: 1 }],
      ["b1", "bob"],
      ["o1", null],
    ]);
    expect(state.hereNow("room")).toEqual({ channel: "room", clientAmount: 4, userAmount: 2, clientTypes: {} });
    expect(state.hereNow("room", { includeUsers: false, distinct: true })).not.toHaveProperty("users");
    expect(state.hereNow("room", { includeUsers: true })).toEqual({
      channel: "room",
      clientAmount: 4,
      userAmount: 2,
      clientTypes: {},
      users: [
        { id: "alice", data: { n: 1 } },
        { id: "alice", data: { n: 1 } },
        { id: "alice", data: { n: 1 } },
        { id: "bob", data: null },
      ],
    });
    expect(state.hereNow("room", { includeUsers: true, distinct: true }).users).toEqual([
      { id: "alice", data: { n: 1 } },
      { id: "bob", data: null },
    ]);
  });

  it("pages herenow's users by userId: at most `limit` members (all clients of each), a cursor while more follow", () => {
    const state = settled([
      ["c1", "carol"],
      ["a1", "alice"],
      ["a2", "alice"],
      ["d1", "dave"],
      ["b1", "bob"],
      ["o1", null],
    ]);
    join(state, "e1", "erin", 1);
    state.drop("e1", 2);
    state.expire(2 + GRACE);
    // erin is offline: never listed, never a cursor.
    const first = state.hereNow("room", { includeUsers: true, limit: 2 });
    expect(first.users!.map((u) => u.id)).toEqual(["alice", "alice", "bob"]);
    expect(first.cursor).toBe("bob");
    expect(Object.keys(first).at(-1)).toBe("cursor");
    const second = state.hereNow("room", { includeUsers: true, distinct: true, limit: 2, cursor: first.cursor });
    expect(second.users!.map((u) => u.id)).toEqual(["carol", "dave"]);
    expect(second).not.toHaveProperty("cursor");
    // A member that joins before the cursor meanwhile is not on later pages; one after it is.
    join(state, "a0", "aaron", 3);
    join(state, "z1", "zed", 3);
    expect(state.hereNow("room", { includeUsers: true, distinct: true, cursor: "bob" }).users!.map((u) => u.id)).toEqual(["carol", "dave", "zed"]);
    // The counts are the channel's, whatever the page.
    expect(second).toMatchObject({ clientAmount: 5, userAmount: 4 });
  });

  it("pages the admin member listing by userId: every member in full, online and offline, a cursor while more follow", () => {
    const state = settled([
      ["c1", "carol", { n: 3 }],
      ["a1", "alice", { n: 1 }],
      ["b1", "bob"],
      ["o1", null],
    ]);
    join(state, "a2", "alice", 1, { n: 1 }, "web");
    join(state, "e1", "erin", 1, null, "app");
    state.drop("e1", 2);
    state.expire(2 + GRACE);
    state.takeDiff();
    const first = state.membersPage("room", { limit: 2 });
    expect(first).toEqual({
      channel: "room",
      clientAmount: 4,
      userAmount: 3,
      members: [
        { id: "alice", data: { n: 1 }, status: "online", clients: 2, clientTypes: { web: 1 }, since: 0, lastSeen: 0 },
        { id: "bob", data: null, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0 },
      ],
      cursor: "bob",
    });
    // erin is offline, and listed, with when it was last seen; no cursor on the last page.
    const second = state.membersPage("room", { limit: 2, cursor: first.cursor });
    expect(second.members.map((m) => [m.id, m.status, m.clients])).toEqual([
      ["carol", "online", 1],
      ["erin", "offline", 0],
    ]);
    expect(second.members[1]).toMatchObject({ since: 2 + GRACE, lastSeen: 2 });
    expect(second).not.toHaveProperty("cursor");
    // A full last page has no cursor either: nothing follows it.
    expect(state.membersPage("room", { limit: 4 })).not.toHaveProperty("cursor");
    // Members that come and go meanwhile: those before the cursor are not on later pages, those after it are.
    join(state, "a0", "aaron", 3);
    join(state, "z1", "zed", 3);
    state.takeDiff();
    expect(state.membersPage("room", { limit: 10, cursor: "bob" }).members.map((m) => m.id)).toEqual(["carol", "erin", "zed"]);
    // Each page's counts are the channel's, as herenow gives them.
    const counts = state.hereNow("room");
    expect(state.membersPage("room", { limit: 1, cursor: "zed" })).toEqual({ channel: "room", clientAmount: counts.clientAmount, userAmount: counts.userAmount, members: [] });
  });

  it("serves client types: each client's type in herenow, counts by type per member and per channel", () => {
    const state = fresh();
    join(state, "a1", "alice", 0, null, "web");
    join(state, "a2", "alice", 0, null, "web");
    join(state, "a3", "alice", 0, null, "app");
    join(state, "b1", "bob", 0, null, "pc");
    join(state, "b2", "bob", 0);
    join(state, "o1", null, 0, null, "web");
    const diff = state.takeDiff()!;
    expect(diff.events.map((e) => [e.member.id, e.member.clientTypes])).toEqual([
      ["alice", { web: 2, app: 1 }],
      ["bob", { pc: 1 }],
    ]);
    expect(state.hereNow("room")).toEqual({ channel: "room", clientAmount: 5, userAmount: 2, clientTypes: { web: 2, app: 1, pc: 1 } });
    expect(state.hereNow("room", { includeUsers: true }).users).toEqual([
      { id: "alice", data: null, clientType: "web" },
      { id: "alice", data: null, clientType: "web" },
      { id: "alice", data: null, clientType: "app" },
      { id: "bob", data: null, clientType: "pc" },
      { id: "bob", data: null },
    ]);
    expect(state.hereNow("room", { includeUsers: true, distinct: true }).users).toEqual([
      { id: "alice", data: null, clientTypes: { web: 2, app: 1 } },
      { id: "bob", data: null, clientTypes: { pc: 1 } },
    ]);
  });

  it("reports a change of client types as a quiet change, and counts a dropped client's type through grace", () => {
    const state = fresh();
    join(state, "a1", "alice", 0, null, "web");
    state.takeDiff();
    join(state, "a2", "alice", 10, null, "app");
    expect(state.takeDiff()!.quiet).toEqual([expect.objectContaining({ id: "alice", clients: 2, clientTypes: { web: 1, app: 1 } })]);
    state.drop("a2", 20);
    expect(state.takeDiff()).toBeNull();
    expect(state.member("alice")!.clientTypes).toEqual({ web: 1, app: 1 });
    state.expire(20 + GRACE);
    expect(state.takeDiff()!.quiet).toEqual([expect.objectContaining({ id: "alice", clients: 1, clientTypes: { web: 1 } })]);
  });

  it("keeps offline members out of herenow but in members()", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    state.drop("a1", 0);
    state.expire(GRACE);
    state.takeDiff();
    expect(state.hereNow("room", { includeUsers: true })).toEqual({
      channel: "room",
      clientAmount: 1,
      userAmount: 1,
      clientTypes: {},
      users: [{ id: "bob", data: null }],
    });
    expect(state.member("alice")).toMatchObject({ status: "offline", clients: 0 });
    expect(state.members().map((m) => [m.id, m.status])).toEqual([["alice", "offline"], ["bob", "online"]]);
  });

  it("counts a dropped client in herenow (non-distinct) while it is in grace", () => {
    const state = settled([["a1", "alice"], ["a2", "alice"]]);
    state.drop("a1", 0);
    expect(state.takeDiff()).toBeNull();
    expect(state.hereNow("room", { includeUsers: true }).users).toHaveLength(2);
    expect(state.liveClientCount("alice")).toBe(1);
    state.expire(GRACE);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([]);
    expect(diff!.quiet).toEqual([expect.objectContaining({ id: "alice", status: "online", clients: 1 })]);
    expect(state.hereNow("room", { includeUsers: true }).users).toHaveLength(1);
  });
});

describe("PresenceState grace", () => {
  it("does not announce anything when a client drops and returns with the same key within grace", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    state.drop("a1", 100);
    expect(state.takeDiff()).toBeNull();
    join(state, "a1", "alice", 100 + GRACE - 1);
    expect(actions(state.takeDiff())).toEqual([]);
    state.expire(100 + GRACE * 10);
    expect(actions(state.takeDiff())).toEqual([]);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1, since: 0 });
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });
  });

  it("produces no diff at all when a client comes back with the same key within grace", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 100);
    state.takeDiff();
    join(state, "a1", "alice", 200);
    // Nothing anyone sees changed (alice had one counted client before and after).
    expect(state.takeDiff()).toBeNull();
  });

  it("does not announce anything when a client drops and returns with a new key within grace", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 100);
    join(state, "a2", "alice", 600);
    expect(actions(state.takeDiff())).toEqual([]);
    // Both the lingering and the new client count until the grace of the old one runs out.
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 1 });
    state.expire(100 + GRACE);
    expect(actions(state.takeDiff())).toEqual([]);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1, since: 0 });
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });

  it("announces offline exactly at the grace deadline, with since = deadline and lastSeen = drop time", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    state.drop("a1", 500);
    state.expire(500 + GRACE - 1);
    expect(state.takeDiff()).toBeNull();
    expect(state.member("alice")!.status).toBe("online");
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });

    state.expire(500 + GRACE);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([
      {
        action: "offline",
        member: { id: "alice", data: null, status: "offline", clients: 0, clientTypes: {}, since: 500 + GRACE, lastSeen: 500 },
        clientAmount: 1,
        userAmount: 1,
      },
    ]);
  });

  it("goes offline only when the last of several dropped tabs runs out of grace", () => {
    const state = settled([["a1", "alice"], ["a2", "alice"]]);
    state.drop("a1", 0);
    state.drop("a2", 300);
    state.expire(GRACE);
    expect(actions(state.takeDiff())).toEqual([]);
    expect(state.member("alice")!.status).toBe("online");
    state.expire(300 + GRACE);
    expect(actions(state.takeDiff())).toEqual(["offline:alice"]);
    expect(state.member("alice")).toMatchObject({ since: 300 + GRACE, lastSeen: 300 });
  });

  it("announces online with fresh since and lastSeen when an offline member reconnects", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.expire(GRACE);
    state.takeDiff();
    join(state, "a1", "alice", 5_000, { back: true });
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([
      {
        action: "online",
        member: { id: "alice", data: { back: true }, status: "online", clients: 1, clientTypes: {}, since: 5_000, lastSeen: 5_000 },
        clientAmount: 1,
        userAmount: 1,
      },
    ]);
  });

  it("ignores a second drop of a client already in grace (the deadline is not pushed back)", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.drop("a1", 800);
    state.expire(GRACE);
    expect(actions(state.takeDiff())).toEqual(["offline:alice"]);
  });

  it("does not accept activity, updates or leaves from a client in grace", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    expect(state.alive("a1", 10)).toBe(false);
    expect(state.update("a1", { x: 1 })).toBe(false);
    expect(state.leave("a1")).toBe(false);
    expect(state.takeDiff()).toBeNull();
  });

  it("with zero grace, a drop goes offline at the next expire", () => {
    const state = fresh({ graceMs: 0 });
    join(state, "a1", "alice", 0);
    state.takeDiff();
    state.drop("a1", 10);
    state.expire(10);
    expect(actions(state.takeDiff())).toEqual(["offline:alice"]);
  });
});

describe("PresenceState leave and retention", () => {
  it("quietly drops one of two tabs that leaves, with no leave event", () => {
    const state = settled([["a1", "alice"], ["a2", "alice"], ["b1", "bob"]]);
    expect(state.leave("a1")).toBe(true);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([]);
    expect(diff!.quiet).toEqual([expect.objectContaining({ id: "alice", status: "online", clients: 1 })]);
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });
    // The tab that left is an observer no more of alice: it no longer counts at all.
    expect(state.liveClientCount("alice")).toBe(1);
  });

  it("announces leave at once when the last tab leaves, and deletes the member", () => {
    const state = settled([["a1", "alice", { x: 1 }], ["b1", "bob"]], 7);
    state.leave("a1");
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([
      {
        action: "leave",
        member: { id: "alice", data: { x: 1 }, status: "online", clients: 0, clientTypes: {}, since: 7, lastSeen: 7 },
        clientAmount: 1,
        userAmount: 1,
      },
    ]);
    expect(diff!.deletes).toEqual(["alice"]);
    expect(diff!.upserts).toEqual([]);
    expect(state.member("alice")).toBeUndefined();
  });

  it("announces leave at once when the only live tab leaves while another tab is in grace", () => {
    const state = settled([["a1", "alice"], ["a2", "alice"], ["b1", "bob"]]);
    state.drop("a2", 10);
    state.leave("a1");
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["leave:alice"]);
    expect(state.member("alice")).toBeUndefined();
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    // The tab that was in grace is gone too: its deadline brings no offline later.
    state.expire(10 + GRACE);
    expect(state.takeDiff()).toBeNull();
  });

  it("lets an offline member leave when retention expires, counted from when it was last seen", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    state.drop("a1", 100);
    state.expire(100 + GRACE);
    state.takeDiff();
    state.expire(100 + RETENTION - 1);
    expect(state.takeDiff()).toBeNull();
    state.expire(100 + RETENTION);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([
      {
        action: "leave",
        member: { id: "alice", data: null, status: "offline", clients: 0, clientTypes: {}, since: 100 + GRACE, lastSeen: 100 },
        clientAmount: 1,
        userAmount: 1,
      },
    ]);
    expect(diff!.deletes).toEqual(["alice"]);
    expect(state.members().map((m) => m.id)).toEqual(["bob"]);
  });

  it("announces join again (not online) when a user comes back after it left", () => {
    const state = settled([["a1", "alice"]]);
    state.leave("a1");
    state.takeDiff();
    join(state, "a9", "alice", 50);
    expect(actions(state.takeDiff())).toEqual(["join:alice"]);
  });
});

describe("PresenceState coalescing per tick", () => {
  it("cancels a join and a leave of the same user in one tick", () => {
    const state = settled([["b1", "bob"]]);
    join(state, "a1", "alice", 10);
    state.leave("a1");
    expect(state.takeDiff()).toBeNull();
    expect(state.member("alice")).toBeUndefined();
  });

  it("merges a join and an update into one join with the final data", () => {
    const state = fresh();
    join(state, "a1", "alice", 0, { v: 1 });
    state.update("a1", { v: 2 });
    state.update("a1", { v: 3 });
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["join:alice"]);
    expect(diff!.events[0]!.member.data).toEqual({ v: 3 });
    expect(diff!.upserts).toEqual([expect.objectContaining({ id: "alice", data: { v: 3 } })]);
  });

  it("merges several updates into one update with the final data", () => {
    const state = settled([["a1", "alice", { v: 0 }]]);
    state.update("a1", { v: 1 });
    state.update("a1", { v: 2 });
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["update:alice"]);
    expect(diff!.events[0]!.member.data).toEqual({ v: 2 });
  });

  it("announces nothing for an update with the same data (key order ignored)", () => {
    const state = settled([["a1", "alice", { a: 1, b: [1, { c: null }] }]]);
    expect(state.update("a1", { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(state.takeDiff()).toBeNull();
  });

  it("announces nothing for an update that is changed and changed back in one tick", () => {
    const state = settled([["a1", "alice", "x"]]);
    state.update("a1", "y");
    state.update("a1", "x");
    expect(state.takeDiff()).toBeNull();
  });

  it.each<[string, JsonValue, JsonValue]>([
    ["a number to a string", 1, "1"],
    ["null to an empty object", null, {}],
    ["an array to an object", [], {}],
    ["an extra key", { a: 1 }, { a: 1, b: 2 }],
    ["a nested value", { a: { b: 1 } }, { a: { b: 2 } }],
    ["array order", [1, 2], [2, 1]],
  ])("announces an update for a change of %s", (_what, from, to) => {
    const state = settled([["a1", "alice", from]]);
    state.update("a1", to);
    expect(actions(state.takeDiff())).toEqual(["update:alice"]);
  });

  it("orders events by when their users were first touched in the tick", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    state.update("b1", 1);
    join(state, "c1", "carol", 0);
    state.update("a1", 2);
    state.update("b1", 3);
    expect(actions(state.takeDiff())).toEqual(["update:bob", "join:carol", "update:alice"]);
  });

  it("announces neither offline nor online when grace ran out and the user returned in the same tick, only a quiet change", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.takeDiff();
    state.expire(GRACE);
    join(state, "a2", "alice", GRACE);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual([]);
    // Clients saw alice online throughout; her record changed (she came online again at GRACE).
    expect(diff!.quiet).toEqual([expect.objectContaining({ id: "alice", status: "online", clients: 1, since: GRACE, lastSeen: GRACE })]);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1 });
  });

  it("reports join and offline when a user joins and its grace runs out in the same tick", () => {
    const state = fresh({ graceMs: 0 });
    join(state, "a1", "alice", 0);
    state.drop("a1", 0);
    state.expire(0);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["join:alice", "offline:alice"]);
    expect(diff!.upserts).toEqual([expect.objectContaining({ id: "alice", status: "offline" })]);
  });
});

describe("PresenceState connection keys", () => {
  it("is silent when a live key is replaced by a new socket of the same user", () => {
    const state = settled([["a1", "alice", { v: 1 }]]);
    join(state, "a1", "alice", 100, { v: 1 });
    expect(actions(state.takeDiff())).toEqual([]);
    expect(state.member("alice")).toMatchObject({ clients: 1, since: 0 });
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });

  it("produces no diff at all when a live key is replaced by a new socket of the same user", () => {
    const state = settled([["a1", "alice", { v: 1 }]]);
    join(state, "a1", "alice", 100, { v: 1 });
    expect(state.takeDiff()).toBeNull();
  });

  it("announces an update when a replacing socket brings new userData", () => {
    const state = settled([["a1", "alice", { v: 1 }]]);
    join(state, "a1", "alice", 100, { v: 2 });
    expect(actions(state.takeDiff())).toEqual(["update:alice"]);
  });

  it("takes the client away from the old user when a key moves to another user", () => {
    const state = settled([["k", "alice"]]);
    join(state, "k", "bob", 100);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["offline:alice", "join:bob"]);
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(state.userOf("k")).toBe("bob");
  });

  it("turns an observer key into a member when it reconnects with a userId", () => {
    const state = settled([["k", null]]);
    join(state, "k", "alice", 10);
    expect(actions(state.takeDiff())).toEqual(["join:alice"]);
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });
});

describe("PresenceState heartbeats and deadlines", () => {
  it("returns the keys silent for the heartbeat timeout and drops them into grace", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"], ["o1", null]]);
    expect(state.alive("b1", 10_000)).toBe(true);
    expect(state.expire(TIMEOUT - 1)).toEqual([]);
    expect(state.expire(TIMEOUT).sort()).toEqual(["a1", "o1"]);
    // Dropped at once: no longer live, but alice is still counted during grace.
    expect(state.liveClientCount()).toBe(1);
    expect(state.userOf("o1")).toBeUndefined();
    expect(state.alive("a1", TIMEOUT)).toBe(false);
    expect(state.takeDiff()).toBeNull();
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });
    // Not reported twice.
    expect(state.expire(TIMEOUT + 1)).toEqual([]);

    state.expire(TIMEOUT + GRACE);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["offline:alice"]);
    // Last seen when it last spoke (it joined at 0), not when its silence was noticed.
    expect(diff!.events[0]!.member).toMatchObject({ since: TIMEOUT + GRACE, lastSeen: 0 });
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });

  it("counts any activity as liveness", () => {
    const state = settled([["a1", "alice"]]);
    for (let t = 20_000; t <= 200_000; t += 20_000) {
      state.alive("a1", t);
      expect(state.expire(t + TIMEOUT - 1)).toEqual([]);
    }
    expect(state.member("alice")!.status).toBe("online");
  });

  it("with zero grace, an idle client's member goes offline in the same expire call", () => {
    const state = fresh({ graceMs: 0 });
    join(state, "a1", "alice", 0);
    state.takeDiff();
    expect(state.expire(TIMEOUT)).toEqual(["a1"]);
    expect(actions(state.takeDiff())).toEqual(["offline:alice"]);
  });

  it("has no deadline when empty", () => {
    expect(fresh().nextDeadline()).toBeNull();
  });

  it("gives the earliest of idle, grace and retention deadlines", () => {
    const state = fresh();
    join(state, "a1", "alice", 0);
    join(state, "b1", "bob", 0);
    join(state, "c1", "carol", 0);
    state.takeDiff();
    // Idle: the earliest lastActive + timeout.
    state.alive("a1", 5_000);
    state.alive("b1", 5_000);
    state.alive("c1", 3_000);
    expect(state.nextDeadline()).toBe(3_000 + TIMEOUT);
    // Grace: a drop's deadline is earlier than any idle one.
    state.drop("c1", 4_000);
    expect(state.nextDeadline()).toBe(4_000 + GRACE);
    state.expire(4_000 + GRACE);
    state.takeDiff();
    // Retention of carol (offline, lastSeen 4000) is later than the idle ones now.
    expect(state.nextDeadline()).toBe(5_000 + TIMEOUT);
    // With only carol left offline, her retention is the next deadline.
    state.leave("a1");
    state.leave("b1");
    expect(state.nextDeadline()).toBe(4_000 + RETENTION);
  });

  it("picks retention when it comes before every idle deadline", () => {
    const state = fresh({ retentionMs: 2_000 });
    join(state, "a1", "alice", 0);
    join(state, "b1", "bob", 0);
    state.drop("a1", 0);
    state.expire(GRACE);
    expect(state.nextDeadline()).toBe(0 + 2_000);
  });

  it("counts a ping the engine answered (and the room never saw) as liveness, read when a client looks idle", () => {
    const state = settled([["a1", "alice"], ["b1", "bob"]]);
    const pings = new Map([["a1", TIMEOUT - 100]]);
    const asked: string[] = [];
    const pingedAt = (id: string) => (asked.push(id), pings.get(id) ?? null);
    expect(state.expire(TIMEOUT - 1, pingedAt), "nobody looks idle yet").toEqual([]);
    expect(asked, "so the engine is not asked").toEqual([]);
    // At the timeout both look idle: alice pinged, bob did not.
    expect(state.expire(TIMEOUT, pingedAt)).toEqual(["b1"]);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1 });
    expect(state.nextDeadline()).toBe(Math.min(TIMEOUT - 100 + TIMEOUT, TIMEOUT + GRACE));
    // A ping "from the future" (clocks) counts as now, never later.
    pings.set("a1", 10 * TIMEOUT);
    expect(state.expire(2 * TIMEOUT - 100, pingedAt)).toEqual([]);
    // Alice's next idle check, or bob's retention (counted from when he was last seen: 0).
    expect(state.nextDeadline()).toBe(Math.min(2 * TIMEOUT - 100 + TIMEOUT, 0 + RETENTION));
  });

  it("brings every live client up to its last ping when one looks idle, so N members pinging at scattered times cost one deadline per timeout, not N", () => {
    const state = fresh();
    const N = 500;
    // Joined at scattered times over one timeout; each pings every 10 s without waking the room.
    for (let i = 0; i < N; i++) join(state, `c${i}`, `u${i}`, Math.floor((i * TIMEOUT) / N));
    state.takeDiff();
    const INTERVAL = 10_000;
    const lastPing = (i: number, now: number) => Math.floor((now - (i * TIMEOUT) / N) / INTERVAL) * INTERVAL + (i * TIMEOUT) / N;
    let wakes = 0;
    let now = state.nextDeadline()!;
    const end = 10 * TIMEOUT;
    while (now < end) {
      wakes++;
      const at = now;
      expect(state.expire(at, (id) => lastPing(Number(id.slice(1)), at))).toEqual([]);
      now = state.nextDeadline()!;
      expect(now).toBeGreaterThan(at);
    }
    expect(state.takeDiff()).toBeNull();
    // The bound of the Workers engine's idle room: at most 2 wakes per heartbeat timeout, whatever N.
    expect(wakes / (end / TIMEOUT)).toBeLessThanOrEqual(2);
  });

  it("needs no deadline for an offline member once it has left", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.expire(GRACE);
    state.expire(RETENTION);
    expect(state.nextDeadline()).toBeNull();
    expect(state.members()).toEqual([]);
  });
});

describe("PresenceState persistence diff", () => {
  it("upserts a joined member and nothing else", () => {
    const state = fresh();
    join(state, "a1", "alice", 3, { a: 1 });
    join(state, "o1", null, 3);
    const diff = state.takeDiff();
    expect(diff!.upserts).toEqual([{ id: "alice", data: { a: 1 }, status: "online", since: 3, lastSeen: 3 }]);
    expect(diff!.deletes).toEqual([]);
  });

  it("persists no client counts: a second tab gives a quiet change but no upsert", () => {
    const state = settled([["a1", "alice"]]);
    join(state, "a2", "alice", 9);
    const diff = state.takeDiff();
    expect(diff!.upserts).toEqual([]);
    expect(diff!.deletes).toEqual([]);
  });

  it.each<[string, (s: PresenceState) => void, StoredMember[], string[]]>([
    ["update", (s) => s.update("a1", { v: 2 }), [{ id: "alice", data: { v: 2 }, status: "online", since: 0, lastSeen: 0 }], []],
    [
      "offline",
      (s) => (s.drop("a1", 10), s.expire(10 + GRACE)),
      [{ id: "alice", data: { v: 1 }, status: "offline", since: 10 + GRACE, lastSeen: 10 }],
      [],
    ],
    ["leave", (s) => s.leave("a1"), [], ["alice"]],
    ["a drop still in grace", (s) => s.drop("a1", 10), [], []],
    ["an update to the same data", (s) => s.update("a1", { v: 1 }), [], []],
  ])("persists %s as expected", (_what, act, upserts, deletes) => {
    const state = settled([["a1", "alice", { v: 1 }]]);
    act(state);
    const diff = state.takeDiff();
    expect(diff?.upserts ?? []).toEqual(upserts);
    expect(diff?.deletes ?? []).toEqual(deletes);
  });

  it("persists online again after an offline member comes back", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.expire(GRACE);
    state.takeDiff();
    join(state, "a2", "alice", 3_000);
    expect(state.takeDiff()!.upserts).toEqual([{ id: "alice", data: null, status: "online", since: 3_000, lastSeen: 3_000 }]);
  });

  it("deletes a member whose retention expired", () => {
    const state = settled([["a1", "alice"]]);
    state.drop("a1", 0);
    state.expire(GRACE);
    state.takeDiff();
    state.expire(RETENTION);
    expect(state.takeDiff()).toMatchObject({ upserts: [], deletes: ["alice"] });
  });

  it("writes nothing for a join that left within the tick", () => {
    const state = fresh();
    join(state, "a1", "alice", 0);
    state.leave("a1");
    expect(state.takeDiff()).toBeNull();
  });
});

/** A state rebuilt from stored members and surviving sockets (`PresenceState.restore`). */
function rebuilt(...args: Parameters<PresenceState["restore"]>): PresenceState {
  const state = new PresenceState(timing);
  state.restore(...args);
  return state;
}

describe("PresenceState.restore", () => {
  const T = 1_000_000;
  const online = (id: string, data: JsonValue = null): StoredMember => ({ id, data, status: "online", since: 10, lastSeen: 10 });
  const offline = (id: string, lastSeen: number): StoredMember => ({
    id,
    data: { was: id },
    status: "offline",
    since: lastSeen + GRACE,
    lastSeen,
  });

  it("keeps a surviving socket's idle clock from its saved last activity, not from the wake", () => {
    const lastActive = T - TIMEOUT + 500;
    const state = rebuilt([online("alice")], [{ connectionId: "a1", userId: "alice", lastActive }], T);
    state.takeDiff();
    expect(state.nextDeadline()).toBe(lastActive + TIMEOUT);
    expect(state.expire(lastActive + TIMEOUT - 1)).toEqual([]);
    expect(state.expire(lastActive + TIMEOUT)).toEqual(["a1"]);
  });

  it("starts the idle clock at the wake when a socket's last activity is unknown", () => {
    const state = rebuilt([online("alice")], [{ connectionId: "a1", userId: "alice" }], T);
    expect(state.nextDeadline()).toBe(T + TIMEOUT);
  });

  it("keeps members whose sockets survived online, with no event and unchanged times", () => {
    const state = rebuilt([online("alice", { a: 1 }), online("bob")], [
      { connectionId: "a1", userId: "alice" },
      { connectionId: "a2", userId: "alice" },
      { connectionId: "b1", userId: "bob" },
      { connectionId: "o1", userId: null },
    ], T);
    expect(state.takeDiff()).toBeNull();
    expect(state.member("alice")).toEqual({ id: "alice", data: { a: 1 }, status: "online", clients: 2, clientTypes: {}, since: 10, lastSeen: 10 });
    expect(state.counts()).toEqual({ clientAmount: 3, userAmount: 2 });
    state.expire(T + GRACE * 5);
    expect(state.takeDiff()).toBeNull();
    expect(state.liveClientCount()).toBe(4);
  });

  it("sends a stored online member with no surviving socket offline after grace, through expire", () => {
    const state = rebuilt([online("alice"), online("ghost")], [{ connectionId: "a1", userId: "alice" }], T);
    expect(state.takeDiff()).toBeNull();
    // Still counted during grace: it may come back.
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });
    expect(state.nextDeadline()).toBe(T + GRACE);
    state.expire(T + GRACE - 1);
    expect(state.takeDiff()).toBeNull();
    state.expire(T + GRACE);
    const diff = state.takeDiff();
    expect(diff!.events).toEqual([
      {
        action: "offline",
        member: { id: "ghost", data: null, status: "offline", clients: 0, clientTypes: {}, since: T + GRACE, lastSeen: T },
        clientAmount: 1,
        userAmount: 1,
      },
    ]);
    expect(diff!.upserts).toEqual([expect.objectContaining({ id: "ghost", status: "offline" })]);
  });

  it("gives no event when the user of a vanished socket reconnects within grace after the rebuild", () => {
    const state = rebuilt([online("alice", { a: 1 })], [], T);
    join(state, "a-new", "alice", T + 200, { a: 1 });
    expect(actions(state.takeDiff())).toEqual([]);
    state.expire(T + GRACE);
    expect(actions(state.takeDiff())).toEqual([]);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1, since: 10 });
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
  });

  it("holds a member missing after a restart while others keep coming back, and takes it offline a grace period after the last came back", () => {
    const state = rebuilt([online("alice"), online("bob"), online("carol")], [], T);
    const heard: string[] = [];
    const tick = (now: number) => {
      state.expire(now);
      heard.push(...actions(state.takeDiff()));
    };
    join(state, "a1", "alice", T + GRACE - 100);
    tick(T + GRACE);
    // Bob comes back after the rebuild's grace, but within a grace of alice's return: nothing to tell.
    join(state, "b1", "bob", T + 2 * GRACE - 200);
    tick(T + 2 * GRACE);
    expect(heard).toEqual([]);
    expect(state.counts()).toEqual({ clientAmount: 3, userAmount: 3 });
    tick(T + 3 * GRACE - 201);
    expect(heard, "carol still held").toEqual([]);
    tick(T + 3 * GRACE - 200);
    expect(heard).toEqual(["offline:carol"]);
    expect(state.member("carol")).toMatchObject({ status: "offline", since: T + 3 * GRACE - 200, lastSeen: T });
    expect(state.counts()).toEqual({ clientAmount: 2, userAmount: 2 });
  });

  it("counts a member back after a restart as one client, not with the placeholder that held its place", () => {
    const state = rebuilt([online("alice")], [], T);
    join(state, "a1", "alice", T + 100);
    expect(state.member("alice")).toMatchObject({ status: "online", clients: 1 });
    expect(state.counts()).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(actions(state.takeDiff())).toEqual([]);
  });

  it(`holds missing members no longer than ${RESTART_HOLD_MAX_MS / 1000} s after the rebuild, however long clients keep coming back`, () => {
    const ids = Array.from({ length: 200 }, (_, i) => `u${String(i).padStart(3, "0")}`);
    const state = new PresenceState({ ...timing, retentionMs: 10 * RESTART_HOLD_MAX_MS });
    state.restore([...ids.map((id) => online(id)), online("gone")], [], T);
    let offlineAt: number | null = null;
    for (let now = T, i = 0; now <= T + RESTART_HOLD_MAX_MS + GRACE; now += GRACE / 2, i++) {
      if (i < ids.length) join(state, `c${i}`, ids[i]!, now);
      state.expire(now);
      if (actions(state.takeDiff()).includes("offline:gone")) offlineAt ??= now;
    }
    expect(offlineAt).toBe(T + RESTART_HOLD_MAX_MS);
  });

  it("holds nothing with no grace: a missing member goes offline at the rebuild", () => {
    const state = new PresenceState({ ...timing, graceMs: 0 });
    state.restore([online("alice"), online("bob")], [], T);
    join(state, "a1", "alice", T);
    state.expire(T);
    expect(actions(state.takeDiff())).toEqual(["offline:bob"]);
  });

  it("joins a surviving socket whose member storage does not have", () => {
    const state = rebuilt([], [{ connectionId: "a1", userId: "alice" }], T);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["join:alice"]);
    expect(diff!.events[0]!.member).toEqual({ id: "alice", data: null, status: "online", clients: 1, clientTypes: {}, since: T, lastSeen: T });
    expect(diff!.upserts).toHaveLength(1);
  });

  it("brings a stored offline member with a surviving socket online, keeping its data", () => {
    const state = rebuilt([offline("alice", 50)], [{ connectionId: "a1", userId: "alice" }], T);
    const diff = state.takeDiff();
    expect(actions(diff)).toEqual(["online:alice"]);
    expect(diff!.events[0]!.member).toEqual({ id: "alice", data: { was: "alice" }, status: "online", clients: 1, clientTypes: {}, since: T, lastSeen: T });
  });

  it("keeps stored offline members without sockets offline, and lets them leave at retention", () => {
    const state = rebuilt([offline("alice", 50)], [], T);
    expect(state.takeDiff()).toBeNull();
    expect(state.member("alice")!.status).toBe("offline");
    expect(state.counts()).toEqual({ clientAmount: 0, userAmount: 0 });
    expect(state.nextDeadline()).toBe(50 + RETENTION);
    // Retention has long passed by T: the first expire lets it leave.
    state.expire(T);
    expect(actions(state.takeDiff())).toEqual(["leave:alice"]);
  });

  it("does not count surviving observers", () => {
    const state = rebuilt([], [{ connectionId: "o1", userId: null }], T);
    expect(state.takeDiff()).toBeNull();
    expect(state.counts()).toEqual({ clientAmount: 0, userAmount: 0 });
    expect(state.liveClientCount()).toBe(1);
  });

  it("treats surviving sockets as active at rebuild time for the heartbeat", () => {
    const state = rebuilt([online("alice")], [{ connectionId: "a1", userId: "alice" }], T);
    expect(state.nextDeadline()).toBe(T + TIMEOUT);
    expect(state.expire(T + TIMEOUT - 1)).toEqual([]);
    expect(state.expire(T + TIMEOUT)).toEqual(["a1"]);
  });
});

describe("PresenceState with many users", () => {
  it("keeps counts equal to a simple model through a scripted churn", () => {
    const state = fresh();
    const model = new Map<string, number>(); // userId -> counted clients
    const actionsSeen: Array<[string, PresenceAction]> = [];
    let now = 0;
    for (let i = 0; i < 50; i++) {
      join(state, `k${i}`, `u${i % 10}`, now);
      model.set(`u${i % 10}`, (model.get(`u${i % 10}`) ?? 0) + 1);
    }
    for (const e of state.takeDiff()!.events) actionsSeen.push([e.member.id, e.action]);
    expect(actionsSeen).toHaveLength(10);
    expect(state.counts()).toEqual({ clientAmount: 50, userAmount: 10 });
    // Every client of u0..u4 leaves explicitly.
    for (let i = 0; i < 50; i++) if (i % 10 < 5) state.leave(`k${i}`);
    const diff = state.takeDiff()!;
    expect(diff.events.map((e) => e.action)).toEqual(Array(5).fill("leave"));
    expect(state.counts()).toEqual({ clientAmount: 25, userAmount: 5 });
    // The rest drop; after grace they are offline.
    now = 100;
    for (let i = 0; i < 50; i++) if (i % 10 >= 5) state.drop(`k${i}`, now);
    expect(state.counts()).toEqual({ clientAmount: 25, userAmount: 5 });
    state.expire(now + GRACE);
    expect(state.takeDiff()!.events.map((e) => e.action)).toEqual(Array(5).fill("offline"));
    expect(state.counts()).toEqual({ clientAmount: 0, userAmount: 0 });
    expect(state.members()).toHaveLength(5);
  });
});

describe("PresenceState committed view (what snapshots show)", () => {
  it("shows the channel as of the last tick, without the open tick's changes", () => {
    const state = settled([["a1", "alice", { v: "X" }]]);
    join(state, "b1", "bob", 5);
    state.update("a1", { v: "Y" });
    expect(state.committed()).toEqual({
      members: [{ id: "alice", data: { v: "X" }, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0 }],
      counts: { clientAmount: 1, userAmount: 1 },
    });
    state.takeDiff();
    expect(state.committed().members.map((m) => [m.id, m.data])).toEqual([
      ["alice", { v: "Y" }],
      ["bob", null],
    ]);
    expect(state.committed().counts).toEqual({ clientAmount: 2, userAmount: 2 });
  });

  it("never shows a change that is undone within the tick, which no diff would correct", () => {
    const state = settled([["a1", "alice", { v: "X" }], ["a2", "alice", { v: "X" }]]);
    state.update("a1", { v: "Y" });
    const midTick = state.committed();
    state.update("a1", { v: "X" });
    expect(state.takeDiff()).toBeNull();
    expect(midTick.members).toEqual(state.committed().members);
    expect(midTick.members[0]).toMatchObject({ data: { v: "X" }, clients: 2 });
  });

  it("keeps a member that left in the open tick, and leaves out one that joined", () => {
    const state = settled([["a1", "alice"]]);
    state.leave("a1");
    join(state, "b1", "bob", 1);
    expect(state.committed().members.map((m) => m.id)).toEqual(["alice"]);
  });
});

describe("PresenceState live client counts (checked on every connect)", () => {
  it("match a plain count of the keys whose last event was a connect, over random histories", () => {
    const keys = ["k1", "k2", "k3", "k4", "k5"];
    const users = [null, "alice", "bob"];
    const op = fc.oneof(
      fc.record({ kind: fc.constant("connect" as const), key: fc.constantFrom(...keys), user: fc.constantFrom(...users) }),
      fc.record({ kind: fc.constantFrom("drop" as const, "leave" as const, "update" as const), key: fc.constantFrom(...keys) }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2 * GRACE }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const state = fresh({ heartbeatTimeoutMs: 1e12 });
        const live = new Map<string, string | null>();
        let now = 0;
        for (const o of ops) {
          if (o.kind === "connect") {
            state.connect({ connectionId: o.key, userId: o.user, data: null }, now);
            live.set(o.key, o.user);
          } else if (o.kind === "drop") {
            state.drop(o.key, now);
            live.delete(o.key);
          } else if (o.kind === "leave") {
            if (state.leave(o.key)) live.delete(o.key);
          } else if (o.kind === "update") {
            state.update(o.key, { at: now });
          } else if (o.kind === "tick") {
            now += o.ms;
            state.expire(now);
            state.takeDiff();
          }
          expect(state.liveClientCount()).toBe(live.size);
          for (const user of ["alice", "bob"]) {
            expect(state.liveClientCount(user)).toBe([...live.values()].filter((u) => u === user).length);
          }
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
