/** The dashboard's pure parts and admin tokens: relative times, member pages, the counts chart, admin tokens' checks. */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { clientTypesText, jsonPreview, relativeTime } from "../../dashboard/format.ts";
import { HistoryTail } from "../../dashboard/history-tail.ts";
import { listedRows, memberPage, prefixCursor } from "../../dashboard/rows.ts";
import { CountSeries } from "../../dashboard/series.ts";
import { adminOpen, checkAdminSocket, mintAdminToken, refusedCredentialMessage, verifyAdminToken } from "../../party/edge/admin.ts";
import { readConfig } from "../../party/server/config.ts";
import type { HistoryEvent, Member } from "../../party/protocol/index.ts";
import { token } from "../support/tokens.ts";

describe("format", () => {
  it("says times relative to now", () => {
    expect(relativeTime(10_000, 10_500)).toBe("now");
    expect(relativeTime(0, 12_300)).toBe("12 s ago");
    expect(relativeTime(0, 5 * 60_000 + 1)).toBe("5 min ago");
    expect(relativeTime(0, 3 * 3_600_000)).toBe("3 h ago");
    expect(relativeTime(0, 2 * 86_400_000)).toBe("2 d ago");
    expect(relativeTime(4000, 0)).toBe("in 4 s");
  });

  it("writes client types and JSON briefly", () => {
    expect(clientTypesText({ web: 2, app: 1 })).toBe("app web×2");
    expect(clientTypesText(undefined)).toBe("");
    expect(jsonPreview({ a: "x".repeat(100) }, 10)).toBe('{"a":"xxx…');
    expect(jsonPreview(null)).toBe("");
  });
});

describe("memberPage", () => {
  const m = (id: string, status: "online" | "offline"): Member => ({ id, data: { name: id.toUpperCase() }, status, clients: status === "online" ? 1 : 0, clientTypes: {}, since: 0, lastSeen: 0 });

  it("lists online members first, then by userId, a page at a time, filtered by id or data", () => {
    const members = [m("c", "offline"), m("b", "online"), m("a", "offline"), m("d", "online")];
    expect(memberPage(members, "", 0, 3)).toMatchObject({ pages: 2, total: 4, page: 0 });
    expect(memberPage(members, "", 0, 3).rows.map((r) => r.id)).toEqual(["b", "d", "a"]);
    expect(memberPage(members, "", 1, 3).rows.map((r) => r.id)).toEqual(["c"]);
    // A page past the end shows the last one.
    expect(memberPage(members, "", 9, 3).page).toBe(1);
    expect(memberPage(members, "D", 0).rows.map((r) => r.id)).toEqual(["d"]);
  });

  it("stays fast with 5,000 members", () => {
    const members = Array.from({ length: 5000 }, (_, i) => m(`user-${i}`, i % 3 === 0 ? "offline" : "online"));
    const started = performance.now();
    for (let i = 0; i < 20; i++) memberPage(members, i % 2 ? "user-4" : "", i);
    expect((performance.now() - started) / 20).toBeLessThan(50);
    expect(memberPage(members, "", 0).rows).toHaveLength(100);
  });
});

describe("interval-mode rows", () => {
  it("starts a prefix just below it in userId order, so herenow lists the prefix itself first", () => {
    expect(prefixCursor("")).toBeUndefined();
    expect(prefixCursor("u432")).toBe("u431\uffff");
    const ids = ["u431", "u4319", "u432", "u4320", "u433"].sort();
    // herenow lists the ids after its cursor (see party/channel/sorted-ids.ts): from "u432" on.
    expect(ids.filter((id) => id > prefixCursor("u432")!)).toEqual(["u432", "u4320", "u433"]);
    expect(prefixCursor("a\u0000")).toBe("a");
  });

  it("keeps the listing's members that start with the prefix, and says whether the next page may hold more", () => {
    const m = (id: string): Member => ({ id, data: null, status: "online", clients: 1, clientTypes: {}, since: 0, lastSeen: 0 });
    const page = [m("u1"), m("u10"), m("u2")];
    expect(listedRows(page, "")).toEqual({ rows: page, more: true });
    expect(listedRows(page, "u1")).toEqual({ rows: [m("u1"), m("u10")], more: false });
    expect(listedRows([], "u1")).toEqual({ rows: [], more: true });
  });
});

describe("CountSeries", () => {
  it("keeps the window's samples, skips repeats within a second, and draws steps", () => {
    const series = new CountSeries(10_000, 1000);
    series.add({ at: 0, userAmount: 1, clientAmount: 2 });
    series.add({ at: 500, userAmount: 1, clientAmount: 2 });
    series.add({ at: 5000, userAmount: 4, clientAmount: 4 });
    expect(series.samples).toHaveLength(2);
    const { users, max } = series.points(10_000, 100, 104);
    expect(max).toBe(4);
    expect(users).toBe("0.0,79.0 50.0,79.0 50.0,4.0 100,4.0");
    series.add({ at: 20_000, userAmount: 0, clientAmount: 0 });
    expect(series.samples.map((s) => s.at)).toEqual([20_000]);
  });
});

describe("CountSeries.merge", () => {
  it("merges a history's counts with the samples heard, in time order, within the window, thinned to the newest counts per slice", () => {
    const series = new CountSeries(60_000, 1000);
    series.add({ at: 100_000, userAmount: 9, clientAmount: 9 });
    series.merge([
      { at: 30_000, userAmount: 1, clientAmount: 1 },
      { at: 50_000, userAmount: 2, clientAmount: 2 },
      { at: 50_010, userAmount: 3, clientAmount: 4 },
      { at: 70_000, userAmount: 5, clientAmount: 5 },
    ]);
    // 30_000 is past the window of the newest (100_000); 50_000 and 50_010 share a slice of 100 ms: the newer stays.
    expect(series.samples.map((s) => [s.at, s.userAmount])).toEqual([
      [50_010, 3],
      [70_000, 5],
      [100_000, 9],
    ]);
    // Thousands of events draw as at most maxSamples steps.
    const many = new CountSeries(60_000);
    many.merge(Array.from({ length: 5000 }, (_, i) => ({ at: i * 10, userAmount: i, clientAmount: i })), 100);
    expect(many.samples.length).toBeLessThanOrEqual(100);
    expect(many.samples.at(-1)).toEqual({ at: 49_990, userAmount: 4999, clientAmount: 4999 });
    many.merge([]);
    expect(many.samples.length).toBeLessThanOrEqual(100);
  });
});

describe("HistoryTail", () => {
  const event = (seq: number, id: string, at = seq * 1000): HistoryEvent => ({
    action: "join",
    member: { id, data: null, status: "online", clients: 1, clientTypes: {}, since: at, lastSeen: at },
    clientAmount: seq,
    userAmount: seq,
    seq,
    at,
  });
  const ids = (events: HistoryEvent[]) => events.map((e) => `${e.seq}:${e.member.id}`);

  it("reads on from the newest event's time, showing each event once, past what the socket showed", () => {
    const tail = new HistoryTail();
    tail.seen(2, 2000);
    expect(String(tail.query(100))).toBe("history=&limit=100&since=2000");
    // The page from 2000 holds tick 2 again (the socket showed it) and tick 3.
    expect(ids(tail.take({ events: [event(2, "a"), event(3, "b"), event(3, "c")] }))).toEqual(["3:b", "3:c"]);
    expect(tail.more).toBe(false);
    expect(String(tail.query(100))).toBe("history=&limit=100&since=3000");
    // Tick 3 again (read), and a tick 4 stamped the same millisecond: new.
    expect(ids(tail.take({ events: [event(3, "b"), event(3, "c"), event(4, "d", 3000)] }))).toEqual(["4:d"]);
    expect(ids(tail.take({ events: [event(4, "d", 3000)] }))).toEqual([]);
  });

  it("follows a page's cursor, keeping a tick that straddles two pages whole", () => {
    const tail = new HistoryTail(1);
    tail.query(2);
    expect(ids(tail.take({ events: [event(1, "a"), event(2, "b")], cursor: "2" }))).toEqual(["2:b"]);
    expect(tail.more).toBe(true);
    expect(String(tail.query(2))).toBe("history=&limit=2&cursor=2");
    // The rest of tick 2 comes on the next page: shown, not taken for a repeat.
    expect(ids(tail.take({ events: [event(2, "c"), event(3, "d")] }))).toEqual(["2:c", "3:d"]);
    expect(tail.more).toBe(false);
    expect(String(tail.query(2))).toBe("history=&limit=2&since=3000");
  });
});

describe("admin tokens", () => {
  const keyed = readConfig({ PRESENCE_SERVER_KEY: "server-key-0123456789abcdef" });
  const other = readConfig({ PRESENCE_SERVER_KEY: "another-key-0123456789abcdef" });
  const open = readConfig({});
  const authNoKey = readConfig({ PRESENCE_AUTH_SECRET: "test-secret-0123456789-abcdefghijklmnopq" });
  if (!keyed.ok || !other.ok || !open.ok || !authNoKey.ok) throw new Error("bad test config");

  it("are minted only with a server key, verify only under that key, and expire", async () => {
    expect(await mintAdminToken(open.config)).toBeNull();
    const now = Date.now();
    const minted = (await mintAdminToken(keyed.config, now, 60))!;
    expect(decodeJwt(minted.token).aud).toBe("presence-admin");
    expect(await verifyAdminToken(minted.token, keyed.config)).toBe(minted.expiresAt);
    expect(await verifyAdminToken(minted.token, other.config)).toBeNull();
    const expired = (await mintAdminToken(keyed.config, now - 120_000, 60))!;
    expect(await verifyAdminToken(expired.token, keyed.config)).toBeNull();
    // A client token is not an admin token, even signed with the server key as its secret.
    expect(await verifyAdminToken(await token({ observer: true }, "server-key-0123456789abcdef-padding"), keyed.config)).toBeNull();
    expect(await verifyAdminToken("not a jwt", keyed.config)).toBeNull();
  });

  it("say why a credential given for the server key was refused: wrong key, unreadable, no admin token, expired, foreign", async () => {
    const now = Date.now();
    expect(refusedCredentialMessage("not-the-key", now)).toBe("wrong server key");
    expect(refusedCredentialMessage("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", now)).toMatch(/cannot be read as a JWT/);
    expect(refusedCredentialMessage(await token({ userId: "eve" }), now)).toMatch(/nor an admin token \(a client token/);
    const expired = (await mintAdminToken(keyed.config, now - 120_000, 60))!;
    expect(refusedCredentialMessage(expired.token, now)).toBe(`the admin token expired at ${new Date(expired.expiresAt).toISOString()}: get a new one with the server key (POST /admin/token)`);
    expect(refusedCredentialMessage((await mintAdminToken(other.config, now))!.token, now)).toBe("bad admin token: not signed with this service's server key");
  });

  it("decide the index socket: open in development, refused without a key when auth is on, else the token", async () => {
    expect(adminOpen(open.config)).toBe(true);
    await expect(checkAdminSocket(new URLSearchParams(), open.config)).resolves.toBeUndefined();
    await expect(checkAdminSocket(new URLSearchParams(), authNoKey.config)).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(checkAdminSocket(new URLSearchParams(), keyed.config)).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    await expect(checkAdminSocket(new URLSearchParams({ token: "bad" }), keyed.config)).rejects.toMatchObject({ status: 401, message: "bad or expired admin token" });
    const minted = (await mintAdminToken(keyed.config))!;
    await expect(checkAdminSocket(new URLSearchParams({ token: minted.token }), keyed.config)).resolves.toBeUndefined();
  });
});
