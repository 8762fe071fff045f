/**
 * The identifier rules, defined once in the zod schemas (`UserId`, `ClientId`): each case
 * against zod (the server) and against the generated JSON Schema data that the client and the
 * edge's handshake check with (party/wire/check.ts, which compiles the pattern without flags);
 * and what becomes of ids an older version stored before the rule.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { DirectoryService } from "../../party/directory/service.ts";
import { IndexService } from "../../party/index/service.ts";
import { loadConfig } from "../../party/server/config.ts";
import { check } from "../../party/wire/check.ts";
import { ClientId, type HistoryEvent, quotedId, USER_ID_RULE, UserId } from "../../party/protocol/index.ts";
import {
  HistoryResponseDefs,
  HistoryResponseSchema,
  HttpClientResponseDefs,
  ServerMessageDefs,
  ServerMessageSchema,
  UserIdDefs,
  UserIdSchema,
} from "../../party/wire/schemas.generated.ts";
import { joinThroughEdge, memoryService, requestThroughEdge } from "../support/memory-edge.ts";

/** What both checkers say of a userId: null when it is allowed, else the problem (they must agree). */
function userIdProblem(id: string): string | null {
  const zod = UserId.safeParse(id);
  const wire = check(UserIdSchema, id, UserIdDefs);
  expect(wire === null, `zod and the wire checker disagree on ${JSON.stringify(id)}`).toBe(zod.success);
  return wire;
}

function clientIdProblem(id: string): string | null {
  const zod = ClientId.safeParse(id);
  // The client reads ClientId where an answer names one (no root of its own).
  const wire = check({ $ref: "#/$defs/ClientId" }, id, HttpClientResponseDefs);
  expect(wire === null, `zod and the wire checker disagree on ${JSON.stringify(id)}`).toBe(zod.success);
  return wire;
}

const refused: Array<[string, string]> = [
  ["NUL", "a\u0000b"],
  ["U+0001 (SOH)", "\u0001"],
  ["a tab", "a\tb"],
  ["a line feed", "Jack\nroot logged in"],
  ["a carriage return", "Jack\r"],
  ["ESC (a terminal escape)", "\u001b[31mred"],
  ["U+001F, the last C0 control", "a\u001f"],
  ["DEL (U+007F)", "a\u007f"],
  ["U+0080, the first C1 control", "\u0080a"],
  ["NEL (U+0085)", "a\u0085b"],
  ["U+009F, the last C1 control", "a\u009f"],
  ["the line separator U+2028", "a\u2028b"],
  ["the paragraph separator U+2029", "a\u2029b"],
  ["LRE (U+202A)", "\u202aa"],
  ["PDF (U+202C)", "a\u202c"],
  ["RLO (U+202E), the override that shows 'evil' as 'live'", "\u202elive"],
  ["LRI (U+2066)", "\u2066a"],
  ["PDI (U+2069)", "a\u2069"],
  ["a lone high surrogate at the end", "a\ud800"],
  ["a lone high surrogate before a letter", "\ud83da"],
  ["a lone low surrogate", "a\udc00b"],
  ["a low surrogate before its high one", "\ude00\ud83d"],
  ["an emoji followed by a lone high surrogate", "😀\ud83d"],
];

const allowed: Array<[string, string]> = [
  ["Jack", "Jack"],
  ["Chinese", "用户"],
  ["a space", "a b"],
  ["an emoji (a surrogate pair)", "😀"],
  ["an emoji sequence with zero-width joiners", "👩‍👩‍👧"],
  ["a flag (two regional indicators)", "🇫🇷"],
  ["right-to-left text", "مستخدم"],
  ["an email", "jack@example.com"],
  ["a UUID", "0b6f7c5e-3c2a-4b8e-9a43-6d0f1f0c2a11"],
  ["punctuation a URL would escape", "a/b?c=d&e#f%20"],
  ["U+00A0 (no-break space), the first character after C1", "a\u00a0b"],
  ["U+200F (the right-to-left mark, not an override)", "a\u200fb"],
  ["U+2027 and U+202F around the separators", "\u2027\u202f"],
  ["U+2065 and U+206A around the isolates", "\u2065\u206a"],
  ["U+FFFD", "\ufffd"],
  ["128 characters", "u".repeat(128)],
  ["128 emoji (256 UTF-16 units: the limit counts characters)", "😀".repeat(128)],
];

describe("UserId", () => {
  it.each(refused)("refuses %s, saying which characters are not allowed", (_what, id) => {
    expect(userIdProblem(id)).toBe(USER_ID_RULE);
    expect(UserId.safeParse(id).error?.issues[0]?.message).toBe(USER_ID_RULE);
  });

  it.each(allowed)("allows %s", (_what, id) => {
    expect(userIdProblem(id)).toBeNull();
  });

  it("keeps its length limits: 1 to 128 characters (code points, as zod and JSON Schema count them)", () => {
    expect(userIdProblem("")).toBe("userId is empty");
    expect(userIdProblem("u".repeat(129))).toBe("userId is longer than 128 characters");
    expect(userIdProblem("😀".repeat(129))).toBe("userId is longer than 128 characters");
    expect(userIdProblem(`${"😀".repeat(127)}a`)).toBeNull();
  });

  it("refuses every C0 and C1 control and DEL, and allows the characters beside them", () => {
    for (let code = 0; code <= 0xa0; code++) {
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
      expect(userIdProblem(`a${String.fromCharCode(code)}b`) === null, `U+${code.toString(16).padStart(4, "0")}`).toBe(!control);
    }
  });
});

describe("quotedId", () => {
  it("quotes an id for a log line with every character the rule refuses escaped", () => {
    expect(quotedId("evil\u0000\u007f\u0085\u2028\u202e\u2067\ud800 用户 😀")).toBe('"evil\\u0000\\u007f\\u0085\\u2028\\u202e\\u2067\\ud800 用户 😀"');
  });
});

describe("ClientId", () => {
  it.each(refused)("refuses %s", (_what, id) => {
    expect(clientIdProblem(id)).toBe("client id may only hold letters, digits and _-.:");
  });

  it.each([["claw-7"], ["device_1.a:b"], ["x".repeat(64)]])("allows %s", (id) => {
    expect(clientIdProblem(id)).toBeNull();
  });
});

describe("rows stored before the userId rule", () => {
  const ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_TICK_MS: "50", PRESENCE_DIRECTORY_PARTS: "1", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000" };
  const config = loadConfig(ENV);
  const LEGACY = "evil\u0000\u202e";

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("are dropped when a room, a directory part and the index start: snapshots, history pages, watch lists and the ban list stay readable", async () => {
    const { world, edge } = memoryService(ENV);
    const room = await world.room<SocketState>("main", "old");
    await joinThroughEdge(room, edge, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(100);
    await joinThroughEdge(room, edge, "b1", "userId=bob");
    await vi.advanceTimersByTimeAsync(100);
    const part = await world.room("directory", "p0");
    const index = await world.room("index", "all");
    expect(part.storage.rows.has("u:ann")).toBe(true);

    // What an older version could have stored: a member, an HTTP client, a history event, a watch list, a directory user and a ban of an id the rule refuses.
    const now = Date.now();
    room.storage.rows.set(`m:${LEGACY}`, { ...(room.storage.rows.get("m:ann") as object), id: LEGACY });
    room.storage.rows.set("h:old-device", { clientId: "old-device", userId: LEGACY, clientType: "device", ttlMs: 60_000, renewedAt: now, expiresAt: now + 60_000 });
    room.storage.rows.set("w:a1", ["bob", LEGACY]);
    const annJoin = [...room.storage.rows].find(([key, row]) => key.startsWith("hist:") && (row as HistoryEvent).member.id === "ann")!;
    room.storage.rows.set(annJoin[0], { ...(annJoin[1] as HistoryEvent), member: { ...(annJoin[1] as HistoryEvent).member, id: LEGACY } });
    part.storage.rows.set(`u:${LEGACY}`, { ...(part.storage.rows.get("u:ann") as object), id: LEGACY });
    index.storage.rows.set(`b:${LEGACY}`, { userId: LEGACY, until: now + 3_600_000, reason: "", bannedAt: now });

    // The engine restarts all three (ann's and bob's sockets survive).
    room.service = new ChannelService(room, config);
    part.service = new DirectoryService(part, config);
    index.service = new IndexService(index, config);
    await Promise.all([room.service.start(), part.service.start(), index.service.start()]);

    expect([...room.storage.rows.keys()].filter((key) => key.includes("evil") || key === "h:old-device")).toEqual([]);
    expect(part.storage.rows.has(`u:${LEGACY}`)).toBe(false);
    expect(index.storage.rows.has(`b:${LEGACY}`)).toBe(false);

    // A new socket's snapshot passes the client's own check, and names only today's ids.
    const watcher = await joinThroughEdge(room, edge, "w", "");
    const [sync] = watcher.of("sync");
    expect(check(ServerMessageSchema, sync, ServerMessageDefs)).toBeNull();
    expect(sync.members.map((member: unknown[]) => member[0]).sort()).toEqual(["ann", "bob"]);
    // The history page too (the legacy event is left out), and the edge's read of the ban list.
    const history = await requestThroughEdge(room, edge, "GET", "?history");
    expect(history.status).toBe(200);
    expect(check(HistoryResponseSchema, history.body, HistoryResponseDefs)).toBeNull();
    expect(history.body.content.events.map((event: HistoryEvent) => event.member.id)).toEqual(["bob"]);
    await expect(edge.parties.call("index", "all", "bans", {})).resolves.toEqual({ bans: [] });
    // The surviving socket still watches bob, and the room's report to the directory is taken.
    const calls = world.calls.length;
    await vi.advanceTimersByTimeAsync(config.leaseMs);
    expect(world.calls.slice(calls).some((c) => c.party === "directory" && c.call === "report")).toBe(true);
    expect((await edge.parties.call("directory", "p0", "status", { userIds: ["ann", "bob"] })).users.map((u) => `${u.status.id}:${u.status.online}`)).toEqual(["ann:true", "bob:true"]);
  });
});
