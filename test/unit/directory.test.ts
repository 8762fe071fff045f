/** The user directory's pure state: channels as leases, grace on the union, lapses, retention, watchers. An injected clock. */
import { describe, expect, it } from "vitest";
import { DirectoryState, type DirectoryTiming } from "../../party/directory/directory.ts";
import type { DirectoryReport, PresenceReport } from "../../party/protocol/index.ts";

const timing: DirectoryTiming = { graceMs: 1_000, leaseMs: 60_000, retentionMs: 3_600_000 };
const here = (userId: string, clients = 1, clientTypes: Record<string, number> = {}, data: unknown = null): PresenceReport => ({
  present: true,
  userId,
  clients,
  clientTypes,
  data: data as never,
});
const gone = (userId: string, lastSeen: number): PresenceReport => ({ present: false, userId, lastSeen });
const report = (channel: string, presence: PresenceReport[], over: Partial<DirectoryReport> = {}): DirectoryReport => ({
  channel,
  presence,
  all: false,
  watch: null,
  ...over,
});

describe("DirectoryState", () => {
  it("knows a user online in two channels on two client types, and tells an unknown user apart", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ted", 1, { web: 1 }, { v: 1 })]), 100);
    state.apply(report("b", [here("ted", 2, { app: 2 }, { v: 1 })]), 150);
    expect(state.status("ted")).toEqual({
      id: "ted",
      online: true,
      since: 100,
      lastSeen: 100,
      data: { v: 1 },
      channels: [
        { channel: "a", clientAmount: 1, clientTypes: { web: 1 } },
        { channel: "b", clientAmount: 2, clientTypes: { app: 2 } },
      ],
    });
    expect(state.status("nobody")).toEqual({ id: "nobody", online: false, lastSeen: null });
    expect(state.takeChanges(150)?.transitions).toEqual([{ userId: "ted", online: true, at: 100 }]);
  });

  it("stays online without a flicker when one channel goes and another stays", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ted")]), 0);
    state.apply(report("b", [here("ted")]), 0);
    state.takeChanges(0);
    state.apply(report("a", [gone("ted", 500)]), 1_500);
    state.expire(10_000);
    expect(state.status("ted")).toMatchObject({ online: true, channels: [{ channel: "b" }] });
    expect(state.takeChanges(10_000)?.transitions).toEqual([]);
  });

  it("moves a user between channels (leave one, join another within grace) with no offline", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ann")]), 0);
    state.takeChanges(0);
    state.apply(report("a", [gone("ann", 5_000)]), 5_000);
    state.expire(5_500);
    state.apply(report("b", [here("ann")]), 5_800);
    state.expire(20_000);
    expect(state.status("ann")).toMatchObject({ online: true, since: 0, channels: [{ channel: "b" }] });
    expect(state.takeChanges(20_000)?.transitions).toEqual([]);
  });

  it("takes a user offline one grace after it left its last channel, last seen when it left", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ann", 1, {}, { n: 1 })]), 0);
    state.apply(report("a", [gone("ann", 5_000)]), 5_000);
    state.expire(5_999);
    expect(state.status("ann").online).toBe(true);
    expect(state.nextDeadline()).toBe(6_000);
    state.expire(6_000);
    expect(state.status("ann")).toEqual({ id: "ann", online: false, since: 6_000, lastSeen: 5_000, data: { n: 1 }, channels: [] });
  });

  it("takes a user offline at once when the room says it was last seen a grace ago (the room's own grace ran out)", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ann")]), 0);
    state.apply(report("a", [gone("ann", 4_000)]), 5_000);
    state.expire(5_000);
    expect(state.status("ann")).toMatchObject({ online: false, since: 5_000, lastSeen: 4_000 });
  });

  it("releases every user of a channel whose lease lapsed, last seen at the last renewal", () => {
    const state = new DirectoryState(timing);
    state.apply(report("dead", [here("a"), here("b")]), 0);
    state.apply(report("live", [here("b")]), 0);
    state.apply(report("dead", [], { all: false }), 20_000);
    state.apply(report("live", [here("b")], { all: true }), 50_000);
    expect(state.nextDeadline()).toBe(80_000);
    state.expire(80_000);
    expect(state.status("a")).toMatchObject({ online: false, lastSeen: 20_000, since: 80_000 });
    expect(state.status("b")).toMatchObject({ online: true, channels: [{ channel: "live" }] });
  });

  it("releases the users an `all` report leaves out", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("x"), here("y")]), 0);
    state.apply(report("a", [here("x")], { all: true }), 10_000);
    state.expire(11_000);
    expect(state.status("x").online).toBe(true);
    expect(state.status("y")).toMatchObject({ online: false, lastSeen: 10_000 });
  });

  it("keeps the newest data: a renewal from another channel does not bring an older one back", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ann", 1, {}, { v: 1 })]), 0);
    state.apply(report("b", [here("ann", 1, {}, { v: 1 })]), 0);
    state.apply(report("b", [here("ann", 1, {}, { v: 2 })]), 100);
    state.apply(report("a", [here("ann", 1, {}, { v: 1 })], { all: true }), 200);
    expect(state.status("ann").data).toEqual({ v: 2 });
  });

  it("changes nothing anyone sees on a plain renewal, yet moves the lease on", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("ann", 1, { web: 1 })]), 0);
    state.takeChanges(0);
    state.apply(report("a", [here("ann", 1, { web: 1 })], { all: true }), 30_000);
    const changes = state.takeChanges(30_000)!;
    expect(changes.upserts).toEqual([]);
    expect(changes.leaseUpserts).toEqual([{ channel: "a", expiresAt: 90_000, renewedAt: 30_000 }]);
    expect(state.nextDeadline()).toBe(90_000);
  });

  it("forgets an offline user after retention, counted from when it was last seen", () => {
    const state = new DirectoryState(timing);
    state.apply(report("a", [here("old")]), 0);
    state.apply(report("a", [gone("old", 100)]), 100);
    state.expire(1_100);
    expect(state.status("old").online).toBe(false);
    expect(state.takeChanges(1_100)?.upserts.map((u) => u.id)).toEqual(["old"]);
    state.expire(100 + timing.retentionMs - 1);
    expect(state.status("old").lastSeen).toBe(100);
    state.expire(100 + timing.retentionMs);
    expect(state.status("old")).toEqual({ id: "old", online: false, lastSeen: null });
    expect(state.takeChanges(100 + timing.retentionMs)?.deletes).toEqual(["old"]);
  });

  it("tells the rooms that watch a user of each change, with growing versions, and stops when they stop", () => {
    const state = new DirectoryState(timing);
    state.apply(report("watching-room", [], { watch: ["ann", "bob"] }), 0);
    state.takeChanges(0);
    state.apply(report("a", [here("ann")]), 10);
    const first = state.takeChanges(10)!.watched.get("watching-room")!;
    expect(first.map((e) => [e.status.id, e.status.online])).toEqual([["ann", true]]);
    state.apply(report("a", [gone("ann", 20)]), 20);
    state.expire(2_000);
    const second = state.takeChanges(2_000)!.watched.get("watching-room")!;
    expect(second.map((e) => [e.status.id, e.status.online])).toEqual([["ann", false]]);
    expect(second[0]!.version).toBeGreaterThan(first[0]!.version);
    state.apply(report("watching-room", [], { watch: [] }), 3_000);
    state.apply(report("a", [here("ann")]), 3_000);
    expect(state.takeChanges(3_000)!.watched.size).toBe(0);
  });

  it("drops a watch list that is not renewed within the lease", () => {
    const state = new DirectoryState(timing);
    state.apply(report("w", [], { watch: ["ann"] }), 0);
    state.expire(60_000);
    state.apply(report("a", [here("ann")]), 60_001);
    expect(state.takeChanges(60_001)!.watched.size).toBe(0);
  });

  it("restores from its rows, and does not trust a presence whose channel lease row is missing", () => {
    const first = new DirectoryState(timing);
    first.apply(report("a", [here("ann", 1, { web: 1 }, { n: 1 })]), 0);
    first.apply(report("b", [here("bob")]), 0);
    first.apply(report("w", [], { watch: ["ann"] }), 0);
    const changes = first.takeChanges(0)!;
    const rows = { users: changes.upserts, leases: changes.leaseUpserts.filter((l) => l.channel !== "b"), watches: changes.watchUpserts };
    const again = DirectoryState.restore(timing, rows);
    expect(again.status("ann")).toEqual(first.status("ann"));
    again.expire(1);
    expect(again.status("bob").online).toBe(true); // in grace, with no channel left
    expect(again.status("bob").channels).toEqual([]);
    again.expire(2_000);
    expect(again.status("bob").online).toBe(false);
    again.apply(report("a", [gone("ann", 5)]), 5);
    expect(again.takeChanges(5)!.watched.get("w")?.map((e) => e.status.id)).toEqual(["ann"]);
  });
});
