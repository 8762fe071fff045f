/** The channel index's table and the room's index reporter: leases, coalescing, removal, search and order. */
import { describe, expect, it } from "vitest";
import { Outbox } from "../../party/channel/effects.ts";
import { IndexReporter, type IndexSnapshot } from "../../party/channel/index-reporter.ts";
import { ChannelTable } from "../../party/index/table.ts";
import type { IndexReport } from "../../party/protocol/index.ts";

const report = (channel: string, userAmount: number, clientAmount = userAmount, members = userAmount): IndexReport => ({
  active: userAmount > 0 || clientAmount > 0,
  entry: { channel, userAmount, clientAmount, members, mode: "full", updatedAt: 0 },
});

describe("ChannelTable", () => {
  it("holds active channels for a lease, sorted by members, searchable", () => {
    const table = new ChannelTable();
    table.apply(report("lobby", 2), 0, 1000);
    table.apply(report("big-room", 9), 0, 1000);
    table.apply(report("Big-Tiny", 1), 0, 1000);
    expect(table.all().map((e) => e.channel)).toEqual(["big-room", "lobby", "Big-Tiny"]);
    expect(table.list("big", 10)).toMatchObject({ total: 2, channels: [{ channel: "big-room" }, { channel: "Big-Tiny" }] });
    expect(table.list("", 1).channels.map((e) => e.channel)).toEqual(["big-room"]);
    expect(table.nextExpiry()).toBe(1000);
    // A renewal moves the lease; lapsed leases drop out.
    table.apply(report("lobby", 2), 800, 1000);
    expect(table.expire(1000).sort()).toEqual(["Big-Tiny", "big-room"]);
    expect(table.all().map((e) => e.channel)).toEqual(["lobby"]);
    expect(table.nextExpiry()).toBe(1800);
  });

  it("reports changes once, a renewal with the same counts is no change, and an inactive report removes", () => {
    const table = new ChannelTable();
    expect(table.apply(report("a", 1), 0, 1000)).toMatchObject({ entry: { channel: "a", updatedAt: 0 }, expiresAt: 1000 });
    expect(table.take()).toMatchObject({ channels: [{ channel: "a", userAmount: 1 }], removed: [] });
    expect(table.take()).toBeNull();
    table.apply(report("a", 1), 500, 1000);
    expect(table.take()).toBeNull();
    table.apply(report("a", 3), 600, 1000);
    expect(table.take()).toMatchObject({ channels: [{ channel: "a", userAmount: 3 }] });
    expect(table.apply(report("a", 0), 700, 1000)).toBeNull();
    expect(table.take()).toEqual({ channels: [], removed: ["a"] });
    // Removing what is not there changes nothing.
    expect(table.apply(report("a", 0), 800, 1000)).toBeUndefined();
    expect(table.take()).toBeNull();
  });

  it("restores stored entries and expires those that lapsed meanwhile", () => {
    const table = new ChannelTable();
    table.restore([
      { entry: report("old", 1).entry, expiresAt: 100 },
      { entry: report("new", 1).entry, expiresAt: 5000 },
    ]);
    expect(table.expire(1000)).toEqual(["old"]);
    expect(table.size).toBe(1);
  });
});

/**
 * A reporter and a fake index that plays its calls: `answer` answers every report it made
 * (ok, or failing as told), recording each.
 */
function fakeIndex(intervalMs?: number) {
  const out = new Outbox();
  const reporter = new IndexReporter({ channel: "c", leaseMs: 30_000, out, ...(intervalMs === undefined ? {} : { intervalMs }) });
  const posts: IndexReport[] = [];
  const control = { failing: false, ticks: 0 };
  const answer = () => {
    for (let effects = out.take(); effects.length > 0; effects = out.take()) {
      for (const effect of effects) {
        if (effect.kind === "tick") control.ticks++;
        if (effect.kind !== "call") continue;
        posts.push(effect.call.args as IndexReport);
        reporter.replied(effect.ticket, !control.failing, 0);
      }
    }
  };
  return { reporter, posts, control, answer };
}

const snap = (userAmount: number, members = userAmount): IndexSnapshot => ({ userAmount, clientAmount: userAmount, members, mode: "full" });

describe("IndexReporter", () => {
  it("never reports a room nobody used", () => {
    const { reporter, posts, answer } = fakeIndex();
    reporter.note(snap(0), 0);
    reporter.flush(0, true);
    answer();
    expect(posts).toEqual([]);
    expect(reporter.nextDeadline()).toBeNull();
  });

  it("sends the first change at once, coalesces later ones to one per interval, renews every third of the lease, and reports the room empty", () => {
    const { reporter, posts, answer } = fakeIndex(1000);
    reporter.note(snap(1), 0);
    reporter.flush(0, true);
    answer();
    expect(posts.map((p) => p.entry.userAmount)).toEqual([1]);
    for (const [n, at] of [[2, 100], [3, 200], [4, 300]] as const) {
      reporter.note(snap(n), at);
      reporter.flush(at, true);
    }
    answer();
    expect(posts).toHaveLength(1);
    expect(reporter.nextDeadline()).toBe(1000);
    reporter.flush(1000, true);
    answer();
    expect(posts.map((p) => p.entry.userAmount)).toEqual([1, 4]);
    // Nothing changed: the next report is the renewal, a third of the lease after the last.
    reporter.note(snap(4), 5000);
    reporter.flush(5000, true);
    answer();
    expect(posts).toHaveLength(2);
    expect(reporter.nextDeadline()).toBe(11_000);
    reporter.note(snap(4), 11_000);
    reporter.flush(11_000, true);
    answer();
    expect(posts).toHaveLength(3);
    // Empty: one inactive report, then silence.
    reporter.note(snap(0, 3), 12_500);
    reporter.flush(12_500, true);
    answer();
    expect(posts[3]).toMatchObject({ active: false, entry: { channel: "c", userAmount: 0, members: 3 } });
    reporter.note(snap(0, 3), 60_000);
    reporter.flush(60_000, true);
    answer();
    expect(posts).toHaveLength(4);
    expect(reporter.nextDeadline()).toBeNull();
  });

  it("keeps a report that failed or could not be sent, and sends it (or anything newer) later", () => {
    const { reporter, posts, control, answer } = fakeIndex();
    reporter.note(snap(1), 0);
    reporter.flush(0, false);
    answer();
    expect(posts).toEqual([]);
    expect(reporter.pending).toBe(true);
    control.failing = true;
    reporter.flush(0, true);
    answer();
    expect(control.ticks, "a tick, so the room tries again").toBe(1);
    expect(reporter.pending).toBe(true);
    control.failing = false;
    reporter.note(snap(2), 500);
    reporter.flush(1000, true);
    answer();
    expect(posts.map((p) => p.entry.userAmount)).toEqual([1, 2]);
    expect(reporter.pending).toBe(false);
  });
});
