/**
 * A channel room's side of the directory, alone: which sockets watch whom and what each is
 * owed (WatchRegistry), and what the room sends to which directory part (DirectoryReporter:
 * its calls are effects, played here by a fake part that records them and answers like one).
 */
import { describe, expect, it } from "vitest";
import { DirectoryReporter } from "../../party/channel/directory-reporter.ts";
import type { TickDiff } from "../../party/channel/presence.ts";
import { WatchRegistry } from "../../party/channel/watchers.ts";
import { type Effect, Outbox } from "../../party/channel/effects.ts";
import { partOf } from "../../party/server/parts.ts";
import type { DirectoryReport, UserStatus, VersionedStatus } from "../../party/protocol/index.ts";
import { member } from "../support/messages.ts";

const status = (id: string, online: boolean): UserStatus => ({ id, online, since: 1, lastSeen: 1, data: null, channels: [] });
const v = (version: number, id: string, online: boolean): VersionedStatus => ({ version, status: status(id, online) });

describe("WatchRegistry", () => {
  it("owes a socket its full list once every user in it is known, then each change, numbered", () => {
    const watchers = new WatchRegistry();
    expect(watchers.set("s1", ["ann", "bob"])).toEqual(["ann", "bob"]);
    watchers.heard([v(1, "ann", true)]);
    expect(watchers.take()).toEqual([]);
    watchers.heard([v(1, "bob", false)]);
    expect(watchers.take()).toEqual([{ connectionId: "s1", seq: 1, full: true, users: [status("ann", true), status("bob", false)] }]);
    watchers.heard([v(2, "bob", true)]);
    expect(watchers.take()).toEqual([{ connectionId: "s1", seq: 2, full: false, users: [status("bob", true)] }]);
    expect(watchers.take()).toEqual([]);
  });

  it("keeps only the newest version it hears of, whatever order the news comes in", () => {
    const watchers = new WatchRegistry();
    watchers.set("s1", ["ann"]);
    watchers.heard([v(5, "ann", false)]);
    watchers.take();
    watchers.heard([v(3, "ann", true)]);
    expect(watchers.take()).toEqual([]);
  });

  it("serves a second socket from what the room already knows, and forgets users nobody watches", () => {
    const watchers = new WatchRegistry();
    watchers.set("s1", ["ann"]);
    watchers.heard([v(1, "ann", true)]);
    watchers.take();
    expect(watchers.set("s2", ["ann"])).toEqual([]);
    expect(watchers.take()).toEqual([{ connectionId: "s2", seq: 1, full: true, users: [status("ann", true)] }]);
    watchers.remove("s1");
    watchers.remove("s2");
    expect(watchers.watched()).toEqual([]);
    expect(watchers.set("s3", ["ann"])).toEqual(["ann"]);
  });
});

/**
 * A reporter and a fake directory that plays its calls: `answer` answers every call the
 * reporter made (and those it makes in turn), recording each; status queries get offline users.
 */
function reporter() {
  const out = new Outbox();
  const r = new DirectoryReporter({ enabled: true, parts: 4, leaseMs: 60_000, channel: "room", out });
  const sent: Array<{ room: string; call: string; args: unknown }> = [];
  const heard: VersionedStatus[][] = [];
  const link = { failing: false, ticks: 0 };
  const answer = (now = 0) => {
    for (;;) {
      const effects = out.take();
      link.ticks += effects.filter((e) => e.kind === "tick").length;
      const calls = effects.filter((e): e is Extract<Effect, { kind: "call" }> => e.kind === "call");
      if (calls.length === 0) return;
      for (const { ticket, call } of calls) {
        sent.push({ room: call.room, call: call.name, args: call.args });
        const reply = call.name === "status" ? { users: (call.args as { userIds: string[] }).userIds.map((id) => v(1, id, false)) } : {};
        const statuses = r.replied(ticket, link.failing ? { error: "503" } : { reply }, now, true);
        if (statuses.length > 0) heard.push(statuses);
      }
    }
  };
  return { r, sent, heard, link, answer };
}

const diff = (events: TickDiff["events"], quiet: TickDiff["quiet"] = []): TickDiff => ({ clientAmount: 0, userAmount: 0, events, quiet, upserts: [], deletes: [] });

describe("DirectoryReporter", () => {
  it("sends one request per part touched in a tick, with each user's net presence", () => {
    const { r, sent, answer } = reporter();
    const users = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"];
    r.changes(diff(users.map((id) => ({ action: "join", member: member(id, { clientTypes: { web: 1 } }), clientAmount: 0, userAmount: 0 }))), 0);
    r.changes(diff([{ action: "leave", member: member("u1"), clientAmount: 0, userAmount: 0 }]), 5);
    r.flush(5, true);
    answer();
    const parts = new Set(users.map((id) => partOf(id, 4)));
    expect(sent.map((s) => s.room).sort()).toEqual([...parts].sort());
    const all = sent.flatMap((s) => (s.args as DirectoryReport).presence);
    expect(all).toHaveLength(8);
    expect(all.find((p) => p.userId === "u1")).toEqual({ present: false, userId: "u1", lastSeen: 5 });
    expect(all.find((p) => p.userId === "u2")).toEqual({ present: true, userId: "u2", clients: 1, clientTypes: { web: 1 }, data: null });
  });

  it("reports an offline member as gone since it was last seen, and a quiet change as a new presence", () => {
    const { r, sent, answer } = reporter();
    r.changes(diff([{ action: "offline", member: member("ann", { status: "offline", clients: 0, lastSeen: 42 }), clientAmount: 0, userAmount: 0 }], [member("bob", { clients: 2 })]), 100);
    r.flush(100, true);
    answer();
    const presence = sent.flatMap((s) => (s.args as DirectoryReport).presence);
    expect(presence).toContainEqual({ present: false, userId: "ann", lastSeen: 42 });
    expect(presence).toContainEqual(expect.objectContaining({ present: true, userId: "bob", clients: 2 }));
  });

  it("renews every third of the lease with all online members (a sixth early when awake anyway), and tells parts that held users they no longer do", () => {
    const { r, sent, answer } = reporter();
    expect(r.renewalDue(0)).toBe(true);
    r.renew([member("a"), member("b")], 0);
    // The alarm is set for a third of the lease (60 s here); a wake from a sixth on renews early.
    expect(r.nextRenewal()).toBe(20_000);
    expect(r.renewalDue(9_999)).toBe(false);
    expect(r.renewalDue(10_000)).toBe(true);
    r.flush(0, true);
    answer();
    expect(sent.every((s) => (s.args as DirectoryReport).all)).toBe(true);
    sent.length = 0;
    r.renew([member("a")], 20_000);
    r.flush(20_000, true);
    answer(20_000);
    // "a" and "b" live in different parts (p0 and p1 of 4): b's part must hear that it holds no one of this channel now.
    expect(partOf("b", 4)).not.toBe(partOf("a", 4));
    const toB = sent.find((s) => s.room === partOf("b", 4));
    expect(toB, "a renewal to the part that held b").toBeDefined();
    expect(toB!.args).toMatchObject({ all: true, presence: [] });
    expect(sent.find((s) => s.room === partOf("a", 4))!.args).toMatchObject({ all: true, presence: [expect.objectContaining({ userId: "a" })] });
  });

  it("keeps what it cannot send yet, and sends it once the parties can be reached", () => {
    const { r, sent, link, answer } = reporter();
    r.changes(diff([{ action: "join", member: member("ann"), clientAmount: 0, userAmount: 0 }]), 0);
    r.flush(0, false);
    answer();
    expect(sent).toEqual([]);
    expect(r.pending).toBe(true);
    expect(link.ticks, "no busy retries while the parties cannot be reached").toBe(0);
    r.flush(0, true);
    answer();
    expect(sent).toHaveLength(1);
    expect(r.pending).toBe(false);
  });

  it("puts a failed report back under anything newer, and sends it again after backing off", () => {
    const { r, sent, link, answer } = reporter();
    link.failing = true;
    r.changes(diff([{ action: "join", member: member("ann"), clientAmount: 0, userAmount: 0 }]), 0);
    r.flush(0, true);
    answer(0);
    expect(link.ticks, "a tick, so the room's alarm covers the retry").toBe(1);
    link.failing = false;
    r.flush(100, true);
    answer(100);
    expect(sent, "nothing sent while backing off").toHaveLength(1);
    r.flush(10_000, true);
    answer(10_000);
    expect(sent).toHaveLength(2);
    expect((sent[1]!.args as DirectoryReport).presence).toEqual([expect.objectContaining({ userId: "ann", present: true })]);
  });

  it("tells a part which of its users are watched before asking for their statuses", () => {
    const { r, sent, heard, answer } = reporter();
    r.watch(["ann"]);
    r.ask(["ann"]);
    r.flush(0, true);
    answer();
    expect(sent.map((s) => s.call)).toEqual(["report", "status"]);
    expect(sent[0]!.args).toMatchObject({ watch: ["ann"], presence: [] });
    expect(heard).toEqual([[v(1, "ann", false)]]);
    r.watch([]);
    r.flush(0, true);
    answer();
    expect(sent[2]!.args).toMatchObject({ watch: [] });
  });
});
