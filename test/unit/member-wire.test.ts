/** The compact member wire: what each member costs on the wire, and that reading it back gives the member exactly. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDiffBody, decodeMember, encodeDiffBody, encodeMember } from "../../party/wire/member-wire.ts";
import { type DiffMessage, type Member, ServerMessage, WireMember } from "../../party/protocol/index.ts";
import { member, readMember, writeMember } from "../support/messages.ts";

const NOW = 1_800_000_000_000;

describe("encodeMember", () => {
  it.each<[string, Partial<Member>, unknown]>([
    ["an online member with one untyped client that came online at now", { since: NOW, lastSeen: NOW }, ["a", { n: 1 }]],
    ["one online for 1.5 s", { since: NOW - 1500, lastSeen: NOW - 1500 }, ["a", { n: 1 }, 1500]],
    ["one with one web client", { since: NOW, lastSeen: NOW, clientTypes: { web: 1 } }, ["a", { n: 1 }, 0, { t: "web" }]],
    ["one with three clients, two typed", { since: NOW - 5, lastSeen: NOW - 5, clients: 3, clientTypes: { web: 1, app: 1 } }, ["a", { n: 1 }, 5, { c: 3, t: { web: 1, app: 1 } }]],
    ["one with two web clients", { since: NOW, lastSeen: NOW, clients: 2, clientTypes: { web: 2 } }, ["a", { n: 1 }, 0, { c: 2, t: { web: 2 } }]],
    [
      "an offline member, last seen before its grace ran out",
      { status: "offline", clients: 0, since: NOW - 100, lastSeen: NOW - 5100 },
      ["a", { n: 1 }, 100, { o: 1, l: 5100 }],
    ],
  ])("writes %s as short as it can", (_what, over, wire) => {
    expect(encodeMember(member("a", { data: { n: 1 }, ...over }), NOW)).toEqual(wire);
  });

  const arbitraryMember: fc.Arbitrary<Member> = fc
    .record({
      id: fc.string({ minLength: 1, maxLength: 12 }),
      data: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Member["data"]>,
      status: fc.constantFrom("online" as const, "offline" as const),
      types: fc.dictionary(fc.constantFrom("web", "app", "pc"), fc.integer({ min: 1, max: 3 })),
      untyped: fc.integer({ min: 0, max: 3 }),
      since: fc.integer({ min: NOW - 10_000_000, max: NOW + 50 }),
      seenBefore: fc.integer({ min: 0, max: 100_000 }),
      sameTimes: fc.boolean(),
    })
    .map(({ id, data, status, types, untyped, since, seenBefore, sameTimes }) => {
      const online = status === "online";
      const clientTypes = online ? types : {};
      const typed = Object.values(clientTypes).reduce((n, k) => n + k, 0);
      const clients = online ? Math.max(1, typed + untyped) : 0;
      return { id, data, status, clients, clientTypes, since, lastSeen: sameTimes ? since : since - seenBefore };
    });

  it("reads back every member exactly, and the wire form passes the protocol's schema", () => {
    fc.assert(
      fc.property(arbitraryMember, (m) => {
        const wire = encodeMember(m, NOW);
        expect(WireMember.safeParse(JSON.parse(JSON.stringify(wire))).success).toBe(true);
        // (Through JSON, as on the wire: -0 in the data comes back as 0.)
        expect(decodeMember(JSON.parse(JSON.stringify(wire)), NOW)).toEqual(JSON.parse(JSON.stringify(m)));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with the tests' own reading of the protocol, both ways (test/support/messages.ts)", () => {
    fc.assert(
      fc.property(arbitraryMember, (m) => {
        const asSent = JSON.parse(JSON.stringify(m));
        expect(readMember(JSON.parse(JSON.stringify(encodeMember(m, NOW))), NOW)).toEqual(asSent);
        expect(decodeMember(JSON.parse(JSON.stringify(writeMember(m, NOW))), NOW)).toEqual(asSent);
        expect(encodeMember(m, NOW)).toEqual(writeMember(m, NOW));
      }),
      { numRuns: 500 },
    );
  });
});

describe("diff bodies", () => {
  const a = member("a", { since: NOW, lastSeen: NOW });
  const b = member("b", { since: NOW - 10, lastSeen: NOW - 10, data: { v: 2 } });
  const c = member("c", { status: "offline", clients: 0, since: NOW - 1, lastSeen: NOW - 1001 });

  it("groups events by action, leaves as bare ids, and leaves out empty groups", () => {
    const body = encodeDiffBody({ events: [{ action: "update", member: b }, { action: "join", member: a }, { action: "leave", member: c }], quiet: [] }, NOW);
    expect(body).toEqual({ update: [["b", { v: 2 }, 10]], join: [["a", null]], leave: ["c"] });
  });

  it("reads a diff back in the order to apply it: join, online, update, offline, leave; then quiet and out", () => {
    const body = encodeDiffBody(
      { events: [{ action: "leave", member: c }, { action: "offline", member: c }, { action: "update", member: b }, { action: "join", member: a }], quiet: [b], out: ["z"] },
      NOW,
    );
    const message: DiffMessage = { type: "diff", seq: 1, now: NOW, clientAmount: 1, userAmount: 1, ...body };
    expect(ServerMessage.safeParse(message).success).toBe(true);
    const known = new Map([["c", c]]);
    const decoded = decodeDiffBody(message, (id) => known.get(id));
    expect(decoded.events.map((e) => `${e.action}:${e.member.id}`)).toEqual(["join:a", "update:b", "offline:c", "leave:c"]);
    // A leave is the member as the reader held it, with no clients.
    expect(decoded.events[3]!.member).toEqual({ ...c, clients: 0, clientTypes: {} });
    expect(decoded.quiet).toEqual([b]);
    expect(decoded.out).toEqual(["z"]);
  });

  it("reports a leave of a member the reader never held with null data", () => {
    const message: DiffMessage = { type: "diff", seq: 1, now: NOW, clientAmount: 0, userAmount: 0, leave: ["ghost"] };
    expect(decodeDiffBody(message, () => undefined).events).toEqual([
      { action: "leave", member: { id: "ghost", data: null, status: "online", clients: 0, clientTypes: {}, since: NOW, lastSeen: NOW } },
    ]);
  });

  it("costs a member in a join little more than its id and data", () => {
    const data = { name: "User 123" };
    const minimum = JSON.stringify(["user-00123", data]).length;
    const text = JSON.stringify(encodeDiffBody({ events: [{ action: "join", member: member("user-00123", { data, since: NOW - 12, lastSeen: NOW - 12 }) }], quiet: [] }, NOW).join![0]);
    expect(text.length - minimum).toBeLessThanOrEqual(3);
  });
});
