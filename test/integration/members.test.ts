/**
 * The admin member listing (`GET /parties/main/CHANNEL?members&limit=&cursor=`) against a real
 * dev server with a server key, in interval mode (PRESENCE_ANNOUNCE_MAX small): refused and
 * counted without the key or an admin token; pages complete and in order while members come
 * and go; its rows agree with `?stats` and herenow. Members are HTTP clients (cheap) and a few
 * sockets (more than one client for a user, one that goes offline).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPresenceApi } from "../../client/server.ts";
import { type Member, MembersResponse, type RoomStats, StatsResponse } from "../../party/protocol/index.ts";
import { freshChannel, joined, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";

const SERVER_KEY = "members-server-key-0123456789";
const ANNOUNCE_MAX = 5;
const TTL_MS = 60_000;

let keyed: DevServer;
beforeAll(async () => {
  keyed = await startDevServer({ vars: { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_ANNOUNCE_MAX: String(ANNOUNCE_MAX) } });
});
afterAll(async () => {
  await keyed?.stop();
});

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const api = () => createPresenceApi({ host: keyed.host, serverKey: SERVER_KEY });
const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(2, "0")}`;

/** A GET of the room with the server key (or the bearer given, or none with `null`): its status and body. */
async function get(channel: string, query: string, bearer: string | null = SERVER_KEY): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://${keyed.host}/parties/main/${channel}?${query}`, bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } });
  return { status: response.status, body: await response.json() };
}

/** One page of the listing, checked against its schema. */
async function page(channel: string, limit: number, cursor?: string, bearer: string = SERVER_KEY) {
  const query = new URLSearchParams({ members: "", limit: String(limit), ...(cursor === undefined ? {} : { cursor }) });
  const { status, body } = await get(channel, String(query), bearer);
  expect(status, JSON.stringify(body)).toBe(200);
  return MembersResponse.parse(body).content;
}

/** Every page of the listing, following cursors. */
async function walk(channel: string, limit: number, between: (n: number) => Promise<void> = async () => {}): Promise<{ members: Member[]; pages: number }> {
  const members: Member[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const next = await page(channel, limit, cursor);
    expect(next.channel).toBe(channel);
    expect(next.members.length).toBeLessThanOrEqual(limit);
    members.push(...next.members);
    cursor = next.cursor;
    if (cursor !== undefined) expect(cursor).toBe(next.members.at(-1)!.id);
    await between(++pages);
  } while (cursor !== undefined);
  return { members, pages };
}

async function stats(channel: string): Promise<RoomStats> {
  const { status, body } = await get(channel, "stats");
  expect(status).toBe(200);
  return StatsResponse.parse(body).content;
}

/** Joins `ids` as HTTP clients (one request), with their index as userData. */
async function heartbeatAll(channel: string, ids: string[]): Promise<void> {
  await api().heartbeatMany(channel, ids.map((userId) => ({ clientId: `h-${userId}`, userId, data: { id: userId }, clientType: "device", ttlMs: TTL_MS })));
}

describe("the admin member listing", () => {
  it("is refused without the server key or an admin token (401), counted, and answered with either", async () => {
    const channel = freshChannel("members-key");
    await heartbeatAll(channel, ["a", "b"]);
    const before = await stats(channel);
    const missing = await get(channel, "members", null);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 401, error: "unauthorized", message: expect.stringContaining("missing server key") });
    const wrong = await get(channel, "members", "not-the-key-0123456789");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 401, error: "unauthorized", message: "wrong server key" });
    await waitFor("both refusals counted", async () => ((await stats(channel)).refusedRequests.unauthorized ?? 0) - (before.refusedRequests.unauthorized ?? 0) === 2);
    // A bad query reaches the room, which refuses it (400) and counts it too.
    const bad = await get(channel, "members&limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 400, error: "bad_request", message: expect.stringContaining("limit is at least 1") });
    expect(((await stats(channel)).refusedRequests.bad_request ?? 0) - (before.refusedRequests.bad_request ?? 0)).toBe(1);
    // An admin token (the dashboard's) stands in for the key.
    const minted = await fetch(`http://${keyed.host}/admin/token`, { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` } });
    const { token } = ((await minted.json()) as { content: { token: string } }).content;
    const withToken = await page(channel, 10, undefined, token);
    expect(withToken.members.map((m) => m.id)).toEqual(["a", "b"]);
    expect(withToken).not.toHaveProperty("cursor");
  });

  it("pages every member exactly once, in userId order, while members come and go", async () => {
    const channel = freshChannel("members-churn");
    // Stayers throughout, and others that come and go during the walk; interleaved in the order.
    const stayers = Array.from({ length: 30 }, (_, i) => id("m", i * 2));
    const comers = Array.from({ length: 30 }, (_, i) => id("m", i * 2 + 1));
    await heartbeatAll(channel, stayers);
    await heartbeatAll(channel, comers.filter((_, i) => i % 2 === 0));
    await waitFor("interval mode", async () => (await stats(channel)).mode === "interval");
    const { members, pages } = await walk(channel, 7, async (n) => {
      // Between pages: some of the comers leave, others join, before and after the cursor.
      const leave = comers.filter((_, i) => i % 2 === 0 && i % 3 === n % 3);
      const join = comers.filter((_, i) => i % 2 === 1 && i % 3 === n % 3);
      await Promise.all(leave.map((userId) => api().removeClient(channel, `h-${userId}`)));
      await heartbeatAll(channel, join);
    });
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(stayers.length / 7));
    const ids = members.map((m) => m.id);
    // In order, none twice.
    expect(ids).toEqual([...new Set(ids)].sort());
    // Every stayer, in full; nothing that was never a member.
    for (const stayer of stayers) expect(ids).toContain(stayer);
    expect(ids.every((listed) => stayers.includes(listed) || comers.includes(listed))).toBe(true);
    const first = members.find((m) => m.id === stayers[0])!;
    expect(first).toEqual({ id: stayers[0], data: { id: stayers[0] }, status: "online", clients: 1, clientTypes: { device: 1 }, since: expect.any(Number), lastSeen: expect.any(Number) });
  });

  it("lists each member in full, online and offline, as ?stats and herenow count them", async () => {
    const channel = freshChannel("members-counts");
    await heartbeatAll(channel, Array.from({ length: 8 }, (_, i) => id("h", i)));
    // A user with two sockets of two types, and one whose socket closes: offline after the grace.
    for (const clientType of ["web", "app"]) closers.push(((c) => () => c.close())(await joined(keyed.host, { channel, userId: "s-two", userData: { two: true }, clientType })));
    const gone = await joined(keyed.host, { channel, userId: "s-gone", userData: { gone: true }, clientType: "web" });
    gone.close();
    await waitFor("s-gone offline", async () => (await page(channel, 100)).members.find((m) => m.id === "s-gone")?.status === "offline");

    const { members } = await walk(channel, 3);
    const room = await stats(channel);
    const herenow = (await api().hereNow({ channels: [channel], includeUsers: true, distinct: true })).content.channels[channel]!;
    expect(room.mode).toBe("interval");
    expect(members.length).toBe(room.members);
    const online = members.filter((m) => m.status === "online");
    expect(online.length).toBe(room.userAmount);
    expect(online.length).toBe(herenow.userAmount);
    expect(online.reduce((sum, m) => sum + m.clients, 0)).toBe(herenow.clientAmount);
    // herenow's users (distinct) are the online rows, with the same data and client types.
    expect(online.map((m) => ({ id: m.id, data: m.data, clientTypes: m.clientTypes }))).toEqual(herenow.users!.map((u) => ({ id: u.id, data: u.data, clientTypes: u.clientTypes ?? {} })));
    expect(members.find((m) => m.id === "s-two")).toMatchObject({ status: "online", clients: 2, clientTypes: { web: 1, app: 1 }, data: { two: true } });
    const offline = members.find((m) => m.id === "s-gone")!;
    expect(offline).toMatchObject({ status: "offline", clients: 0, data: { gone: true } });
    expect(offline.lastSeen).toBeLessThanOrEqual(offline.since);
    // Every page carries the channel's counts.
    expect(await page(channel, 1)).toMatchObject({ clientAmount: herenow.clientAmount, userAmount: herenow.userAmount, cursor: members[0]!.id });
  });
});
