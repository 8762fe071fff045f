import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ChannelMirror, mirrorDiffOf } from "../../party/channel/mirror.ts";
import { PresenceState, type PresenceTiming } from "../../party/channel/presence.ts";
import type { Member } from "../../party/protocol/index.ts";

const timing: PresenceTiming = { graceMs: 1_000, retentionMs: 4_000, heartbeatTimeoutMs: 1e12 };

const member = (id: string, extra: Partial<Member> = {}): Member => ({ id, data: null, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0, ...extra });
const sorted = (members: Member[]) => [...members].sort((a, b) => (a.id < b.id ? -1 : 1));

describe("ChannelMirror: what a shard may show of its channel", () => {
  it("starts from a copy, then follows the coordinator's diffs in order", () => {
    const mirror = new ChannelMirror();
    mirror.reset({ epoch: 1, seq: 4, mode: "full", size: 2, clientAmount: 2, userAmount: 2, members: [member("bob"), member("ann")] });
    expect(mirror.committedWindow(1)).toEqual([member("ann")]);
    const applied = mirror.apply({
      epoch: 1,
      seq: 5,
      mode: "full",
      size: 2,
      clientAmount: 2,
      userAmount: 2,
      events: [
        { action: "leave", member: member("ann"), clientAmount: 1, userAmount: 1 },
        { action: "join", member: member("cat"), clientAmount: 2, userAmount: 2 },
      ],
      quiet: [member("bob", { clients: 2 })],
      out: [],
    });
    expect(applied).toBe(true);
    expect(mirror.seq).toBe(5);
    expect(mirror.committed()).toEqual({ members: [member("bob", { clients: 2 }), member("cat")], counts: { clientAmount: 2, userAmount: 2 } });
    expect(mirror.committedMember("ann")).toBeUndefined();
    expect(mirror.committedWindow(5).map((m) => m.id)).toEqual(["bob", "cat"]);
  });

  it("refuses a diff from another run of the coordinator", () => {
    const mirror = new ChannelMirror();
    mirror.reset({ epoch: 1, seq: 7, mode: "full", size: 0, clientAmount: 0, userAmount: 0, members: [] });
    expect(mirror.apply({ epoch: 2, seq: 8, mode: "full", size: 1, clientAmount: 1, userAmount: 1, events: [], quiet: [member("a")], out: [] })).toBe(false);
    expect(mirror.apply({ epoch: 1, seq: 8, mode: "full", size: 1, clientAmount: 1, userAmount: 1, events: [], quiet: [member("a")], out: [] })).toBe(true);
  });

  it("refuses a diff that does not follow the last one, and changes nothing", () => {
    const mirror = new ChannelMirror();
    mirror.reset({ epoch: 1, seq: 1, mode: "interval", size: 5_000, clientAmount: 1, userAmount: 1, members: [member("ann")] });
    expect(mirror.apply({ epoch: 1, seq: 3, mode: "interval", size: 5_001, clientAmount: 9, userAmount: 9, events: [], quiet: [member("zed")], out: ["ann"] })).toBe(false);
    expect(mirror.committed()).toEqual({ members: [member("ann")], counts: { clientAmount: 1, userAmount: 1 } });
    expect([mirror.seq, mirror.size, mirror.mode]).toEqual([1, 5_000, "interval"]);
  });

  it("drops the members the coordinator says are out of its view", () => {
    const mirror = new ChannelMirror();
    mirror.reset({ epoch: 1, seq: 0, mode: "interval", size: 3, clientAmount: 3, userAmount: 3, members: [member("a"), member("b")] });
    mirror.apply({ epoch: 1, seq: 1, mode: "interval", size: 3, clientAmount: 3, userAmount: 3, events: [], quiet: [], out: ["a"] });
    expect(mirror.committedWindow(100).map((m) => m.id)).toEqual(["b"]);
  });
});

describe("ChannelMirror in full mode, fed by a coordinator's ticks", () => {
  it("holds what the coordinator committed, tick by tick", () => {
    const op = fc.record({ client: fc.nat(5), user: fc.nat(3), kind: fc.constantFrom("connect", "update", "drop", "leave", "tick"), data: fc.nat(2), advance: fc.integer({ min: 1, max: 3_000 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const presence = new PresenceState(timing);
        const mirror = new ChannelMirror();
        mirror.reset({ epoch: 1, seq: 0, mode: "full", size: 0, clientAmount: 0, userAmount: 0, members: [] });
        let now = 0;
        let seq = 0;
        const tick = () => {
          presence.expire(now);
          const diff = presence.takeDiff();
          if (diff) expect(mirror.apply(mirrorDiffOf(diff, { epoch: 1, seq: ++seq, mode: "full", size: presence.size }))).toBe(true);
          const committed = presence.committed();
          expect(sorted(mirror.committed().members)).toEqual(sorted(committed.members));
          expect(mirror.committed().counts).toEqual(committed.counts);
          expect(mirror.size).toBe(presence.size);
        };
        for (const step of ops) {
          const id = `c${step.client}`;
          if (step.kind === "tick") {
            tick();
            now += step.advance;
          } else if (step.kind === "connect") presence.connect({ connectionId: id, userId: `u${step.user}`, data: step.data }, now);
          else if (step.kind === "update") presence.update(id, step.data);
          else if (step.kind === "drop") presence.drop(id, now);
          else presence.leave(id);
        }
        tick();
      }),
      { numRuns: 300 },
    );
  });
});
