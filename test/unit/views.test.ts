/**
 * Interval mode's pure parts: when a channel crosses the threshold, how windows move over a
 * tick, and what each view hears of a tick's changes. Checked against a model: a client that
 * applies what its view hears holds exactly its view of the channel.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PresenceState } from "../../party/channel/presence.ts";
import { SortedIds } from "../../party/channel/sorted-ids.ts";
import { modeFor, NOBODY, type Personal, TickChanges, viewBody, WindowBook, windowAloneServes } from "../../party/channel/views.ts";
import type { Member } from "../../party/protocol/index.ts";
import { member } from "../support/messages.ts";

const timing = { graceMs: 1000, retentionMs: 60_000, heartbeatTimeoutMs: 30_000 };
const people = (ids: string[]): Personal => new Set(ids);

describe("modeFor", () => {
  it("goes to interval mode past the threshold and back only at 90% of it", () => {
    expect(modeFor("full", 1000, 1000)).toBe("full");
    expect(modeFor("full", 1001, 1000)).toBe("interval");
    expect(modeFor("interval", 1000, 1000)).toBe("interval");
    expect(modeFor("interval", 901, 1000)).toBe("interval");
    expect(modeFor("interval", 900, 1000)).toBe("full");
    // Between the two lines a channel stays where it is.
    expect(modeFor("full", 950, 1000)).toBe("full");
  });

  it("keeps a gap of at least one member for small thresholds", () => {
    expect(modeFor("full", 4, 3)).toBe("interval");
    expect(modeFor("interval", 3, 3)).toBe("interval");
    expect(modeFor("interval", 2, 3)).toBe("full");
    expect(modeFor("interval", 0, 1)).toBe("full");
  });
});

describe("SortedIds", () => {
  it("keeps ids in string order through adds and deletes, and pages after a cursor", () => {
    const ids = new SortedIds();
    for (const id of ["m", "b", "x", "a", "m", "c"]) ids.add(id);
    ids.delete("x");
    ids.delete("nope");
    expect([...ids.after(null)]).toEqual(["a", "b", "c", "m"]);
    expect([...ids.after("b")]).toEqual(["c", "m"]);
    // A cursor that is no longer there still pages from where it was.
    expect([...ids.after("bb")]).toEqual(["c", "m"]);
    expect(ids.size).toBe(4);
  });

  it("agrees with sorting, whatever the order of adds and deletes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 4 }))), (ops) => {
        const ids = new SortedIds();
        const model = new Set<string>();
        for (const [add, id] of ops) {
          if (add) (ids.add(id), model.add(id));
          else (ids.delete(id), model.delete(id));
        }
        expect([...ids.after(null)]).toEqual([...model].sort());
      }),
    );
  });
});

describe("PresenceState.committedWindow", () => {
  it("is the first members by userId as clients hold them: without the open tick's joins, with its leaves", () => {
    const state = new PresenceState(timing);
    for (const id of ["d", "b", "f"]) state.connect({ connectionId: id, userId: id, data: null }, 0);
    state.takeDiff();
    state.connect({ connectionId: "a", userId: "a", data: null }, 1);
    state.leave("b");
    expect(state.committedWindow(2).map((m) => m.id)).toEqual(["b", "d"]);
    state.takeDiff();
    expect(state.committedWindow(2).map((m) => m.id)).toEqual(["a", "d"]);
    expect(state.committedWindow(0)).toEqual([]);
    expect(state.committedWindow(10).map((m) => m.id)).toEqual(["a", "d", "f"]);
  });
});

describe("WindowBook", () => {
  it("fixes a window at its first use and moves it each tick; unused windows are forgotten", () => {
    const book = new WindowBook();
    let channel = ["a", "c", "e"];
    const committed = (limit: number) => channel.slice(0, limit).map((id) => member(id));
    expect(book.ids(2, committed)).toEqual(["a", "c"]);
    channel = ["a", "b", "c", "e"];
    // Until a tick the window stays as clients hold it.
    expect(book.ids(2, committed)).toEqual(["a", "c"]);
    const steps = book.advance(new Set([2, 3]), committed);
    expect(steps.get(2)).toEqual({ before: new Set(["a", "c"]), after: new Set(["a", "b"]) });
    // A window nobody held before the tick starts empty.
    expect(steps.get(3)).toEqual({ before: new Set(), after: new Set(["a", "b", "c"]) });
    book.advance(new Set([3]), committed);
    expect(book.ids(2, () => [member("z")])).toEqual(["z"]);
  });
});

describe("viewBody", () => {
  const now = (id: string) => member(id, { data: { now: true } });
  const event = (action: "join" | "online" | "offline" | "update" | "leave", id: string) => ({ action, member: member(id) });
  const said = (body: ReturnType<typeof viewBody>) => ({
    events: body.events.map((e) => `${e.action}:${e.member.id}`),
    quiet: body.quiet.map((m) => m.id),
    out: body.out ?? [],
  });

  it("passes on the events of members in view and of a member that joined into it", () => {
    const changes = new TickChanges({ events: [event("update", "b"), event("join", "a"), event("update", "z")], quiet: [] });
    const step = { before: new Set(["b", "c"]), after: new Set(["a", "b"]) };
    expect(said(viewBody(NOBODY, step, changes, now))).toEqual({ events: ["update:b", "join:a"], quiet: [], out: ["c"] });
  });

  it("brings a member that came into view without joining as a quiet record, never as a join", () => {
    const changes = new TickChanges({ events: [event("leave", "a"), event("update", "c")], quiet: [] });
    const step = { before: new Set(["a", "b"]), after: new Set(["b", "c"]) };
    const body = viewBody(NOBODY, step, changes, now);
    expect(said(body)).toEqual({ events: ["leave:a"], quiet: ["c"], out: [] });
    expect(body.quiet[0]!.data).toEqual({ now: true });
  });

  it("brings a member that moved into the window unchanged as a quiet record, and names one that moved out", () => {
    const changes = new TickChanges({ events: [event("join", "a")], quiet: [] });
    const step = { before: new Set(["b", "c"]), after: new Set(["a", "b"]) };
    expect(said(viewBody(NOBODY, step, changes, now))).toEqual({ events: ["join:a"], quiet: [], out: ["c"] });
    const bigger = { before: new Set(["b"]), after: new Set(["b", "c"]) };
    expect(said(viewBody(NOBODY, bigger, new TickChanges({ events: [], quiet: [] }), now))).toEqual({ events: [], quiet: ["c"], out: [] });
  });

  it("keeps a socket's own users in view wherever they are in the window", () => {
    const changes = new TickChanges({ events: [event("update", "me"), event("join", "a")], quiet: [member("pal")] });
    const step = { before: new Set(["b", "me"]), after: new Set(["a", "b"]) };
    expect(said(viewBody(people(["me", "pal"]), step, changes, now))).toEqual({ events: ["update:me", "join:a"], quiet: ["pal"], out: [] });
    expect(windowAloneServes(people(["me"]), step, changes)).toBe(false);
    expect(windowAloneServes(people(["b"]), step, new TickChanges({ events: [], quiet: [] }))).toBe(true);
    expect(windowAloneServes(NOBODY, step, changes)).toBe(true);
  });

  it("hears a storm's changes in the tick's order when its view is smaller than the tick, as when it walks the whole tick", () => {
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const actions = ["join", "online", "offline", "update", "leave"] as const;
    const setOf = fc.uniqueArray(fc.constantFrom(...ids), { maxLength: 4 }).map((list) => new Set(list));
    const tick = fc.array(fc.tuple(fc.constantFrom(...actions), fc.constantFrom(...ids, "x1", "x2", "x3", "x4", "x5", "x6")), { maxLength: 30 });
    fc.assert(
      fc.property(setOf, setOf, setOf, tick, fc.uniqueArray(fc.constantFrom(...ids, "x1"), { maxLength: 3 }), (mine, before, after, events, quiet) => {
        const changes = new TickChanges({ events: events.map(([action, id]) => event(action, id)), quiet: quiet.map((id) => member(id)) });
        const step = { before, after };
        // A view that says it is huge walks every change of the tick: the reference.
        const walksTheTick: Personal = { size: Number.POSITIVE_INFINITY, has: (id) => mine.has(id), [Symbol.iterator]: () => mine[Symbol.iterator]() };
        expect(said(viewBody(mine, step, changes, now))).toEqual(said(viewBody(walksTheTick, step, changes, now)));
      }),
      { numRuns: 500 },
    );
    // Its window's member that changed after a storm of others is heard in the tick's order.
    const storm = new TickChanges({ events: [...Array.from({ length: 50 }, (_, i) => event("join", `x${i}`)), event("update", "b"), event("update", "a")], quiet: [] });
    expect(said(viewBody(NOBODY, { before: new Set(["a", "b"]), after: new Set(["a", "b"]) }, storm, now))).toEqual({ events: ["update:b", "update:a"], quiet: [], out: [] });
  });

  it("leaves a view with nothing to hear empty", () => {
    const changes = new TickChanges({ events: [event("join", "y")], quiet: [member("z")] });
    const step = { before: new Set(["a"]), after: new Set(["a"]) };
    expect(said(viewBody(people(["me"]), step, changes, now))).toEqual({ events: [], quiet: [], out: [] });
  });

  /** A channel of ids with versions; each tick some join, leave or change. */
  it("keeps a client's list equal to its view through random ticks", () => {
    const op = fc.tuple(fc.constantFrom("join", "leave", "update", "quiet"), fc.integer({ min: 0, max: 11 }));
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 6 }), { maxLength: 12 }), fc.integer({ min: 0, max: 5 }), fc.subarray(["u3", "u7", "u10"]), (ticks, limit, mine) => {
        const channel = new Map<string, Member>();
        let version = 0;
        const window = (n: number) => [...channel.keys()].sort().slice(0, n).map((id) => channel.get(id)!);
        const book = new WindowBook();
        const personal = people(mine);
        // The view by its definition, not by the book: the client's own users that are here, and the first `limit` members by userId.
        const view = () => {
          const ids = new Set([...mine.filter((id) => channel.has(id)), ...window(limit).map((m) => m.id)]);
          return new Map([...ids].map((id) => [id, channel.get(id)!]));
        };
        const held = view();
        for (const tick of ticks) {
          const events: Array<{ action: "join" | "leave" | "update"; member: Member }> = [];
          const quiet: Member[] = [];
          const touched = new Set<string>();
          for (const [action, n] of tick) {
            const id = `u${n}`;
            if (touched.has(id)) continue;
            touched.add(id);
            const before = channel.get(id);
            if (action === "join" && !before) channel.set(id, member(id, { data: ++version }));
            else if (action === "leave" && before) channel.delete(id);
            else if (action === "update" && before) channel.set(id, { ...before, data: ++version });
            else if (action === "quiet" && before) channel.set(id, { ...before, clients: before.clients + 1 });
            else continue;
            const after = channel.get(id);
            if (action === "quiet") quiet.push(after!);
            else events.push({ action, member: after ?? before! });
          }
          const changes = new TickChanges({ events, quiet });
          const step = book.advance(new Set([limit]), window).get(limit)!;
          const body = viewBody(personal, step, changes, (id) => channel.get(id));
          for (const m of body.quiet) held.set(m.id, m);
          for (const e of body.events) {
            if (e.action === "leave") held.delete(e.member.id);
            else held.set(e.member.id, e.member);
          }
          for (const id of body.out ?? []) held.delete(id);
          expect(held).toEqual(view());
        }
      }),
      { numRuns: 300 },
    );
  });
});
