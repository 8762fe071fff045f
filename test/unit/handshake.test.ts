import { afterEach, describe, expect, it } from "vitest";
import { channelProblem, parseHandshake } from "../../party/wire/handshake.ts";
import { DEFAULT_MAX_USER_DATA_BYTES, MAX_JSON_DEPTH } from "../../party/wire/json.ts";

const MAX = DEFAULT_MAX_USER_DATA_BYTES;

function query(params: Record<string, string | string[]>): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  return search;
}

const nested = (levels: number): string => "[".repeat(levels) + "]".repeat(levels);

describe("channelProblem", () => {
  it.each(["a", "room-1", "org:team.room_2", "user@example.com", "x".repeat(128), "ABCxyz0123456789"])(
    "accepts the channel name %j",
    (name) => {
      expect(channelProblem(name)).toBeNull();
    },
  );

  it.each<[string, string, RegExp]>([
    ["empty", "", /empty/],
    ["129 characters", "x".repeat(129), /longer than 128/],
    ["a space", "my room", /letters, digits/],
    ["a slash", "a/b", /letters, digits/],
    ["a question mark", "a?b", /letters, digits/],
    ["a percent sign", "a%20b", /letters, digits/],
    ["non-ASCII letters", "café", /letters, digits/],
    ["a newline", "a\nb", /letters, digits/],
  ])("refuses a channel name with %s, saying why", (_what, name, why) => {
    const problem = channelProblem(name);
    expect(problem).toMatch(/^bad channel name /);
    expect(problem).toMatch(why);
  });

  it("quotes at most 140 characters of a huge bad name", () => {
    const problem = channelProblem("/".repeat(10_000))!;
    expect(problem.length).toBeLessThan(300);
  });
});

describe("parseHandshake accepts good connects", () => {
  it.each<[string, Record<string, string | string[]>, { userId: string | null; userData: unknown; clientType?: string; window?: number }]>([
    ["an observer (no userId)", {}, { userId: null, userData: null }],
    ["an observer with a clientType", { clientType: "web" }, { userId: null, userData: null, clientType: "web" }],
    ["a user without userData", { userId: "Jack" }, { userId: "Jack", userData: null }],
    ["a user with object userData", { userId: "Jack", userData: '{"age":18}' }, { userId: "Jack", userData: { age: 18 } }],
    ["a user with string userData", { userId: "Jack", userData: '"hi"' }, { userId: "Jack", userData: "hi" }],
    ["a user with null userData", { userId: "Jack", userData: "null" }, { userId: "Jack", userData: null }],
    ["a userId of 128 characters", { userId: "u".repeat(128) }, { userId: "u".repeat(128), userData: null }],
    ["a userId with spaces and unicode", { userId: "Zoë Ünïcode 🎉" }, { userId: "Zoë Ünïcode 🎉", userData: null }],
    ["clientType app", { userId: "Jack", clientType: "app" }, { userId: "Jack", userData: null, clientType: "app" }],
    ["a window of 100", { userId: "Jack", window: "100" }, { userId: "Jack", userData: null, window: 100 }],
    ["an observer with a window", { window: "0" }, { userId: null, userData: null, window: 0 }],
    ["clientType with _-.", { userId: "Jack", clientType: "ios_17.1-beta" }, { userId: "Jack", userData: null, clientType: "ios_17.1-beta" }],
    [
      `userData nested ${MAX_JSON_DEPTH} levels`,
      { userId: "Jack", userData: nested(MAX_JSON_DEPTH) },
      { userId: "Jack", userData: JSON.parse(nested(MAX_JSON_DEPTH)) },
    ],
  ])("accepts %s", (_what, params, expected) => {
    const result = parseHandshake(query(params), MAX);
    expect(result).toEqual({ ok: true, value: { clientType: undefined, window: 0, ...expected } });
  });

  it("accepts userData of exactly the byte cap, counted in UTF-8", () => {
    // "é" is 2 bytes in UTF-8: a JSON string of 2 quotes + 2047 × 2 bytes = 4096 bytes.
    const text = JSON.stringify("é".repeat((MAX - 2) / 2));
    expect(new TextEncoder().encode(text).byteLength).toBe(MAX);
    expect(parseHandshake(query({ userId: "a", userData: text }), MAX).ok).toBe(true);
  });

  it("keeps partysocket's _pk as the connection id and ignores unrelated parameters", () => {
    const result = parseHandshake(query({ userId: "a", _pk: "abc", token: "t" }), MAX);
    expect(result).toEqual({ ok: true, value: { connectionId: "abc", userId: "a", userData: null, clientType: undefined, window: 0 } });
  });

  it.each([
    ["an empty _pk", "", /connection id \(_pk\) is empty/],
    ["a _pk of 65 characters", "p".repeat(65), /longer than 64/],
    ["a _pk with a slash", "a/b", /may only hold/],
  ])("refuses %s", (_name, pk, message) => {
    const result = parseHandshake(query({ userId: "a", _pk: pk }), MAX);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe("parseHandshake refuses bad connects, naming the problem", () => {
  it.each<[string, Record<string, string | string[]>, RegExp]>([
    ["an empty userId", { userId: "" }, /userId is empty/],
    ["a userId of 129 characters", { userId: "u".repeat(129) }, /userId is longer than 128/],
    ["a userId with a NUL", { userId: "a\u0000b" }, /userId may not hold control characters/],
    ["a userId with a line feed", { userId: "Jack\nroot" }, /userId may not hold control characters/],
    ["a userId with a bidi override", { userId: "\u202eJack" }, /userId may not hold control characters/],
    ["a repeated userId", { userId: ["a", "b"] }, /userId is given 2 times/],
    ["a repeated userData", { userId: "a", userData: ["1", "2"] }, /userData is given 2 times/],
    ["a repeated clientType", { userId: "a", clientType: ["web", "app"] }, /clientType is given 2 times/],
    ["userData that is not JSON", { userId: "a", userData: "{age:18}" }, /userData is not valid JSON/],
    ["userData that is cut off", { userId: "a", userData: '{"a":' }, /userData is not valid JSON/],
    ["empty userData", { userId: "a", userData: "" }, /userData is not valid JSON/],
    ["userData one byte over the cap", { userId: "a", userData: JSON.stringify("x".repeat(MAX - 1)) }, new RegExp(`userData is larger than ${MAX} bytes`)],
    ["userData nested too deep", { userId: "a", userData: nested(MAX_JSON_DEPTH + 1) }, new RegExp(`userData nests deeper than ${MAX_JSON_DEPTH}`)],
    ["userData nested absurdly deep", { userId: "a", userData: nested(100_000) }, /nests deeper/],
    ["userData without a userId", { userData: '{"a":1}' }, /userData needs a userId/],
    ["an empty clientType", { userId: "a", clientType: "" }, /clientType is empty/],
    ["a clientType with a space", { userId: "a", clientType: "my app" }, /clientType may only hold/],
    ["a clientType with a slash", { userId: "a", clientType: "web/2" }, /clientType may only hold/],
    ["a clientType of 33 characters", { userId: "a", clientType: "c".repeat(33) }, /clientType is longer than 32/],
    ["a window over 100", { userId: "a", window: "101" }, /window is at most 100 members/],
    ["a window that is not a number", { userId: "a", window: "ten" }, /window must be a whole number/],
    ["a negative window", { userId: "a", window: "-1" }, /window must be a whole number/],
    ["a repeated window", { userId: "a", window: ["1", "2"] }, /window is given 2 times/],
  ])("refuses %s", (_what, params, why) => {
    const result = parseHandshake(query(params), MAX);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(why);
  });

  it("applies the byte cap it is given, not a fixed one", () => {
    const params = query({ userId: "a", userData: JSON.stringify("x".repeat(20)) });
    expect(parseHandshake(params, 22).ok).toBe(true);
    const refused = parseHandshake(params, 21);
    expect(refused).toEqual({ ok: false, message: expect.stringMatching(/larger than 21 bytes/) });
  });
});

describe("parseHandshake and prototype pollution", () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>)["polluted"];
  });

  it("keeps __proto__ keys in userData as plain data and does not pollute Object.prototype", () => {
    const text = '{"__proto__":{"polluted":true},"name":"x"}';
    const result = parseHandshake(query({ userId: "a", userData: text }), MAX);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const data = result.value.userData as Record<string, unknown>;
    expect(Object.hasOwn(data, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(data, "__proto__")?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    // It round-trips through JSON unchanged, as it will on the wire.
    expect(JSON.stringify(data)).toBe(text);
  });

  it("keeps constructor and prototype keys as data too", () => {
    const text = '{"constructor":{"prototype":{"polluted":1}},"prototype":2}';
    const result = parseHandshake(query({ userId: "a", userData: text }), MAX);
    expect(result.ok && JSON.stringify(result.value.userData)).toBe(text);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});
