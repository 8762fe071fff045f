import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type Effect, Outbox } from "../../party/channel/effects.ts";
import { PresenceState, type PresenceTiming } from "../../party/channel/presence.ts";
import { ShardClients } from "../../party/channel/shard-clients.ts";
import { ShardReporter } from "../../party/channel/shard-reporter.ts";
import type { ChannelShardReport, ShardClientChange } from "../../party/protocol/index.ts";

const LEASE = 30_000;
const timing: PresenceTiming = { graceMs: 1_000, retentionMs: 60_000, heartbeatTimeoutMs: 1e12 };

/** A shard's reporter over an outbox, with the clients it has now (for full reports). */
function shard(number = 1) {
  const out = new Outbox();
  const live = new Map<string, ShardClientChange>();
  const reporter = new ShardReporter({ channel: "stage", shard: number, leaseMs: LEASE, out, live: () => [...live.values()] });
  /** The reports the reporter sent since the last look: ticket and arguments. */
  const sent = (): Array<{ ticket: number; report: ChannelShardReport }> =>
    out
      .take()
      .filter((effect): effect is Extract<Effect, { kind: "call" }> => effect.kind === "call")
      .map((effect) => {
        expect(effect.call).toMatchObject({ party: "main", room: "stage", name: "shard-report" });
        return { ticket: effect.ticket, report: effect.call.args as ChannelShardReport };
      });
  return { reporter, live, sent };
}

describe("ShardReporter: a shard's reports to its coordinator", () => {
  it("starts with a full report, then sends changes in order, one report at a time", () => {
    const { reporter, live, sent } = shard();
    live.set("a", { op: "connect", connectionId: "a", userId: "ann", data: null });
    reporter.flush(0, true);
    const [first] = sent();
    expect(first!.report).toEqual({ shard: 1, full: true, changes: [{ op: "connect", connectionId: "a", userId: "ann", data: null }] });
    reporter.connect("b", "bob", "web", { x: 1 });
    reporter.flush(10, true);
    expect(sent(), "nothing while a report is on its way").toEqual([]);
    reporter.replied(first!.ticket, { full: false });
    reporter.update("b", { x: 2 });
    reporter.drop("a", 5);
    reporter.flush(20, true);
    const [second] = sent();
    expect(second!.report).toEqual({
      shard: 1,
      full: false,
      changes: [
        { op: "connect", connectionId: "b", userId: "bob", clientType: "web", data: { x: 1 } },
        { op: "update", connectionId: "b", data: { x: 2 } },
        { op: "drop", connectionId: "a", lastSeen: 5 },
      ],
    });
  });

  it("renews its lease with an empty report every third of it, and not before", () => {
    const { reporter, sent } = shard();
    reporter.flush(0, true);
    reporter.replied(sent()[0]!.ticket, { full: false });
    expect(reporter.nextDeadline()).toBe(LEASE / 3);
    reporter.flush(LEASE / 3 - 1, true);
    expect(sent()).toEqual([]);
    reporter.flush(LEASE / 3, true);
    expect(sent().map(({ report }) => report)).toEqual([{ shard: 1, full: false, changes: [] }]);
  });

  it("sends a report that failed again, ahead of what came since, and waits while the coordinator cannot be reached", () => {
    const { reporter, sent } = shard();
    reporter.flush(0, true);
    reporter.replied(sent()[0]!.ticket, { full: false });
    reporter.leave("a");
    reporter.flush(1, true);
    const [failed] = sent();
    reporter.end("b", 3);
    reporter.replied(failed!.ticket, null);
    reporter.flush(2, false);
    expect(sent()).toEqual([]);
    reporter.flush(3, true);
    expect(sent()[0]!.report.changes).toEqual([
      { op: "leave", connectionId: "a" },
      { op: "end", connectionId: "b", lastSeen: 3 },
    ]);
  });

  it("sends every client when the coordinator asks (it did not know the shard), its changes first", () => {
    const { reporter, live, sent } = shard();
    reporter.flush(0, true);
    reporter.replied(sent()[0]!.ticket, { full: false });
    reporter.leave("gone");
    reporter.flush(1, true);
    live.set("a", { op: "connect", connectionId: "a", userId: "ann", data: null });
    reporter.replied(sent()[0]!.ticket, { full: true });
    expect(reporter.pending).toBe(true);
    reporter.flush(2, true);
    expect(sent()[0]!.report).toEqual({ shard: 1, full: true, changes: [{ op: "connect", connectionId: "a", userId: "ann", data: null }] });
  });
});

/** What happens to one shard's client: it connects, its data changes, it goes one of three ways. */
type Move = { client: number; op: "connect" | "update" | "drop" | "leave" | "end"; user: number; data: number };
/** How a report's call ends: answered; failed before the coordinator heard it; or heard, with the answer lost. */
type Fate = "answered" | "lost" | "unanswered";
/** A step: a move, a report's call ending, or time passing. */
type Step = { kind: "move"; move: Move } | { kind: "deliver"; fate: Fate } | { kind: "wait"; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      move: fc.record({ client: fc.nat(5), op: fc.constantFrom("connect" as const, "update" as const, "drop" as const, "leave" as const, "end" as const), user: fc.nat(2), data: fc.nat(2) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("deliver" as const), fate: fc.constantFrom<Fate>("answered", "lost", "unanswered") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 400 }) }) },
);

describe("ShardReporter with ShardClients", () => {
  it("brings the coordinator to the shard's clients, whatever fails on the way: none lost, none twice", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const { reporter, live, sent } = shard();
        const presence = new PresenceState(timing);
        const coordinator = new ShardClients(presence, LEASE);
        const inFlight: Array<{ ticket: number; report: ChannelShardReport }> = [];
        let now = 0;
        const deliver = (fate: Fate) => {
          reporter.flush(now, true);
          inFlight.push(...sent());
          const next = inFlight.shift();
          if (!next) return;
          const reply = fate === "lost" ? null : coordinator.apply(next.report, now);
          reporter.replied(next.ticket, fate === "answered" ? reply : null);
        };
        for (const s of steps) {
          if (s.kind === "wait") now += s.ms;
          else if (s.kind === "deliver") deliver(s.fate);
          else {
            const { client, op, user, data } = s.move;
            const id = `c${client}`;
            const here = live.get(id);
            if (op === "connect") {
              if (here) continue;
              live.set(id, { op: "connect", connectionId: id, userId: `u${user}`, data });
              reporter.connect(id, `u${user}`, undefined, data);
            } else if (here?.op === "connect") {
              if (op === "update") {
                live.set(id, { ...here, data });
                reporter.update(id, data);
              } else {
                live.delete(id);
                if (op === "leave") reporter.leave(id);
                else if (op === "drop") reporter.drop(id, now);
                else reporter.end(id, now);
              }
            }
          }
        }
        // Until everything is heard.
        for (let i = 0; i < 10 && (reporter.pending || inFlight.length > 0); i++) deliver("answered");
        expect(reporter.pending).toBe(false);
        const held = [...live.values()]
          .map((change) => (change.op === "connect" ? { id: change.connectionId, user: change.userId, data: change.data } : null))
          .sort((a, b) => (a!.id < b!.id ? -1 : 1));
        const clients = presence
          .members()
          .filter((member) => member.status === "online")
          .flatMap((member) => presence.clientsOf(member.id).filter((client) => client.live).map((client) => ({ id: client.connectionId, user: member.id, data: member.data })))
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(clients.map(({ id, user }) => ({ id, user }))).toEqual(held.map((entry) => ({ id: entry!.id, user: entry!.user })));
        // One shard: every client the channel counts (live, or in grace) is that shard's.
        expect(coordinator.shards()[0]?.clients ?? 0).toBe(presence.counts().clientAmount);
      }),
      { numRuns: 300 },
    );
  });
});

/** What a shard's own sockets do: join, change their data, close, leave, get kicked or replaced, or fall silent. */
type LocalStep =
  | { kind: "act"; client: number; op: "connect" | "update" | "drop" | "leave" | "kick" | "replace" | "alive"; user: number; data: number }
  | { kind: "tick"; advance: number };

const localStep: fc.Arbitrary<LocalStep> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("act" as const),
      client: fc.nat(6),
      op: fc.constantFrom("connect" as const, "connect" as const, "update" as const, "drop" as const, "leave" as const, "kick" as const, "replace" as const, "alive" as const),
      user: fc.nat(3),
      data: fc.nat(2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), advance: fc.integer({ min: 1, max: 2_500 }) }) },
);

describe("a shard's own presence, reported to its coordinator", () => {
  it("gives the coordinator the shard's own events and counts, tick by tick", () => {
    fc.assert(
      fc.property(fc.array(localStep, { maxLength: 80 }), (steps) => {
        // A short idle check, so silent sockets are dropped by the shard's own expiry too.
        const settings: PresenceTiming = { graceMs: 1_000, retentionMs: 5_000, heartbeatTimeoutMs: 3_000 };
        const out = new Outbox();
        const reporter = new ShardReporter({ channel: "stage", shard: 1, leaseMs: 1e9, out, live: () => [] });
        const own = new PresenceState(settings, reporter);
        const presence = new PresenceState({ ...settings, heartbeatTimeoutMs: 1e12 });
        const coordinator = new ShardClients(presence, 1e9);
        let now = 0;
        const tick = () => {
          own.expire(now);
          reporter.flush(now, true);
          for (const effect of out.take()) {
            if (effect.kind !== "call") continue;
            reporter.replied(effect.ticket, coordinator.apply(effect.call.args as ChannelShardReport, now));
          }
          presence.expire(now);
          expect(presence.takeDiff()).toEqual(own.takeDiff());
          expect(presence.counts()).toEqual(own.counts());
        };
        for (const s of steps) {
          if (s.kind === "tick") {
            tick();
            now += s.advance;
            continue;
          }
          const id = `c${s.client}`;
          if (s.op === "connect") own.connect({ connectionId: id, userId: `u${s.user}`, data: s.data, clientType: s.data === 0 ? undefined : `t${s.data}` }, now);
          else if (s.op === "update") own.update(id, s.data);
          else if (s.op === "drop") own.drop(id, now, Math.max(0, now - s.data));
          else if (s.op === "leave") own.leave(id);
          else if (s.op === "kick") own.kick(id, now);
          else if (s.op === "replace") own.replace(id, now);
          else own.alive(id, now);
        }
        tick();
      }),
      { numRuns: 400 },
    );
  });
});

describe("ShardReporter's deadline", () => {
  it("keeps the renewal due while a report is on its way, so a room that sleeps until then still renews", () => {
    const { reporter, sent } = shard();
    expect(reporter.nextDeadline()).toBe(0);
    reporter.flush(1_000, true);
    const [first] = sent();
    expect(reporter.nextDeadline()).toBe(1_000 + LEASE / 3);
    reporter.connect("a", "ann", undefined, null);
    expect(reporter.nextDeadline(), "the answer asks for a tick; until then the renewal stands").toBe(1_000 + LEASE / 3);
    reporter.replied(first!.ticket, { full: false });
    expect(reporter.nextDeadline()).toBe(0);
  });
});
