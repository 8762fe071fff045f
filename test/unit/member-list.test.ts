/** The client's member list as pure logic: snapshots, diffs in sequence, gaps and resyncs, without sockets. */
import { describe, expect, it } from "vitest";
import { type ListChange, MemberList } from "../../client/member-list.ts";
import type { DiffMessage } from "../../party/protocol/index.ts";
import { diffMessage as diff, member as m, syncMessage as sync } from "../support/messages.ts";

/** The events of a change as "action:id" strings, "(resync)" marking those found by comparing snapshots. */
const said = (change: ListChange | null) => (change?.events ?? []).map((e) => `${e.action}:${e.member.id}${e.resync ? " (resync)" : ""}`);

function applied(list: MemberList, message: DiffMessage): ListChange {
  const outcome = list.applyDiff(message);
  if (outcome.kind !== "applied") throw new Error(`diff ${message.seq} was ${outcome.kind}`);
  return outcome.change;
}

const ids = (list: MemberList) => list.members.map((x) => `${x.id}:${x.status}`).sort();

describe("MemberList", () => {
  it("builds its list from the first snapshot without reporting events", () => {
    const list = new MemberList();
    const change = list.applySync(sync(4, [m("me"), m("ted", { status: "offline", clients: 0 })]));
    expect(change).toEqual({ events: [], changed: true });
    expect(ids(list)).toEqual(["me:online", "ted:offline"]);
    expect(list.counts).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(list.seq).toBe(4);
    expect(list.current).toBe(true);
  });

  it("waits for the last part of a snapshot sent in parts", () => {
    const list = new MemberList();
    expect(list.applySync(sync(2, [m("a")], true))).toBeNull();
    expect(list.members).toEqual([]);
    expect(list.current).toBe(false);
    expect(list.applySync(sync(2, [m("b"), m("me")]))).not.toBeNull();
    expect(ids(list)).toEqual(["a:online", "b:online", "me:online"]);
  });

  it("applies diffs in sequence, one event per action, with the room's counts", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("me")]));
    const steps: Array<[DiffMessage, string[]]> = [
      [diff(1, [["join", m("ted")]], [], { clientAmount: 2, userAmount: 2 }), ["join:ted"]],
      [diff(2, [["update", m("ted", { data: { age: 2 } })]], [], { clientAmount: 2, userAmount: 2 }), ["update:ted"]],
      [diff(3, [["offline", m("ted", { data: { age: 2 }, status: "offline", clients: 0, since: 9 })]], [], { clientAmount: 1, userAmount: 1 }), ["offline:ted"]],
      [diff(4, [["online", m("ted", { since: 12 })]], [], { clientAmount: 2, userAmount: 2 }), ["online:ted"]],
      [diff(5, [["leave", m("ted", { clients: 0 })]], [], { clientAmount: 1, userAmount: 1 }), ["leave:ted"]],
    ];
    for (const [message, events] of steps) expect(said(applied(list, message))).toEqual(events);
    expect(ids(list)).toEqual(["me:online"]);
    expect(list.counts).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(list.seq).toBe(5);
  });

  it("applies quiet changes to the list without an event, and says the list changed", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("me")]));
    const change = applied(list, diff(1, [], [m("me", { clients: 2, clientTypes: { web: 1, app: 1 } })], { clientAmount: 2, userAmount: 1 }));
    expect(change).toEqual({ events: [], changed: true });
    expect(list.member("me")).toMatchObject({ clients: 2, clientTypes: { web: 1, app: 1 } });
  });

  it("ignores a diff whose sequence number it has already seen", () => {
    const list = new MemberList();
    list.applySync(sync(5, [m("me")]));
    expect(list.applyDiff(diff(5, [["join", m("ghost")]]))).toEqual({ kind: "ignored" });
    expect(list.applyDiff(diff(3, [["join", m("ghost")]]))).toEqual({ kind: "ignored" });
    expect(list.member("ghost")).toBeUndefined();
  });

  it("ignores diffs before its first snapshot", () => {
    const list = new MemberList();
    expect(list.applyDiff(diff(1, [["join", m("early")]]))).toEqual({ kind: "ignored" });
    expect(list.members).toEqual([]);
  });

  it("does not report an event whose effect the list already holds, and says nothing changed", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("me"), m("ted")]));
    expect(applied(list, diff(1, [["join", m("ted")]]))).toEqual({ events: [], changed: false });
  });

  it("does not report a leave of a member it never had", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("me")]));
    expect(said(applied(list, diff(1, [["leave", m("stranger")]])))).toEqual([]);
  });

  it("treats data that differs only in key order as unchanged", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("ted", { data: { a: 1, b: 2 } })]));
    expect(said(applied(list, diff(1, [["update", m("ted", { data: { b: 2, a: 1 } })]])))).toEqual([]);
  });

  it("reports a gap, ignores diffs until the next snapshot, then reports what the snapshot changed", () => {
    const list = new MemberList();
    list.applySync(sync(0, [m("me"), m("a"), m("b", { data: 1 }), m("c")]));
    expect(list.applyDiff(diff(2, [["join", m("missed")]]))).toEqual({ kind: "gap" });
    expect(list.current).toBe(false);
    expect(list.applyDiff(diff(3, [["join", m("late")]]))).toEqual({ kind: "ignored" });
    expect(list.member("late")).toBeUndefined();

    // The fresh snapshot: a left, b updated, c offline, d joined, me unchanged.
    const change = list.applySync(sync(7, [m("me"), m("b", { data: 2 }), m("c", { status: "offline", clients: 0 }), m("d")]));
    expect(said(change).sort()).toEqual(["join:d (resync)", "leave:a (resync)", "offline:c (resync)", "update:b (resync)"]);
    expect(ids(list)).toEqual(["b:online", "c:offline", "d:online", "me:online"]);
    expect(said(applied(list, diff(8, [["join", m("e")]])))).toEqual(["join:e"]);
  });

  it("after a reconnect drops a half-received snapshot, waits for a new one and ignores stale diffs", () => {
    const list = new MemberList();
    list.applySync(sync(3, [m("me"), m("ted")]));
    list.applySync(sync(4, [m("partial")], true));
    list.reconnected();
    expect(list.applyDiff(diff(4, [["join", m("lost")]]))).toEqual({ kind: "ignored" });
    const change = list.applySync(sync(9, [m("me"), m("ted", { status: "offline", clients: 0 }), m("zoe")]));
    expect(said(change).sort()).toEqual(["join:zoe (resync)", "offline:ted (resync)"]);
    expect(list.member("partial")).toBeUndefined();
    expect(list.applyDiff(diff(4, [["join", m("stale")]]))).toEqual({ kind: "ignored" });
  });

  it("in interval mode takes any newer diff, drops members that went out of view without an event, and keeps the counts exact", () => {
    const list = new MemberList();
    list.applySync(sync(10, [m("me"), m("a"), m("b")], false, "interval"));
    expect(list.mode).toBe("interval");
    // The socket did not hear ticks 11 and 12: no gap in interval mode.
    const change = applied(list, diff(13, [["join", m("aa")]], [], { clientAmount: 5000, userAmount: 4800 }, ["b"]));
    expect(said(change)).toEqual(["join:aa"]);
    expect(change.changed).toBe(true);
    expect(ids(list)).toEqual(["a:online", "aa:online", "me:online"]);
    expect(list.counts).toEqual({ clientAmount: 5000, userAmount: 4800 });
    // Only the counts changed: the list did not.
    expect(applied(list, diff(20, [], [], { clientAmount: 5001, userAmount: 4801 }))).toEqual({ events: [], changed: false });
    expect(list.applyDiff(diff(19, [["join", m("old")]]))).toEqual({ kind: "ignored" });
  });

  it("reports a change of mode once, without taking members that left the view for members that left", () => {
    const list = new MemberList();
    list.applySync(sync(1, [m("me"), m("a"), m("b"), m("c")]));
    const toInterval = list.applySync(sync(2, [m("me"), m("a", { data: "new" })], false, "interval"));
    expect(toInterval).toEqual({ events: [{ action: "update", member: m("a", { data: "new" }), clientAmount: 2, userAmount: 2, resync: true }], changed: true, modeChanged: true });
    // A fresh snapshot in interval mode (a new window): members out of the new view are no leave.
    expect(said(list.applySync(sync(5, [m("me"), m("z")], false, "interval")))).toEqual([]);
    const toFull = list.applySync(sync(9, [m("me"), m("a"), m("z"), m("y")]));
    expect(toFull!.modeChanged).toBe(true);
    expect(said(toFull)).toEqual([]);
    expect(list.mode).toBe("full");
  });
});
