/** The dashboard's pure parts and admin tokens: relative times, member pages, the counts chart, admin tokens' checks. */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { clientTypesText, jsonPreview, relativeTime } from "../../dashboard/format.ts";
import { memberPage, prefixCursor, remoteRows } from "../../dashboard/rows.ts";
import { CountSeries } from "../../dashboard/series.ts";
import { adminOpen, checkAdminSocket, mintAdminToken, refusedCredentialMessage, verifyAdminToken } from "../../party/edge/admin.ts";
import { readConfig } from "../../party/server/config.ts";
import type { Member } from "../../party/protocol/index.ts";
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

  it("makes one row per member from herenow's per-client users, counting clients and types, and keeps only the prefix", () => {
    const users = [
      { id: "u1", data: { n: 1 }, clientType: "web" },
      { id: "u1", data: { n: 1 }, clientType: "app" },
      { id: "u1", data: { n: 1 } },
      { id: "u2", data: null, clientType: "web" },
    ];
    expect(remoteRows(users, "")).toEqual({
      rows: [
        { id: "u1", data: { n: 1 }, clients: 3, clientTypes: { web: 1, app: 1 } },
        { id: "u2", data: null, clients: 1, clientTypes: { web: 1 } },
      ],
      more: true,
    });
    // Past the prefix there is no next page.
    expect(remoteRows(users, "u1")).toEqual({ rows: [{ id: "u1", data: { n: 1 }, clients: 3, clientTypes: { web: 1, app: 1 } }], more: false });
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
