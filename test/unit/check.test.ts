/**
 * The zod-free checker with the generated schema data agrees with zod itself: the same
 * values pass and fail, and a failure names the field (in zod's words where the schema has them).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { check } from "../../party/wire/check.ts";
import * as protocol from "../../party/protocol/index.ts";
import { USER_ID_RULE } from "../../party/protocol/index.ts";
import * as generated from "../../party/wire/schemas.generated.ts";

const member = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  data: { name: id, tags: ["a", 1, null] },
  status: "online",
  clients: 2,
  clientTypes: { web: 1, app: 1 },
  since: 1,
  lastSeen: 2,
  ...over,
});

/** Valid instances of each generated root, to mutate. */
const VALID: Record<keyof typeof protocol & string, unknown[]> = {
  ChannelName: ["room-1", "a", "org:team.room_2@x"],
  UserId: ["Jack", "émile 😀"],
  PushId: ["order-42", "p-1:a.b"],
  WebhookPayload: [
    {
      type: "presence.events",
      timestamp: "2026-11-23T20:00:00.000Z",
      data: { channel: "room", events: [{ type: "join", channel: "room", seq: 3, member: member("a"), clientAmount: 2, userAmount: 1 }] },
    },
    {
      type: "presence.events",
      timestamp: "2026-11-23T20:00:00.000Z",
      data: {
        channel: "room",
        events: [
          { type: "channel.occupied", channel: "room", seq: 1, clientAmount: 1, userAmount: 1 },
          { type: "join", channel: "room", seq: 1, member: member("b"), clientAmount: 1, userAmount: 1 },
        ],
      },
    },
    {
      type: "user.events",
      timestamp: "2026-11-23T20:00:00.000Z",
      data: { part: "p0", events: [{ type: "user.offline", userId: "a", at: 5, status: { id: "a", online: false, since: 5, lastSeen: 4, data: null, channels: [] } }] },
    },
  ],
  ConnectQuery: [{}, { userId: "Jack", userData: "{}", clientType: "web", _pk: "abc-1" }],
  ServerMessage: [
    {
      type: "sync",
      channel: "room",
      seq: 0,
      more: false,
      self: { connectionId: "c1", userId: null },
      mode: "full",
      members: [["a", { name: "a" }], ["b", null, 3, { o: 1, l: 4 }], ["c", [1], 0, { t: "web" }], ["d", 1, 2, { c: 3, t: { web: 2 } }]],
      settings: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000, graceMs: 500, retentionMs: 60_000 },
      now: 5,
      clientAmount: 2,
      userAmount: 1,
    },
    { type: "diff", seq: 3, now: 9, clientAmount: 1, userAmount: 1, join: [["a", null]], offline: [["c", 1, 0, { o: 1, l: 5 }]], leave: ["d"], quiet: [["b", { x: 1 }, 12]] },
    { type: "sync", channel: "room", seq: 4, more: true, self: { connectionId: "c1", userId: "a" }, mode: "interval", window: 20, members: [], settings: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000, graceMs: 500, retentionMs: 60_000 }, now: 5, clientAmount: 2, userAmount: 1 },
    { type: "diff", seq: 5, now: 9, clientAmount: 1, userAmount: 1, update: [["a", 2]], out: ["e", "f"] },
    { type: "herenow", id: "7", result: { channel: "room", clientAmount: 1, userAmount: 1, clientTypes: { web: 1 }, users: [{ id: "a", data: null, clientType: "web" }] } },
    { type: "pong", now: 1 },
    { type: "left" },
    { type: "error", code: "rate_limited", message: "slow down" },
    { type: "push", id: "p-1", data: { hi: 1 }, channel: "room", from: null },
    { type: "pushed", result: { id: "p-1", clients: 2, acked: [{ channel: "room", connectionId: "c1", clientType: "web" }], unacked: [{ channel: "room", connectionId: "c2", reason: "rejected", error: "boom" }] } },
    {
      type: "users",
      seq: 1,
      full: true,
      users: [
        { id: "a", online: true, since: 1, lastSeen: 1, data: null, channels: [{ channel: "room", clientAmount: 2, clientTypes: { web: 2 } }] },
        { id: "b", online: false, lastSeen: null },
      ],
    },
  ],
  HereNowResponse: [{ code: 200, content: { channels: { room: { channel: "room", clientAmount: 0, userAmount: 0, clientTypes: {} } } } }],
  ErrorResponse: [{ code: 404, error: "not_found", message: "no route" }],
  StatsResponse: [
    {
      code: 200,
      content: {
        channel: "room",
        clientAmount: 0,
        userAmount: 0,
        members: 0,
        mode: "full",
        sockets: 1,
        httpClients: 0,
        starts: 1,
        historyEvents: 3,
        shards: [{ shard: 0, clientAmount: 0 }],
        refusedConnections: {},
        refusedRequests: { unauthorized: 1 },
        rejectedMessages: { bad_message: 2 },
        replacedClients: {},
        webhooks: { enabled: true, pending: 1, deadLetters: 0, delivered: 3, failedAttempts: 1, disabled: false, lastError: "the endpoint answered 500" },
        closes: {},
        events: { join: 2, offline: 1 },
        pushes: { delivered: 1, acked: 1 },
        webhookDeliveries: { delivered: 3, failed: 1 },
      },
    },
  ],
  HistoryResponse: [
    {
      code: 200,
      content: {
        channel: "room",
        events: [
          { action: "join", member: { id: "a", data: { n: 1 }, status: "online", clients: 1, clientTypes: { web: 1 }, since: 5, lastSeen: 5 }, clientAmount: 1, userAmount: 1, seq: 1, at: 5 },
          { action: "leave", member: { id: "a", data: null, status: "online", clients: 0, clientTypes: {}, since: 5, lastSeen: 5 }, clientAmount: 0, userAmount: 0, seq: 2, at: 9 },
        ],
        cursor: "2",
      },
    },
    { code: 200, content: { channel: "room", events: [] } },
  ],
  UsersResponse: [{ code: 200, content: { users: { a: { id: "a", online: false, since: 5, lastSeen: 3, data: { n: 1 }, channels: [] }, b: { id: "b", online: false, lastSeen: null } } } }],
  PushResponse: [{ code: 200, content: { id: "x", clients: 0, acked: [], unacked: [], failedChannels: [{ channel: "a", error: "down" }] } }],
  HttpClientResponse: [
    {
      code: 200,
      content: { clientId: "claw-7", userId: "machine-7", clientType: "device", expiresAt: 1_700_000_030_000, pushes: [{ id: "p-1", data: { coins: 1 }, channel: "room", from: null }], clientAmount: 1, userAmount: 1 },
    },
  ],
  HttpClientBatchResponse: [
    {
      code: 200,
      content: {
        clients: [
          { clientId: "a", userId: "u", clientType: "device", expiresAt: 5, pushes: [{ id: "p-2", data: { text: "hello", n: [1, 2] }, channel: "room", from: "ops" }] },
          { clientId: "b", error: "conflict", message: "client b belongs to another user" },
        ],
        clientAmount: 1,
        userAmount: 1,
      },
    },
    { code: 200, content: { clients: [{ clientId: "c", userId: "v", clientType: "bot", expiresAt: 9, pushes: [] }], clientAmount: 2, userAmount: 1 } },
  ],
  DisconnectResponse: [
    {
      code: 200,
      content: {
        userId: "mallory",
        clients: 3,
        channels: [
          { channel: "a", clients: [{ connectionId: "c1", clientType: "web" }, { connectionId: "http/d1", clientType: "device" }] },
          { channel: "b", clients: [{ connectionId: "c2" }] },
        ],
        failedChannels: [{ channel: "c", error: "down" }],
      },
    },
    { code: 200, content: { userId: "nobody", clients: 0, channels: [] } },
    { code: 200, content: { userId: "mallory", clients: 0, channels: [], bannedUntil: 1_700_000_060_000 } },
  ],
  BanStatusResponse: [
    { code: 200, content: { userId: "mallory", banned: true, ban: { userId: "mallory", until: 1_700_000_060_000, reason: "spam", bannedAt: 1_700_000_000_000 } } },
    { code: 200, content: { userId: "alice", banned: false } },
  ],
  BanLiftedResponse: [{ code: 200, content: { userId: "mallory", lifted: true } }],
  HttpClientRemovedResponse: [{ code: 200, content: { clientId: "claw-7", removed: true, clientAmount: 0, userAmount: 0 } }],
  HttpClientListResponse: [
    { code: 200, content: { clients: [{ clientId: "a", userId: "u", clientType: "device", ttlMs: 30_000, renewedAt: 1, expiresAt: 30_001, pushes: 0 }], cursor: "a" } },
  ],
  TokenClaims: [
    { sub: "Jack", data: { name: "Jack" }, channels: ["room-*", "lobby"], clientType: "web", dataWritable: false },
    { observer: true, channels: ["*"] },
    {},
  ],
} as never;

const ROOTS = Object.keys(VALID) as Array<keyof typeof VALID>;

/** Replaces the value at one path of a JSON value (or deletes the key) and returns the copy. */
function mutate(value: unknown, steps: number[], replacement: unknown, remove: boolean): unknown {
  if (steps.length === 0 || typeof value !== "object" || value === null) return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
  const keys = Object.keys(copy);
  if (keys.length === 0) return replacement;
  const key = keys[steps[0]! % keys.length]!;
  if (steps.length === 1 && remove && !Array.isArray(copy)) delete copy[key];
  else (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], steps.slice(1), replacement, remove);
  return copy;
}

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom("", "x".repeat(129), "a b", -1, 0, 1.5, 2 ** 53, "online", "join", "web", "rate_limited", {}, [], null),
);

describe("check with the generated schemas agrees with zod", () => {
  for (const name of ROOTS) {
    const zodSchema = (protocol as unknown as Record<string, z.ZodType>)[name]!;
    const data = (generated as Record<string, unknown>)[`${name}Schema`] as Parameters<typeof check>[0];
    const defs = (generated as Record<string, unknown>)[`${name}Defs`] as Parameters<typeof check>[2];

    it(`${name}: the valid samples pass both`, () => {
      for (const value of VALID[name]) {
        expect(zodSchema.safeParse(value).success, JSON.stringify(value)).toBe(true);
        expect(check(data, value, defs), JSON.stringify(value)).toBeNull();
      }
    });

    it(`${name}: any mutation of a valid sample passes or fails both alike`, () => {
      const outcomes = { pass: 0, fail: 0 };
      fc.assert(
        fc.property(
          fc.constantFrom(...VALID[name]),
          fc.array(fc.nat(), { minLength: 0, maxLength: 5 }),
          anyJson,
          fc.boolean(),
          (base, steps, replacement, remove) => {
            const value = mutate(base, steps, replacement, remove);
            const byZod = zodSchema.safeParse(value).success;
            const problem = check(data, value, defs);
            expect(problem === null, `${JSON.stringify(value)}: zod ${byZod}, check ${problem}`).toBe(byZod);
            outcomes[byZod ? "pass" : "fail"]++;
          },
        ),
        { numRuns: 1500, seed: 42 },
      );
      // Both sides of the rule were exercised, not only one.
      expect(outcomes.pass).toBeGreaterThan(20);
      expect(outcomes.fail).toBeGreaterThan(20);
    });
  }
});

describe("check counts and matches strings as zod does", () => {
  it("counts a string's length in characters (code points), not UTF-16 units, on both sides of each limit", () => {
    const userId = (value: unknown) => check(generated.UserIdSchema, value, generated.UserIdDefs);
    const herenowId = (value: unknown) => check(generated.ServerMessageSchema, { type: "herenow", id: value, result: { channel: "c", clientAmount: 0, userAmount: 0, clientTypes: {} } }, generated.ServerMessageDefs);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 0, maxLength: 140 }), fc.constantFrom("😀", "a", "用", "👩‍👩‍👧"), fc.nat(140), (text, unit, n) => {
        for (const value of [text, unit.repeat(n)]) {
          expect(userId(value) === null, JSON.stringify(value)).toBe(protocol.UserId.safeParse(value).success);
          expect(herenowId(value) === null, JSON.stringify(value)).toBe(protocol.ServerMessage.safeParse({ type: "herenow", id: value, result: { channel: "c", clientAmount: 0, userAmount: 0, clientTypes: {} } }).success);
        }
      }),
      { numRuns: 500, seed: 42 },
    );
    expect(userId("😀".repeat(128))).toBeNull();
    expect(userId("😀".repeat(129))).toBe("userId is longer than 128 characters");
  });

  it("reads a userId's pattern as zod does: unpaired surrogates and the forbidden characters refused, pairs allowed", () => {
    const userId = (value: unknown) => check(generated.UserIdSchema, value, generated.UserIdDefs);
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom("\ud800", "\udfff", "\u0000", "\u0085", "\u2028", "\u202e", "\u2067"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 20 }), (value) => {
        expect(userId(value) === null, JSON.stringify(value)).toBe(protocol.UserId.safeParse(value).success);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe("check says what is wrong", () => {
  const say = (name: keyof typeof VALID, value: unknown) =>
    check((generated as Record<string, unknown>)[`${name}Schema`] as Parameters<typeof check>[0], value, (generated as Record<string, unknown>)[`${name}Defs`] as Parameters<typeof check>[2]);

  it.each<[string, keyof typeof VALID, unknown, string]>([
    ["an empty channel name, in zod's words", "ChannelName", "", "channel name is empty"],
    ["a channel name with a space", "ChannelName", "a b", "channel name may only hold letters, digits and _-.:@"],
    ["a long userId", "ConnectQuery", { userId: "u".repeat(129) }, "userId is longer than 128 characters"],
    ["a userId of 129 emoji (characters, not UTF-16 units, are counted)", "ConnectQuery", { userId: "😀".repeat(129) }, "userId is longer than 128 characters"],
    ["a userId with a NUL", "ConnectQuery", { userId: "a\u0000" }, USER_ID_RULE],
    ["a clientType with a slash", "ConnectQuery", { userId: "a", clientType: "a/b" }, "clientType may only hold letters, digits and _-."],
    ["a missing field, by its path", "ServerMessage", { type: "error", code: "internal" }, "message is missing"],
    ["a nested field, by its path", "ServerMessage", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, quiet: [["a", null, 1, { c: -1 }]] }, "quiet[0][3].c must be at least 0"],
    ["a short member tuple", "ServerMessage", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, join: [["a"]] }, "join[0] must have at least 2 items"],
    ["a long member tuple", "ServerMessage", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, join: [["a", 1, 2, {}, 5]] }, "join[0] must have at most 4 items"],
    ["an unknown message type", "ServerMessage", { type: "nope" }, 'type must be one of "sync", "diff", "herenow", "pong", "left", "error", "push", "pushed", "users"'],
    ["a negative count", "ServerMessage", { type: "diff", seq: 1, now: 1, clientAmount: -1, userAmount: 0 }, "clientAmount must be at least 0"],
  ])("names %s", (_what, name, value, message) => {
    expect(say(name, value)).toBe(message);
  });
});
