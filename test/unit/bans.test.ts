/**
 * Bans: the index room's list (pure), the edge isolate's copy of it (how often it reads the
 * list, what it keeps when the list cannot be read), and a ban through the in-memory service:
 * `banSeconds` of a disconnect refusing the user's connects, HTTP clients and tokens, counted,
 * read, lifted and lapsing, on vitest's fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { BanList } from "../../party/index/ban-list.ts";
import { BanCache } from "../../party/server/ban-cache.ts";
import { CallError, type Parties } from "../../party/server/calls.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import { type Ban, MAX_BANS } from "../../party/protocol/index.ts";
import { joinThroughEdge, memoryService, requestThroughEdge } from "../support/memory-edge.ts";
import type { MemoryWorld } from "../support/memory-host.ts";
import { SECRET, token } from "../support/tokens.ts";

const ban = (userId: string, until: number, bannedAt = 0): Ban => ({ userId, until, reason: "", bannedAt });

describe("the ban list", () => {
  it("holds a ban until its time, replaces a user's ban, lifts it, and names the next end", () => {
    const list = new BanList();
    expect(list.nextExpiry()).toBeNull();
    list.ban(ban("ann", 5000));
    list.ban(ban("bob", 3000));
    list.ban(ban("ann", 9000));
    expect(list.active(1000).map((b) => `${b.userId}:${b.until}`)).toEqual(["ann:9000", "bob:3000"]);
    expect(list.nextExpiry()).toBe(3000);
    expect(list.active(3000).map((b) => b.userId), "a ban ends at its time").toEqual(["ann"]);
    expect(list.expire(3000)).toEqual(["bob"]);
    expect(list.lift("ann")).toBe(true);
    expect(list.lift("ann")).toBe(false);
    expect(list.active(0)).toEqual([]);
  });

  it("refuses a new user's ban when full, but still replaces a banned user's", () => {
    const list = new BanList();
    for (let i = 0; i < MAX_BANS; i++) expect(list.ban(ban(`u${i}`, 10_000))).toBe(true);
    expect(list.ban(ban("one-more", 10_000))).toBe(false);
    expect(list.ban(ban("u7", 20_000))).toBe(true);
    expect(list.active(0)).toHaveLength(MAX_BANS);
  });
});

describe("the edge's copy of the ban list", () => {
  let now = 1_000_000;
  let reads = 0;
  let answer: () => Promise<{ bans: Ban[] }> = async () => ({ bans: [] });
  const parties: Parties = {
    reachable: true,
    call: (async (_party: string, _room: string, name: string) => {
      expect(name).toBe("bans");
      reads++;
      return answer();
    }) as Parties["call"],
  };
  const source = { parties, room: "all" };
  beforeEach(() => {
    now = 1_000_000;
    reads = 0;
  });

  it("reads the list once per interval, shared by the checks that wait on it", async () => {
    const cache = new BanCache({ refreshMs: 5000, now: () => now });
    answer = async () => ({ bans: [ban("ann", now + 60_000)] });
    const checks = await Promise.all(["ann", "bob", "ann"].map((userId) => cache.banOf(userId, source)));
    expect(checks.map((found) => found?.userId ?? null)).toEqual(["ann", null, "ann"]);
    expect(reads).toBe(1);
    now += 4999;
    await cache.banOf("bob", source);
    expect(reads, "within the interval: no read").toBe(1);
    answer = async () => ({ bans: [] });
    now += 1;
    expect(await cache.banOf("ann", source), "a lift another isolate made, seen at the next read").toBeNull();
    expect(reads).toBe(2);
  });

  it("has a ban or a lift made through it at once, and treats a ban past its time as over", async () => {
    const cache = new BanCache({ refreshMs: 5000, now: () => now });
    await cache.banOf("x", source);
    cache.remember(ban("ann", now + 1000));
    expect(await cache.banOf("ann", source)).toMatchObject({ userId: "ann" });
    now += 1000;
    expect(await cache.banOf("ann", source)).toBeNull();
    cache.remember(ban("bob", now + 1000));
    cache.forget("bob");
    expect(await cache.banOf("bob", source)).toBeNull();
    expect(reads).toBe(1);
  });

  it("says whether any ban is in force, from the same copy, so a request naming no banned user need not be read", async () => {
    const cache = new BanCache({ refreshMs: 5000, now: () => now });
    answer = async () => ({ bans: [] });
    expect(await cache.any(source)).toBe(false);
    cache.remember(ban("ann", now + 1000));
    expect(await cache.any(source)).toBe(true);
    now += 1000;
    expect(await cache.any(source), "a ban past its time is not in force").toBe(false);
    expect(reads).toBe(1);
  });

  it("keeps its last copy when the list cannot be read, and tries again after the interval, not on every check", async () => {
    const cache = new BanCache({ refreshMs: 5000, now: () => now });
    answer = async () => ({ bans: [ban("ann", now + 60_000)] });
    await cache.banOf("ann", source);
    answer = async () => {
      throw new CallError(0, "index/all cannot be reached");
    };
    now += 5000;
    expect(await cache.banOf("ann", source)).toMatchObject({ userId: "ann" });
    expect(await cache.banOf("ann", source)).toMatchObject({ userId: "ann" });
    expect(reads).toBe(2);
    now += 5000;
    await cache.banOf("ann", source);
    expect(reads).toBe(3);
  });
});

describe("a ban through the service", () => {
  const SERVER_KEY = "server-key-for-tests-0123456789";
  const key = { authorization: `Bearer ${SERVER_KEY}` };
  let world: MemoryWorld;
  let edge: EdgeHost;

  beforeEach(() => {
    vi.useFakeTimers({ now: 5_000_000 });
    ({ world, edge } = memoryService({ PRESENCE_TICK_MS: "50", PRESENCE_GRACE_MS: "1000", PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_AUTH_SECRET: SECRET }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = key) => {
    const response = await edgeFetch(new Request(`http://memory${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), edge);
    return { status: response.status, body: (await response.json()) as any };
  };
  const connect = async (room: Awaited<ReturnType<MemoryWorld["room"]>>, id: string, userId: string) =>
    joinThroughEdge(room as never, edge, id, `token=${await token({ userId, channels: ["*"] })}`).then(
      () => "admitted",
      (error: Error) => error.message,
    );

  it("refuses the user's connects, own heartbeats, token reads and the server's heartbeats for it with 403 banned, counted, until it is lifted", async () => {
    const room = await world.room<SocketState>("main", "banned-room");
    const first = await joinThroughEdge(room, edge, "a1", `token=${await token({ userId: "ann", channels: ["*"] })}`);
    await vi.advanceTimersByTimeAsync(100);

    const banned = await call("POST", "/users/ann/disconnect", { reason: "spam", banSeconds: 60 });
    expect(banned.status).toBe(200);
    expect(banned.body.content).toMatchObject({ userId: "ann", clients: 1, bannedUntil: Date.now() + 60_000 });
    expect(first.closed?.code).toBe(4004);

    expect(await connect(room, "a2", "ann")).toMatch(/"error":"banned".*user ann is banned until .*\(spam\)/);
    expect(await connect(room, "b1", "bob"), "another user is not touched").toBe("admitted");
    const annToken = await token({ userId: "ann", channels: ["*"] });
    const own = await requestThroughEdge(room, edge, "PUT", "/clients/d1", { userId: "ann", ttlMs: 30_000 }, { authorization: `Bearer ${annToken}` });
    expect(own).toMatchObject({ status: 403, body: { error: "banned" } });
    const batch = await requestThroughEdge(room, edge, "POST", "/clients", { clients: [{ clientId: "d2", userId: "ann", ttlMs: 30_000 }, { clientId: "d3", userId: "cy", ttlMs: 30_000 }] }, key);
    expect(batch.status).toBe(200);
    expect(batch.body.content.clients).toEqual([
      expect.objectContaining({ clientId: "d2", error: "banned" }),
      expect.objectContaining({ clientId: "d3", userId: "cy" }),
    ]);
    const single = await requestThroughEdge(room, edge, "PUT", "/clients/d4", { userId: "ann", ttlMs: 30_000 }, key);
    expect(single).toMatchObject({ status: 403, body: { error: "banned" } });
    const herenow = await call("GET", `/herenow?channel=banned-room&token=${annToken}`, undefined, {});
    expect(herenow).toMatchObject({ status: 403, body: { error: "banned" } });
    await vi.advanceTimersByTimeAsync(100);
    const stats = (await requestThroughEdge(room, edge, "GET", "?stats", undefined, key)).body.content;
    expect(stats).toMatchObject({ userAmount: 2, refusedConnections: { banned: 1 }, refusedRequests: { banned: 3 } });

    const read = await call("GET", "/users/ann/ban");
    expect(read.body.content).toEqual({ userId: "ann", banned: true, ban: { userId: "ann", until: banned.body.content.bannedUntil, reason: "spam", bannedAt: banned.body.content.bannedUntil - 60_000 } });
    expect((await call("DELETE", "/users/ann/ban")).body.content).toEqual({ userId: "ann", lifted: true });
    expect((await call("DELETE", "/users/ann/ban")).body.content).toEqual({ userId: "ann", lifted: false });
    expect((await call("GET", "/users/ann/ban")).body.content).toEqual({ userId: "ann", banned: false });
    expect(await connect(room, "a3", "ann")).toBe("admitted");
  });

  it("ends a ban at its time, and drops it from the index room's storage", async () => {
    const room = await world.room<SocketState>("main", "lapse-room");
    await call("POST", "/users/ann/disconnect", { banSeconds: 2 });
    expect(await connect(room, "a1", "ann")).toMatch(/banned/);
    const index = await world.room("index", "all");
    expect([...index.storage.rows.keys()]).toContain("b:ann");
    await vi.advanceTimersByTimeAsync(2000);
    expect(await connect(room, "a2", "ann")).toBe("admitted");
    expect([...index.storage.rows.keys()]).not.toContain("b:ann");
    expect((await call("GET", "/users/ann/ban")).body.content).toEqual({ userId: "ann", banned: false });
  });

  it("refuses bad bans and ban routes, and a ban when the list is full, changing nothing", async () => {
    const room = await world.room<SocketState>("main", "guarded");
    const gus = await joinThroughEdge(room, edge, "g0", `token=${await token({ userId: "gus", channels: ["*"] })}`);
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, RegExp]> = [
      ["banSeconds 0", () => call("POST", "/users/gus/disconnect", { banSeconds: 0 }), 400, /at least 1/],
      ["negative banSeconds", () => call("POST", "/users/gus/disconnect", { banSeconds: -60 }), 400, /at least 1/],
      ["fractional banSeconds", () => call("POST", "/users/gus/disconnect", { banSeconds: 1.5 }), 400, /whole number/],
      ["banSeconds over a year", () => call("POST", "/users/gus/disconnect", { banSeconds: 366 * 24 * 3600 }), 400, /at most/],
      ["banSeconds as text", () => call("POST", "/users/gus/disconnect", { banSeconds: "60" }), 400, /banSeconds/],
      ["a ban without the key", () => call("POST", "/users/gus/disconnect", { banSeconds: 60 }, {}), 401, /missing server key/],
      ["reading a ban without the key", () => call("GET", "/users/gus/ban", undefined, {}), 401, /missing server key/],
      ["lifting with a wrong key", () => call("DELETE", "/users/gus/ban", undefined, { authorization: "Bearer wrong" }), 401, /wrong server key/],
      ["a bad user id", () => call("GET", `/users/${"x".repeat(129)}/ban`), 400, /longer than 128/],
      ["POST to a ban", () => call("POST", "/users/gus/ban", {}), 405, /GET or DELETE/],
    ];
    for (const [what, send, status, message] of cases) {
      const answer = await send();
      expect(answer.status, what).toBe(status);
      expect(answer.body.message, what).toMatch(message);
    }
    expect(await connect(room, "g1", "gus"), "no ban was made").toBe("admitted");

    const parties = world.parties();
    for (let i = 0; i < MAX_BANS; i++) await parties.call("index", "all", "ban", ban(`u${i}`, Date.now() + 3_600_000));
    const full = await call("POST", "/users/gus/disconnect", { banSeconds: 60 });
    expect(full).toMatchObject({ status: 409, body: { error: "conflict", message: expect.stringMatching(/ban list is full/) } });
    expect(gus.closed, "a refused ban closes nothing").toBeNull();
    // Ten thousand bans through the in-memory calls take seconds on a loaded machine.
  }, 60_000);
});
