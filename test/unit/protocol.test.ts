import { describe, expect, it } from "vitest";
import { exceedsDepth, MAX_JSON_DEPTH, userDataProblem, utf8Bytes } from "../../party/wire/json.ts";
import { ClientMessage, ErrorResponse, HereNowChannels, HereNowQuery, HereNowResponse, ServerMessage } from "../../party/protocol/index.ts";

const member = { id: "Jack", data: { age: 18 }, status: "online", clients: 1, clientTypes: { web: 1 }, since: 1, lastSeen: 1 };
const settings = { heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000, graceMs: 5000, retentionMs: 604_800_000 };

describe("ClientMessage", () => {
  it.each<[string, unknown]>([
    ["ping", { type: "ping" }],
    ["update with an object", { type: "update", data: { age: 19 } }],
    ["update with null", { type: "update", data: null }],
    ["update with an array", { type: "update", data: [1, "two", false] }],
    ["leave", { type: "leave" }],
    ["sync", { type: "sync" }],
    ["herenow with an id", { type: "herenow", id: "r1" }],
    ["herenow with flags", { type: "herenow", id: "r1", includeUsers: true, distinct: false }],
    ["herenow with a 64-character id", { type: "herenow", id: "i".repeat(64) }],
  ])("accepts %s", (_what, message) => {
    expect(ClientMessage.safeParse(message).success).toBe(true);
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a string", "ping"],
    ["an array", [{ type: "ping" }]],
    ["no type", {}],
    ["an unknown type", { type: "hello" }],
    ["a numeric type", { type: 1 }],
    ["a type in the wrong case", { type: "PING" }],
    ["update without data", { type: "update" }],
    ["update with undefined data", { type: "update", data: undefined }],
    ["update with NaN data", { type: "update", data: Number.NaN }],
    ["herenow without id", { type: "herenow" }],
    ["herenow with an empty id", { type: "herenow", id: "" }],
    ["herenow with a 65-character id", { type: "herenow", id: "i".repeat(65) }],
    ["herenow with a numeric id", { type: "herenow", id: 7 }],
    ["herenow with a string flag", { type: "herenow", id: "r", includeUsers: "true" }],
    ["herenow with a numeric flag", { type: "herenow", id: "r", distinct: 1 }],
  ])("rejects %s", (_what, message) => {
    expect(ClientMessage.safeParse(message).success).toBe(false);
  });

  it("does not pollute Object.prototype or read a type through __proto__", () => {
    const message = JSON.parse('{"type":"update","data":{"__proto__":{"polluted":true}}}') as unknown;
    ClientMessage.safeParse(message);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(ClientMessage.safeParse(JSON.parse('{"__proto__":{"type":"ping"}}')).success).toBe(false);
  });
});

describe("ServerMessage", () => {
  it.each<[string, unknown]>([
    [
      "a sync",
      {
        type: "sync",
        channel: "room",
        seq: 0,
        more: false,
        self: { connectionId: "c1", userId: "Jack" },
        mode: "full",
        members: [["Jack", { age: 18 }, 4, { t: "web" }]],
        settings,
        now: 5,
        clientAmount: 1,
        userAmount: 1,
      },
    ],
    [
      "an observer's sync",
      {
        type: "sync",
        channel: "room",
        seq: 3,
        more: true,
        self: { connectionId: "c1", userId: null },
        mode: "interval",
        window: 10,
        members: [],
        settings,
        now: 5,
        clientAmount: 0,
        userAmount: 0,
      },
    ],
    [
      "a diff",
      {
        type: "diff",
        seq: 1,
        now: 5,
        clientAmount: 1,
        userAmount: 1,
        join: [["Jack", null]],
      },
    ],
    [
      "a diff with every action",
      {
        type: "diff",
        seq: 9,
        now: 5,
        clientAmount: 0,
        userAmount: 0,
        join: [["a", 1]],
        online: [["b", 2, 1]],
        update: [["c", 3, 2, { c: 2 }]],
        offline: [["d", 4, 0, { o: 1, l: 3 }]],
        leave: ["e"],
        quiet: [["f", null, 7, { o: 1, l: 9 }]],
        out: ["g"],
      },
    ],
    ["a herenow answer", { type: "herenow", id: "r1", result: { channel: "room", clientAmount: 1, userAmount: 1, clientTypes: { web: 1 }, users: [{ id: "Jack", data: null, clientType: "web" }] } }],
    ["a pong", { type: "pong", now: 1 }],
    ["a pong the engine answered (Workers), without the room's clock", { type: "pong" }],
    ["left", { type: "left" }],
    ["an error", { type: "error", code: "rate_limited", message: "slow down" }],
  ])("accepts %s", (_what, message) => {
    expect(ServerMessage.safeParse(message).success).toBe(true);
  });

  it.each<[string, unknown]>([
    ["an unknown type", { type: "hello" }],
    ["a diff with seq 0", { type: "diff", seq: 0, now: 1, clientAmount: 0, userAmount: 0 }],
    ["a diff with negative counts", { type: "diff", seq: 1, now: 1, clientAmount: -1, userAmount: 0 }],
    ["a diff without now", { type: "diff", seq: 1, clientAmount: 0, userAmount: 0 }],
    ["a diff with a member as an object", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, join: [member] }],
    ["a diff with a bad offline flag", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, quiet: [["a", null, 0, { o: 2 }]] }],
    ["a diff with a fractional time", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, quiet: [["a", null, 0.5]] }],
    ["a diff leaving with a member instead of an id", { type: "diff", seq: 1, now: 1, clientAmount: 0, userAmount: 0, leave: [["a", null]] }],
    [
      "a sync with a bad channel name",
      {
        type: "sync",
        channel: "a/b",
        seq: 0,
        more: false,
        self: { connectionId: "c", userId: null },
        mode: "full",
        members: [],
        settings,
        now: 0,
        clientAmount: 0,
        userAmount: 0,
      },
    ],
    ["a sync without members", { type: "sync", channel: "r", seq: 0, more: false, self: { connectionId: "c", userId: null }, mode: "full", settings, now: 0, clientAmount: 0, userAmount: 0 }],
    ["a sync without a mode", { type: "sync", channel: "r", seq: 0, more: false, self: { connectionId: "c", userId: null }, members: [], settings, now: 0, clientAmount: 0, userAmount: 0 }],
    ["a sync in an unknown mode", { type: "sync", channel: "r", seq: 0, more: false, self: { connectionId: "c", userId: null }, mode: "some", members: [], settings, now: 0, clientAmount: 0, userAmount: 0 }],
    ["an error with an unknown code", { type: "error", code: "oops", message: "x" }],
    ["an error without a message", { type: "error", code: "internal" }],
    ["a pong with a clock that is no number", { type: "pong", now: "soon" }],
    ["a herenow answer without a result", { type: "herenow", id: "r1" }],
  ])("rejects %s", (_what, message) => {
    expect(ServerMessage.safeParse(message).success).toBe(false);
  });
});

describe("HTTP schemas", () => {
  it("keeps every field of the brief's herenow response shape, adding only clientTypes", () => {
    const brief = {
      code: 200,
      content: {
        channels: {
          channel_A: {
            channel: "channel_A",
            clientAmount: 2,
            userAmount: 2,
            users: [
              { id: "Jack", data: { age: 18 } },
              { id: "Ted", data: null },
            ],
          },
        },
      },
    };
    const ours = structuredClone(brief) as typeof brief & { content: { channels: { channel_A: { clientTypes?: object } } } };
    ours.content.channels.channel_A.clientTypes = { web: 1, app: 1 };
    expect(HereNowResponse.parse(ours)).toEqual(ours);
    // clientTypes is the one addition our answer requires.
    const problems = HereNowResponse.safeParse(brief).error!.issues.map((issue) => issue.path.join("."));
    expect(problems).toEqual(["content.channels.channel_A.clientTypes"]);
  });

  it("rejects an error envelope whose code is not an error status", () => {
    expect(ErrorResponse.safeParse({ code: 400, error: "bad_request", message: "m" }).success).toBe(true);
    expect(ErrorResponse.safeParse({ code: 200, error: "bad_request", message: "m" }).success).toBe(false);
  });

  it.each<[Record<string, string | undefined>, { includeUsers: boolean; distinct: boolean; limit: number; cursor?: string }]>([
    [{}, { includeUsers: false, distinct: false, limit: 1000 }],
    [{ includeUsers: "true" }, { includeUsers: true, distinct: false, limit: 1000 }],
    [{ includeUsers: "1", distinct: "1" }, { includeUsers: true, distinct: true, limit: 1000 }],
    [{ includeUsers: "false", distinct: "0" }, { includeUsers: false, distinct: false, limit: 1000 }],
    [{ includeUsers: "" }, { includeUsers: false, distinct: false, limit: 1000 }],
    [{ includeUsers: "true", limit: "50", cursor: "u-17" }, { includeUsers: true, distinct: false, limit: 50, cursor: "u-17" }],
  ])("reads the herenow query %j", (query, expected) => {
    expect(HereNowQuery.parse(query)).toEqual(expected);
  });

  it.each(["yes", "TRUE", "2", "on"])("rejects the query flag %j", (flag) => {
    expect(HereNowQuery.safeParse({ includeUsers: flag }).success).toBe(false);
  });

  it.each([["0", "limit is at least 1"], ["1001", "limit is at most 1000"], ["ten", "limit must be a whole number"], ["-5", "limit must be a whole number"]])(
    "rejects the herenow limit %j",
    (limit, message) => {
      const result = HereNowQuery.safeParse({ includeUsers: "true", limit });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.message).toBe(message);
    },
  );

  it("rejects an empty or overlong herenow cursor", () => {
    expect(HereNowQuery.safeParse({ cursor: "" }).success).toBe(false);
    expect(HereNowQuery.safeParse({ cursor: "u".repeat(129) }).success).toBe(false);
  });

  it("takes 1 to 100 valid channel names", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
    expect(HereNowChannels.safeParse(names(1)).success).toBe(true);
    expect(HereNowChannels.safeParse(names(100)).success).toBe(true);
    expect(HereNowChannels.safeParse(names(0)).success).toBe(false);
    expect(HereNowChannels.safeParse(names(101)).success).toBe(false);
    expect(HereNowChannels.safeParse(["ok", "not ok"]).success).toBe(false);
  });
});

describe("userDataProblem and utf8Bytes", () => {
  it("measures UTF-8 bytes, not characters", () => {
    expect(utf8Bytes("abc")).toBe(3);
    expect(utf8Bytes("é")).toBe(2);
    expect(utf8Bytes("🎉")).toBe(4);
  });

  it("caps userData by the bytes of its JSON text", () => {
    expect(userDataProblem("12345678", 10)).toBeNull(); // "12345678" with quotes: 10 bytes
    expect(userDataProblem("123456789", 10)).toEqual({ code: "too_large", message: "userData is larger than 10 bytes of JSON" });
    expect(userDataProblem({ a: 1 }, 10)).toBeNull();
  });

  it("measures the value as sent, __proto__ keys included (zod's copy leaves them out)", () => {
    const value = JSON.parse('{"__proto__":{"padding":"xxxxxxxxxxxxxxxxxxxx"}}') as unknown;
    expect(userDataProblem(value, 20)?.code).toBe("too_large");
  });

  it.each<[string, unknown]>([
    ["too deep", JSON.parse("[".repeat(40) + "]".repeat(40))],
    ["not JSON (a function)", () => 1],
    ["not JSON (undefined)", undefined],
  ])("calls userData that is %s a bad_message", (_name, value) => {
    expect(userDataProblem(value, 4096)?.code).toBe("bad_message");
  });
});

describe("exceedsDepth", () => {
  const arrays = (levels: number): unknown => JSON.parse("[".repeat(levels) + "]".repeat(levels));
  const objects = (levels: number): unknown => {
    let value: unknown = {};
    for (let i = 1; i < levels; i++) value = { k: value };
    return value;
  };

  it.each<[string, unknown]>([
    ["null", null],
    ["a number", 5],
    ["a string", "[[[[[[[[[["],
    ["an empty object", {}],
    ["a flat array", [1, 2, 3]],
  ])("does not flag %s", (_what, value) => {
    expect(exceedsDepth(value)).toBe(false);
  });

  it.each([
    ["arrays", arrays],
    ["objects", objects],
  ] as const)("allows exactly MAX_JSON_DEPTH levels of %s and flags one more", (_what, make) => {
    expect(exceedsDepth(make(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsDepth(make(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it("honours a custom maximum", () => {
    expect(exceedsDepth(arrays(3), 3)).toBe(false);
    expect(exceedsDepth(arrays(4), 3)).toBe(true);
    expect(exceedsDepth({}, 0)).toBe(true);
  });

  it("finds a deep branch beside shallow ones", () => {
    expect(exceedsDepth({ a: 1, b: [2], c: { d: arrays(MAX_JSON_DEPTH) } })).toBe(true);
  });

  it("handles nesting far beyond the call stack without throwing", () => {
    expect(exceedsDepth(arrays(200_000))).toBe(true);
  });
});
