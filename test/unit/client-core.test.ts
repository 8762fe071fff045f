/**
 * The client's pure core (client/core.ts) alone: frames, the socket's open and close, and the
 * app's calls go in; the events to emit and the messages to send come out. No socket, no
 * timer, no fake of either: each test feeds inputs and reads the returned data.
 */
import { describe, expect, it } from "vitest";
import { ClientCore, type CoreEvent, type CoreOptions, type CoreOutput } from "../../client/core.ts";
import type { ClientPresenceEvent } from "../../client/member-list.ts";
import type { Member, PresenceAction, ServerMessage, UserStatus } from "../../party/protocol/index.ts";
import { diffMessage as diff, member as m, syncMessage as sync } from "../support/messages.ts";

/** The room's messages arrive at this client time (only pushes' memory reads it). */
const NOW = 5_000;

/** A core for member "me" (or other options), its socket opened. */
function core(options: Partial<CoreOptions> = {}): ClientCore {
  const c = new ClientCore({ channel: "room", userId: "me", userData: { v: 1 }, ...options });
  c.opened();
  return c;
}

/** Feeds messages in order; returns the last one's output. */
function feed(c: ClientCore, ...messages: ServerMessage[]): CoreOutput {
  let out: CoreOutput = { events: [], send: [] };
  for (const message of messages) out = c.received(message, NOW);
  return out;
}

/** The events' names, in order. */
const names = (out: CoreOutput) => out.events.map((event) => event[0]);

/** The presence events as "action:id", "(resync)" marking those found by comparing snapshots. */
const said = (out: CoreOutput) =>
  out.events.flatMap((event) => (event[0] === "presence" ? [`${event[1].action}:${event[1].member.id}${event[1].resync ? " (resync)" : ""}`] : []));

/** The payload of the first event named `name`. */
function payload<K extends CoreEvent[0]>(out: CoreOutput, name: K): Extract<CoreEvent, [K, unknown]>[1] {
  const found = out.events.find((event) => event[0] === name);
  if (!found) throw new Error(`no ${name} event in ${JSON.stringify(names(out))}`);
  return found[1] as Extract<CoreEvent, [K, unknown]>[1];
}

const ids = (c: ClientCore) => c.list.members.map((x) => `${x.id}:${x.status}`).sort();

const status = (id: string, online: boolean): UserStatus => ({ id, online, since: 1, lastSeen: 1, channels: [] });
const users = (seq: number, full: boolean, list: UserStatus[]): ServerMessage => ({ type: "users", seq, full, users: list });
const pushFrame = (id: string, data: unknown = { n: 1 }): ServerMessage => ({ type: "push", id, data: data as null, channel: "room", from: "ann" });

describe("ClientCore: the first snapshot", () => {
  it("waits for the last part, then reports the list, the settings and ready, without presence events", () => {
    const c = core();
    expect(feed(c, sync(4, [m("ann")], true))).toEqual({ events: [], send: [] });
    expect(c.list.members).toEqual([]);
    const out = feed(c, sync(4, [m("me"), m("ted", { status: "offline", clients: 0 })]));
    expect(names(out)).toEqual(["heartbeat", "sync", "members", "ready"]);
    expect(out.send).toEqual([]);
    expect(said(out)).toEqual([]);
    expect(ids(c)).toEqual(["ann:online", "me:online", "ted:offline"]);
    expect(payload(out, "sync")).toMatchObject({ seq: 4, mode: "full", counts: { clientAmount: 1, userAmount: 1 } });
    expect(payload(out, "heartbeat")).toEqual(sync(0, []).settings);
    expect(c.settings).toEqual(sync(0, []).settings);
  });

  it("ignores diffs before it", () => {
    const c = core();
    expect(feed(c, diff(1, [["join", m("early")]]))).toEqual({ events: [], send: [] });
    expect(c.list.members).toEqual([]);
  });
});

describe("ClientCore: diffs", () => {
  const steps: Array<[string, PresenceAction, Member]> = [
    ["join", "join", m("ted")],
    ["update", "update", m("ted", { data: { age: 2 } })],
    ["offline", "offline", m("ted", { data: { age: 2 }, status: "offline", clients: 0, since: 9 })],
    ["online", "online", m("ted", { data: { age: 2 }, since: 12 })],
    ["leave", "leave", m("ted", { clients: 0 })],
  ];

  it.each(steps.map(([name], i) => [name, i] as const))("reports a %s as its event, `presence` and the new list", (_name, i) => {
    const c = core();
    feed(c, sync(0, [m("me")]));
    // Bring the list to the step before this one.
    for (let j = 0; j < i; j++) feed(c, diff(j + 1, [[steps[j]![1], steps[j]![2]]]));
    const [, action, member] = steps[i]!;
    const out = feed(c, diff(i + 1, [[action, member]], [], { clientAmount: 7, userAmount: 6 }));
    expect(names(out)).toEqual([action, "presence", "members"]);
    const event = payload(out, "presence") as ClientPresenceEvent;
    expect(event).toMatchObject({ action, clientAmount: 7, userAmount: 6, member: { id: "ted" } });
    expect(out.events[0]![1]).toBe(event);
    expect(out.send).toEqual([]);
    expect(c.list.member("ted")?.status).toBe(action === "leave" ? undefined : member.status);
    expect(c.list.counts).toEqual({ clientAmount: 7, userAmount: 6 });
  });

  it("applies a quiet change to the list without a presence event", () => {
    const c = core();
    feed(c, sync(0, [m("me")]));
    const out = feed(c, diff(1, [], [m("me", { clients: 2, clientTypes: { web: 1, app: 1 } })], { clientAmount: 2, userAmount: 1 }));
    expect(names(out)).toEqual(["members"]);
    expect(c.list.member("me")).toMatchObject({ clients: 2, clientTypes: { web: 1, app: 1 } });
  });

  it("in interval mode drops members that went `out` of view without an event", () => {
    const c = core();
    feed(c, sync(10, [m("me"), m("a"), m("b")], false, "interval"));
    const out = feed(c, diff(11, [], [], { clientAmount: 5000, userAmount: 4800 }, ["b"]));
    expect(names(out)).toEqual(["members"]);
    expect(ids(c)).toEqual(["a:online", "me:online"]);
    expect(c.list.counts).toEqual({ clientAmount: 5000, userAmount: 4800 });
  });

  it("reports nothing but takes the counts when a diff changes only them", () => {
    const c = core();
    feed(c, sync(0, [m("me")]));
    expect(feed(c, diff(1, [], [], { clientAmount: 9, userAmount: 9 }))).toEqual({ events: [], send: [] });
    expect(c.list.counts).toEqual({ clientAmount: 9, userAmount: 9 });
  });
});

describe("ClientCore: sequence numbers", () => {
  it("in full mode sends `sync` on a gap, ignores diffs until the snapshot, then reports what it changed as resync", () => {
    const c = core();
    feed(c, sync(0, [m("me"), m("a"), m("b", { data: 1 }), m("c")]));
    expect(feed(c, diff(2, [["join", m("missed")]]))).toEqual({ events: [], send: [{ type: "sync" }] });
    expect(c.list.member("missed")).toBeUndefined();
    // Diffs until the snapshot, in sequence after the gap or not, are ignored and ask nothing more.
    expect(feed(c, diff(3, [["join", m("late")]]))).toEqual({ events: [], send: [] });
    expect(feed(c, diff(1, [["join", m("late")]]))).toEqual({ events: [], send: [] });
    expect(c.list.member("late")).toBeUndefined();

    const out = feed(c, sync(7, [m("me"), m("b", { data: 2 }), m("c", { status: "offline", clients: 0 }), m("d")]));
    expect(said(out).sort()).toEqual(["join:d (resync)", "leave:a (resync)", "offline:c (resync)", "update:b (resync)"]);
    expect(out.send).toEqual([]);
    expect(names(feed(c, diff(8, [["join", m("e")]])))).toEqual(["join", "presence", "members"]);
  });

  it("ignores a diff whose sequence number it has already seen", () => {
    const c = core();
    feed(c, sync(5, [m("me")]));
    expect(feed(c, diff(5, [["join", m("ghost")]]))).toEqual({ events: [], send: [] });
    expect(feed(c, diff(4, [["join", m("ghost")]]))).toEqual({ events: [], send: [] });
    expect(c.list.member("ghost")).toBeUndefined();
  });

  it("in interval mode applies any higher seq: a jump is no gap", () => {
    const c = core();
    feed(c, sync(10, [m("me"), m("a")], false, "interval"));
    const out = feed(c, diff(13, [["join", m("aa")]], [], { clientAmount: 5000, userAmount: 4800 }));
    expect(out.send).toEqual([]);
    expect(said(out)).toEqual(["join:aa"]);
    expect(said(feed(c, diff(40, [["join", m("ab")]])))).toEqual(["join:ab"]);
    expect(feed(c, diff(39, [["join", m("old")]]))).toEqual({ events: [], send: [] });
    expect(c.list.member("old")).toBeUndefined();
  });

  it("reports a change of mode once, and takes the new mode's rule from its snapshot", () => {
    const c = core();
    feed(c, sync(1, [m("me"), m("a")]));
    const out = feed(c, sync(2, [m("me")], false, "interval"));
    expect(names(out)).toEqual(["heartbeat", "mode", "sync", "members"]);
    expect(payload(out, "mode")).toBe("interval");
    expect(said(out)).toEqual([]);
    expect(feed(c, diff(9, [["join", m("z")]])).send).toEqual([]);
  });
});

describe("ClientCore: reconnects", () => {
  it("reports the socket's close and opening; after a reconnect waits for the snapshot and reports what changed meanwhile as resync", () => {
    const c = core();
    feed(c, sync(3, [m("me"), m("ted")]));
    expect(c.closed(1006, "")).toEqual({ events: [["close", { code: 1006, reason: "" }], ["status", "closed"]], send: [] });
    expect(c.opened()).toEqual({ events: [["status", "open"]], send: [] });
    // A diff of the old connection, in sequence, now waits for the snapshot.
    expect(feed(c, diff(4, [["join", m("lost")]]))).toEqual({ events: [], send: [] });
    const out = feed(c, sync(9, [m("me"), m("ted", { status: "offline", clients: 0 }), m("zoe")]));
    expect(said(out).sort()).toEqual(["join:zoe (resync)", "offline:ted (resync)"]);
    expect(names(out)).not.toContain("ready");
    expect(feed(c, diff(4, [["join", m("stale")]]))).toEqual({ events: [], send: [] });
  });

  it("drops a half-received snapshot when the socket reopens", () => {
    const c = core();
    feed(c, sync(3, [m("me")]));
    feed(c, sync(4, [m("partial")], true));
    c.opened();
    feed(c, sync(5, [m("me")]));
    expect(c.list.member("partial")).toBeUndefined();
  });
});

describe("ClientCore: ready", () => {
  it("for a member, waits until the room announces it online, and says so once", () => {
    const c = core();
    expect(names(feed(c, sync(4, [m("a")])))).not.toContain("ready");
    expect(names(feed(c, diff(5, [["join", m("me", { status: "offline", clients: 0 })]])))).not.toContain("ready");
    expect(names(feed(c, diff(6, [["online", m("me")]])))).toContain("ready");
    expect(names(feed(c, diff(7, [["update", m("me", { data: 1 })]])))).not.toContain("ready");
  });

  it("for an observer, at the first complete snapshot", () => {
    const c = core({ userId: undefined, userData: undefined });
    expect(names(feed(c, sync(1, [m("a")], true)))).toEqual([]);
    expect(names(feed(c, sync(1, [m("b")])))).toContain("ready");
  });

  it("for a member that left, at the next list it gets", () => {
    const c = core();
    c.leave();
    expect(names(feed(c, sync(1, [m("a")])))).toContain("ready");
  });
});

describe("ClientCore: the watch list", () => {
  it("sends the list, reports each status and the list, and asks again when a message was missed", () => {
    const c = core();
    feed(c, sync(0, [m("me")]));
    expect(c.watch(["ann", "bob", "ann"])).toEqual({ events: [], send: [{ type: "watch", userIds: ["ann", "bob"] }] });
    const full = feed(c, users(1, true, [status("ann", true), status("bob", false)]));
    expect(full.events).toEqual([
      ["user", status("ann", true)],
      ["user", status("bob", false)],
      ["users", [status("ann", true), status("bob", false)]],
    ]);
    expect(feed(c, users(2, false, [status("bob", true)])).events).toEqual([
      ["user", status("bob", true)],
      ["users", [status("ann", true), status("bob", true)]],
    ]);
    // seq 3 never came.
    expect(feed(c, users(4, false, [status("ann", false)]))).toEqual({ events: [], send: [{ type: "watch", userIds: ["ann", "bob"] }] });
    expect(c.watchList.status("ann")).toEqual(status("ann", true));
  });

  it("sends the list again with the first snapshot after a reconnect, not with the room's own snapshots", () => {
    const c = core();
    feed(c, sync(0, [m("me")]));
    c.watch(["ann"]);
    feed(c, users(1, true, [status("ann", true)]));
    expect(feed(c, sync(1, [m("me")], false, "interval")).send).toEqual([]);
    c.closed(1006, "");
    c.opened();
    expect(feed(c, sync(5, [m("me")], true)).send).toEqual([]);
    expect(feed(c, sync(5, [m("me")])).send).toEqual([{ type: "watch", userIds: ["ann"] }]);
    // The new stream starts with a full list: a change numbered after the old one is a gap.
    expect(feed(c, users(2, false, [status("ann", false)])).send).toEqual([{ type: "watch", userIds: ["ann"] }]);
  });

  it("refuses more than 1,000 ids, or a bad one, and sends nothing", () => {
    const c = core();
    expect(() => c.watch(Array.from({ length: 1001 }, (_, i) => `u${i}`))).toThrow(/at most 1000/);
    expect(() => c.watch(["ok", "bad\u0000id"])).toThrow();
    expect(c.watchList.ids).toEqual([]);
  });
});

describe("ClientCore: pushes", () => {
  it("hands a new push to the handlers, acks their answer, and answers the same id again without them", () => {
    const c = core();
    const first = feed(c, pushFrame("p1"));
    expect(first).toEqual({ events: [["push", { data: { n: 1 }, info: { id: "p1", channel: "room", from: "ann" } }]], send: [] });
    expect(c.pushAnswered("p1", { ok: true })).toEqual({ events: [], send: [{ type: "ack", id: "p1", ok: true }] });
    expect(feed(c, pushFrame("p1"))).toEqual({ events: [], send: [{ type: "ack", id: "p1", ok: true }] });
  });

  it("answers a repeat that arrives while the handlers run when they answer, and a failed handler negatively", () => {
    const c = core();
    feed(c, pushFrame("p2"));
    expect(feed(c, pushFrame("p2"))).toEqual({ events: [], send: [] });
    const nack = { type: "ack", id: "p2", ok: false, error: "boom" };
    expect(c.pushAnswered("p2", { ok: false, error: "boom" }).send).toEqual([nack, nack]);
    expect(feed(c, pushFrame("p2")).send).toEqual([nack]);
  });
});

describe("ClientCore: its own userData", () => {
  const dataOf = (c: ClientCore) => JSON.parse(c.query().userData!) as unknown;

  it("reconnects with the data its member has in the room, and with the data it set until the room echoes it", () => {
    const c = core();
    expect(c.query()).toEqual({ userId: "me", userData: '{"v":1}' });
    // Another tab of the same user changed the member's data.
    feed(c, sync(0, [m("me", { data: { v: 5 } })]));
    expect(dataOf(c)).toEqual({ v: 5 });
    expect(c.setUserData({ v: 6 })).toEqual({ events: [], send: [{ type: "update", data: { v: 6 } }] });
    // A diff from before the room saw the update does not bring the old data back.
    feed(c, diff(1, [], [m("me", { data: { v: 5 }, clients: 2 })]));
    expect(dataOf(c)).toEqual({ v: 6 });
    feed(c, diff(2, [["update", m("me", { data: { v: 6 } })]]));
    // Echoed: from now on the room's data is the newer.
    feed(c, diff(3, [["update", m("me", { data: { v: 7 } })]]));
    expect(dataOf(c)).toEqual({ v: 7 });
  });

  it("refuses userData for an observer or over the size cap, and sends nothing", () => {
    expect(() => core({ userId: undefined, userData: undefined }).setUserData(1)).toThrow(/observer/);
    expect(() => core({ maxUserDataBytes: 10 }).setUserData("x".repeat(20))).toThrow();
  });

  it("after leaving, reconnects as an observer", () => {
    const c = core({ clientType: "web", window: 5 });
    expect(c.query()).toEqual({ userId: "me", userData: '{"v":1}', clientType: "web", window: "5" });
    c.leave();
    expect(c.query()).toEqual({ window: "5" });
  });
});

describe("ClientCore: the window, answers, refusals", () => {
  it("sends a new window and keeps it for the next connect; refuses one out of 0–100", () => {
    const c = core();
    expect(c.setWindow(20)).toEqual({ events: [], send: [{ type: "window", limit: 20 }] });
    expect(c.query().window).toBe("20");
    expect(() => c.setWindow(101)).toThrow(/0 to 100/);
    expect(() => c.setWindow(1.5)).toThrow();
  });

  it("turns the room's answers into answers to the requests by id", () => {
    const c = core();
    const result = { channel: "room", clientAmount: 0, userAmount: 0, clientTypes: {} };
    expect(feed(c, { type: "herenow", id: "7", result }).events).toEqual([["answer", ["7", result]]]);
    expect(feed(c, { type: "left" }).events).toEqual([["answer", ["leave", undefined]]]);
    const pushed = { id: "x", clients: 0, acked: [], unacked: [] };
    expect(feed(c, { type: "pushed", result: pushed }).events).toEqual([["answer", ["push:x", pushed]]]);
    expect(feed(c, { type: "pong", now: 1 })).toEqual({ events: [], send: [] });
  });

  it.each([
    ["room_full", 1013],
    ["user_full", 1013],
    ["replaced", 4002],
    ["kicked", 4004],
  ] as const)("stops for good on %s (close %i), and takes the socket's close after it as old news", (code, closeCode) => {
    const c = core();
    expect(feed(c, { type: "error", code, message: "no" }).events).toEqual([
      ["error", { code, message: "no" }],
      ["stop"],
      ["close", { code: closeCode, reason: "no" }],
      ["status", "closed"],
    ]);
    expect(c.closed(1000, "client closed")).toEqual({ events: [], send: [] });
  });

  it("only reports an error that does not refuse the client", () => {
    const c = core();
    expect(feed(c, { type: "error", code: "rate_limited", message: "slow down" }).events).toEqual([["error", { code: "rate_limited", message: "slow down" }]]);
    expect(names(c.closed(1006, ""))).toEqual(["close", "status"]);
  });

  it("validates like the service when made", () => {
    expect(() => new ClientCore({ channel: "bad name!" })).toThrow(/channel/);
    expect(() => new ClientCore({ channel: "room", userData: 1 })).toThrow(/observer/);
    expect(() => new ClientCore({ channel: "room", userId: "me", window: 101 })).toThrow();
  });
});
