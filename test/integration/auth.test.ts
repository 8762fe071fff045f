/**
 * Identity and access against real `partykit dev` servers started with auth settings:
 * server A checks HS256 tokens (PRESENCE_AUTH_SECRET), a server key, allowed origins and the
 * newest-per-user policy; server B checks RS256 tokens from a JWKS served on 127.0.0.1, lets
 * anonymous observers in, and applies newest-per-type. Every forged or wrong case is refused
 * at the upgrade with the envelope, counted in the room's stats, and changes nothing anyone sees.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ClientPresenceEvent, PresenceClient, PresenceClientOptions } from "../../client/index.ts";
import { createPresenceDevice } from "../../client/device.ts";
import { createPresenceApi, PresenceHttpError } from "../../client/server.ts";
import { CloseCode, type RoomStats, StatsResponse } from "../../party/protocol/index.ts";
import { freshChannel, PROBE_PREFIX, presenceClient, quietUntil, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer } from "../support/dev-server.ts";
import { type JwksServer, rawToken, SECRET, startJwks, tamper, token, unsignedToken } from "../support/tokens.ts";

const SERVER_KEY = "server-key-for-tests-0123456789";
const APP_ORIGIN = "http://app.example";
const GRACE_MS = 1000;
let a: DevServer;
let b: DevServer;
let jwks: JwksServer;

beforeAll(async () => {
  jwks = await startJwks();
  [a, b] = await Promise.all([
    startDevServer({
      vars: {
        PRESENCE_AUTH_SECRET: SECRET,
        PRESENCE_SERVER_KEY: SERVER_KEY,
        PRESENCE_ALLOWED_ORIGINS: APP_ORIGIN,
        PRESENCE_CLIENT_POLICY: "newest-per-user",
        PRESENCE_AUTH_CLOCK_TOLERANCE_SEC: "0",
      },
      readyOnAnyStatus: true,
    }),
    startDevServer({
      vars: { PRESENCE_AUTH_JWKS_URL: jwks.url, PRESENCE_ALLOW_ANONYMOUS_OBSERVERS: "true", PRESENCE_CLIENT_POLICY: "newest-per-type" },
      readyOnAnyStatus: true,
    }),
  ]);
}, 200_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await jwks?.close();
});

const open: PresenceClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

/** A PresenceClient on a server, kept for closing after the test. */
function client(server: DevServer, options: Omit<PresenceClientOptions, "host">): PresenceClient {
  const c = presenceClient(server.host, options);
  open.push(c);
  return c;
}

/** Records what a client sees (but the probes of `quietUntil`). */
function record(c: PresenceClient): ClientPresenceEvent[] {
  const events: ClientPresenceEvent[] = [];
  c.on("presence", (event) => event.member.id.startsWith(PROBE_PREFIX) || events.push(event));
  return events;
}

/** Tries a raw WebSocket connect: the HTTP refusal, or the open socket. */
function attempt(server: DevServer, channel: string, query: Record<string, string>, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: { code: number; error: string; message: string } } | { socket: WebSocket }>((done, fail) => {
    const ws = new WebSocket(`ws://${server.host}/parties/main/${channel}?${new URLSearchParams(query)}`, { headers });
    ws.once("open", () => done({ socket: ws }));
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_request, response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => done({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
    setTimeout(() => fail(new Error("no answer to the connect")), 10_000);
  });
}

async function stats(server: DevServer, channel: string): Promise<RoomStats> {
  const response = await fetch(`http://${server.host}/parties/main/${channel}?stats`, { headers: { authorization: `Bearer ${SERVER_KEY}` } });
  return StatsResponse.parse(await response.json()).content;
}

describe("connects with tokens (HS256)", () => {
  it("refuses every forged or wrong connect at the upgrade, counts each, and changes nothing", async () => {
    const channel = freshChannel("auth");
    const jack = client(a, { channel, userId: "Jack", token: await token({ userId: "Jack", channels: [channel] }) });
    const watcher = client(a, { channel, token: await token({ observer: true }) });
    await Promise.all([jack.ready(), watcher.ready()]);
    // Jack's ready does not mean the watcher has his join yet (two sockets, no order between them).
    await waitFor("the watcher sees Jack", () => watcher.member("Jack") !== undefined);
    const seen = record(watcher);
    const before = await stats(a, channel);
    const now = Math.floor(Date.now() / 1000);

    const cases: Array<[string, Record<string, string>, number, RegExp, string]> = [
      ["no token", { userId: "Mallory" }, 401, /missing token/, "unauthorized"],
      ["a forged signature", { token: await token({ userId: "Mallory" }, "a-different-secret-of-forty-characters!!") }, 401, /signature/, "unauthorized"],
      ["tampered data", { token: tamper(await token({ userId: "Jack", data: { role: "user" } }), (c) => ({ ...c, data: { role: "admin" } })) }, 401, /signature/, "unauthorized"],
      ["alg none", { token: unsignedToken({ sub: "Mallory" }) }, 401, /algorithm/, "unauthorized"],
      ["an RS256 token where HS256 is the only algorithm", { token: await jwks.sign({ sub: "Mallory" }) }, 401, /algorithm RS256 is not allowed/, "unauthorized"],
      ["an expired token", { token: await rawToken({ sub: "Mallory" }, { exp: now - 30 }) }, 401, /expired/, "unauthorized"],
      ["a token not valid yet", { token: await rawToken({ sub: "Mallory" }, { nbf: now + 300 }) }, 401, /not valid yet/, "unauthorized"],
      ["a channel the token does not open", { token: await token({ userId: "Mallory", channels: ["other-*"] }) }, 403, /does not open channel/, "forbidden"],
      ["a prefix that does not match", { token: await token({ userId: "Mallory", channels: [`${channel}-x*`] }) }, 403, /does not open channel/, "forbidden"],
      ["a userId that is not the token's", { token: await token({ userId: "Mallory" }), userId: "Jack" }, 403, /token is for user Mallory, not Jack/, "forbidden"],
      ["an anonymous observer (not allowed here)", {}, 401, /missing token/, "unauthorized"],
    ];
    const expectedCounts: Record<string, number> = {};
    for (const [what, query, status, why, reason] of cases) {
      const outcome = await attempt(a, channel, query);
      expect("status" in outcome, `${what}: refused before the upgrade`).toBe(true);
      if (!("status" in outcome)) continue;
      expect(outcome.status, what).toBe(status);
      expect(outcome.body.code, what).toBe(status);
      expect(outcome.body.message, what).toMatch(why);
      expectedCounts[reason] = (expectedCounts[reason] ?? 0) + 1;
    }

    // Counted in the room's stats (asynchronously, after the answer); nobody saw anything.
    await waitFor("every refusal counted", async () => {
      const after = await stats(a, channel);
      return Object.entries(expectedCounts).every(([reason, n]) => (after.refusedConnections[reason] ?? 0) - (before.refusedConnections[reason] ?? 0) === n);
    });
    const after = await stats(a, channel);
    expect({ clientAmount: after.clientAmount, userAmount: after.userAmount, members: after.members, sockets: after.sockets }).toEqual({
      clientAmount: before.clientAmount,
      userAmount: before.userAmount,
      members: before.members,
      sockets: before.sockets,
    });
    expect(seen).toEqual([]);
    expect(watcher.members.map((m) => m.id)).toEqual(["Jack"]);
  });

  it("admits a token for a prefix* channel, and the token's userData, which the client cannot change", async () => {
    const channel = freshChannel("auth-room");
    const jwt = await token({ userId: "Jack", data: { name: "Jack", role: "member" }, channels: ["auth-room-*"] });
    const jack = client(a, { channel, userId: "Jack", userData: { role: "admin" }, token: jwt });
    await jack.ready();
    expect(jack.member("Jack")?.data).toEqual({ name: "Jack", role: "member" });
    const errors: string[] = [];
    jack.on("error", (error) => errors.push(error.code));
    jack.setUserData({ role: "admin" });
    await waitFor("the refusal", () => errors.length > 0);
    expect(errors).toEqual(["forbidden"]);
    await sleep(200);
    expect(jack.member("Jack")?.data).toEqual({ name: "Jack", role: "member" });
    expect((await stats(a, channel)).rejectedMessages).toEqual({ forbidden: 1 });

    // dataWritable lets the client change the data the token gave it.
    const ted = client(a, { channel, userId: "Ted", token: await token({ userId: "Ted", data: { v: 1 }, dataWritable: true }) });
    await ted.ready();
    ted.setUserData({ v: 2 });
    await waitFor("Ted's update", () => JSON.stringify(jack.member("Ted")?.data) === '{"v":2}');
  });

  it("renews an expiring token through the provider with no event for anyone, and without renewal the member goes offline after grace", async () => {
    const channel = freshChannel("auth-renew");
    const watcher = client(a, { channel, token: await token({ observer: true }) });
    await watcher.ready();
    const seen = record(watcher);
    let minted = 0;
    const renewing = client(a, {
      channel,
      userId: "Renewer",
      token: async () => {
        minted++;
        return token({ userId: "Renewer", ttlSeconds: 2 });
      },
    });
    const closes: number[] = [];
    renewing.on("close", (event) => closes.push(event.code));
    await renewing.ready();
    await waitFor("two renewals", () => minted >= 3, 15_000);
    await waitFor("the socket open again", () => renewing.socket.readyState === 1);
    await quietUntil(a.host, channel, watcher, Date.now() + GRACE_MS + 300, async (userId) => ({ token: await token({ userId }) }));
    expect(closes.filter((code) => code === CloseCode.tokenExpired).length).toBeGreaterThanOrEqual(2);
    expect(seen.filter((e) => e.member.id === "Renewer").map((e) => e.action)).toEqual(["join"]);
    expect(watcher.member("Renewer")?.status).toBe("online");

    // The same expiring token forever: the reconnect is refused, and grace runs out.
    const stale = await token({ userId: "Stale", ttlSeconds: 2 });
    const stuck = client(a, { channel, userId: "Stale", token: () => stale });
    await stuck.ready();
    await waitFor("Stale offline", () => watcher.member("Stale")?.status === "offline", 15_000);
    expect(seen.filter((e) => e.member.id === "Stale").map((e) => e.action)).toEqual(["join", "offline"]);
    const { refusedConnections, closes: closed } = await stats(a, channel);
    expect(refusedConnections.unauthorized).toBeGreaterThanOrEqual(1);
    expect(closed.tokenExpired).toBeGreaterThanOrEqual(3);
  }, 40_000);

  it("keeps tokens out of the server's log and storage", async () => {
    const channel = freshChannel("auth-secret");
    const jwt = await token({ userId: "Quiet", data: { n: 1 } });
    const quiet = client(a, { channel, userId: "Quiet", token: jwt });
    await quiet.ready();
    const refused = await attempt(a, channel, { token: tamper(jwt, (c) => ({ ...c, sub: "Loud" })) });
    expect(refused).toMatchObject({ status: 401 });
    await sleep(500);
    const signature = jwt.split(".")[2]!;
    expect(a.log()).not.toContain(signature);
    expect(a.log()).not.toContain(SECRET);
    const files = readdirSync(a.persistDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(join(file.parentPath, file.name));
      expect(bytes.includes(signature), `${file.name} holds the token`).toBe(false);
      expect(bytes.includes(SECRET), `${file.name} holds the secret`).toBe(false);
    }
  });
});

describe("HTTP with a server key and tokens", () => {
  it("answers herenow to the server key or a token that opens the channels, and stats only to the server key", async () => {
    const channel = freshChannel("auth-http");
    const other = freshChannel("auth-http-other");
    const jack = client(a, { channel, userId: "Jack", token: await token({ userId: "Jack" }) });
    await jack.ready();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`http://${a.host}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as { code: number; error?: string; message?: string } };
    };
    const key = { authorization: `Bearer ${SERVER_KEY}` };
    const reader = await token({ observer: true, channels: [channel] });

    expect(await get(`/parties/main/${channel}`)).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    expect(await get(`/parties/main/${channel}`, key)).toMatchObject({ status: 200 });
    expect(await get(`/parties/main/${channel}?token=${reader}`)).toMatchObject({ status: 200 });
    expect(await get(`/parties/main/${channel}`, { authorization: `Bearer ${reader}` })).toMatchObject({ status: 200 });
    expect(await get(`/parties/main/${other}?token=${reader}`)).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect(await get(`/herenow?channel=${channel}&channel=${other}&token=${reader}`)).toMatchObject({ status: 403 });
    expect(await get(`/herenow?channel=${channel}&token=${reader}`)).toMatchObject({ status: 200 });
    expect(await get(`/herenow?channel=${channel}&channel=${other}`)).toMatchObject({ status: 401 });
    expect(await get(`/herenow?channel=${channel}&channel=${other}`, key)).toMatchObject({ status: 200 });

    expect(await get(`/users?userId=Jack`)).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    expect(await get(`/users?userId=Jack&token=${reader}`)).toMatchObject({ status: 401 });
    expect(await get(`/users?userId=Jack`, key)).toMatchObject({ status: 200 });
    expect(await get(`/parties/main/${channel}?stats&token=${reader}`)).toMatchObject({ status: 401 });
    expect(await get(`/parties/main/${channel}?stats`, { authorization: "Bearer wrong-key" })).toMatchObject({ status: 401, body: { message: "wrong server key" } });
    expect(await get(`/parties/main/${channel}?stats`, key)).toMatchObject({ status: 200 });

    // The helpers send the key (server) or the token (client).
    const api = createPresenceApi({ host: a.host, serverKey: SERVER_KEY });
    expect((await api.hereNow({ channels: [channel], includeUsers: true })).content.channels[channel]?.users).toEqual([{ id: "Jack", data: null }]);
    await waitFor("Jack in the directory", async () => (await api.users(["Jack"])).Jack?.online === true);
    await expect(createPresenceApi({ host: a.host }).stats(channel)).rejects.toThrow(PresenceHttpError);
    const overHttp = await jack.hereNow({ channels: [channel] });
    expect(overHttp.content.channels[channel]).toMatchObject({ userAmount: 1 });
    // Each refusal is counted in the room it was for (asynchronously, after the answer).
    await waitFor("the refusals counted", async () => JSON.stringify((await stats(a, channel)).refusedRequests) === '{"unauthorized":4}');
    await waitFor("the other room's refusal counted", async () => JSON.stringify((await stats(a, other)).refusedRequests) === '{"forbidden":1}');
  });

  it("keeps a device by its own token (for its own user only) or by the server key, and lists devices to the server key only", async () => {
    const channel = freshChannel("auth-device");
    const own = await token({ userId: "Sensor", channels: [channel], clientType: "sensor" });
    const device = createPresenceDevice({ host: a.host, channel, clientId: "s-1", userId: "Sensor", ttlMs: 30_000, token: own });
    expect(await device.start()).toMatchObject({ userId: "Sensor", clientType: "sensor" });
    const put = (clientId: string, body: unknown, headers: Record<string, string>) =>
      fetch(`http://${a.host}/parties/main/${channel}/clients/${clientId}`, { method: "PUT", headers, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } }));
    expect(await put("s-2", { userId: "Other", ttlMs: 5000 }, { authorization: `Bearer ${own}` })).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect(await put("s-2", { userId: "Other", ttlMs: 5000 }, {})).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    expect(await put("s-2", { userId: "Other", ttlMs: 5000 }, { authorization: `Bearer ${SERVER_KEY}` })).toMatchObject({ status: 200 });
    const listing = await fetch(`http://${a.host}/parties/main/${channel}/clients?token=${own}`);
    expect(listing.status).toBe(401);
    const api = createPresenceApi({ host: a.host, serverKey: SERVER_KEY });
    expect((await api.clients(channel)).clients.map((c) => `${c.clientId}:${c.userId}:${c.clientType}`)).toEqual(["s-1:Sensor:sensor", "s-2:Other:device"]);
    await waitFor("the refusals counted", async () => {
      const { forbidden, unauthorized, ...rest } = (await stats(a, channel)).refusedRequests;
      return forbidden === 1 && unauthorized === 2 && Object.keys(rest).length === 0;
    });
    await device.stop();
    await api.removeClient(channel, "s-2");
    expect((await stats(a, channel)).httpClients).toBe(0);
  });

  it("refuses browsers from other origins, and names the allowed origin in CORS answers", async () => {
    const channel = freshChannel("auth-origin");
    const jwt = await token({ userId: "Web" });
    const evil = await attempt(a, channel, { token: jwt }, { origin: "http://evil.example" });
    expect(evil).toMatchObject({ status: 403, body: { error: "forbidden", message: expect.stringMatching(/origin http:\/\/evil.example is not allowed/) } });
    const good = await attempt(a, channel, { token: jwt }, { origin: APP_ORIGIN });
    expect("socket" in good).toBe(true);
    if ("socket" in good) good.socket.close();

    const allowed = await fetch(`http://${a.host}/parties/main/${channel}`, { headers: { origin: APP_ORIGIN, authorization: `Bearer ${SERVER_KEY}` } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(allowed.headers.get("vary")).toMatch(/origin/i);
    const preflight = await fetch(`http://${a.host}/herenow?channel=${channel}`, { method: "OPTIONS", headers: { origin: APP_ORIGIN } });
    expect(preflight.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    const refused = await fetch(`http://${a.host}/herenow?channel=${channel}`, { headers: { origin: "http://evil.example", authorization: `Bearer ${SERVER_KEY}` } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    await waitFor("the origin refusal counted", async () => (await stats(a, channel)).refusedConnections.origin === 1);
  });
});

describe("one-client policies", () => {
  it("newest-per-user: a user's new socket replaces the older ones, which are told and stay closed; nobody sees offline or online", async () => {
    const channel = freshChannel("policy-user");
    const watcher = client(a, { channel, token: await token({ observer: true }) });
    await watcher.ready();
    const seen = record(watcher);
    const jwt = await token({ userId: "Solo" });
    const tabs: PresenceClient[] = [];
    const closes: number[][] = [];
    for (const clientType of ["web", "app", "web"]) {
      const tab = client(a, { channel, userId: "Solo", clientType, token: jwt });
      const codes: number[] = [];
      tab.on("close", (event) => codes.push(event.code));
      tabs.push(tab);
      closes.push(codes);
      await tab.ready();
      await waitFor("the watcher to count one client of Solo", () => watcher.member("Solo")?.clients === 1 && watcher.member("Solo")?.clientTypes[clientType] === 1);
    }
    const replacedAt = Date.now();
    await waitFor("both older tabs told", () => closes[0]!.length > 0 && closes[1]!.length > 0);
    // Past a grace period after the replacements (a replaced tab wrongly left in grace would be
    // announced offline by then), and proven seen by the watcher.
    await quietUntil(a.host, channel, watcher, replacedAt + GRACE_MS + 500, async (userId) => ({ token: await token({ userId }) }));
    expect(closes.map((codes) => codes[0])).toEqual([CloseCode.replacedByPolicy, CloseCode.replacedByPolicy, undefined]);
    expect(tabs.map((tab) => tab.socket.readyState)).toEqual([3, 3, 1]);
    expect(seen.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join Solo"]);
    expect(watcher.member("Solo")).toMatchObject({ status: "online", clients: 1, clientTypes: { web: 1 } });
    expect((await stats(a, channel)).replacedClients).toEqual({ "newest-per-user": 2 });
  });

  it("newest-per-type: a second socket of the same type replaces the first, another type stays", async () => {
    const channel = freshChannel("policy-type");
    const watcher = client(b, { channel });
    await watcher.ready();
    const seen = record(watcher);
    const connect = async (clientType: string) => {
      const tab = client(b, { channel, userId: "Duo", clientType, token: await jwks.sign({ sub: "Duo" }) });
      await tab.ready();
      return tab;
    };
    const web1 = await connect("web");
    const app = await connect("app");
    const closed: number[] = [];
    web1.on("close", (event) => closed.push(event.code));
    const web2 = await connect("web");
    await waitFor("the first web tab replaced", () => closed.length === 1);
    expect(closed).toEqual([CloseCode.replacedByPolicy]);
    await waitFor("the watcher's counts", () => watcher.member("Duo")?.clients === 2);
    expect(watcher.member("Duo")).toMatchObject({ status: "online", clients: 2, clientTypes: { web: 1, app: 1 } });
    expect([app.socket.readyState, web2.socket.readyState]).toEqual([1, 1]);
    await quietUntil(b.host, channel, watcher, Date.now() + GRACE_MS + 300, async (userId) => ({ token: await jwks.sign({ sub: userId }) }));
    expect(seen.map((e) => `${e.action} ${e.member.id}`)).toEqual(["join Duo"]);
  });
});

describe("connects with tokens from a JWKS (RS256)", () => {
  it("admits RS256 tokens, refuses HMAC ones (the algorithm-confusion forgery included), and lets anonymous observers in", async () => {
    const channel = freshChannel("jwks");
    const rs = client(b, { channel, userId: "Rsa", token: await jwks.sign({ sub: "Rsa" }) });
    await rs.ready();
    const anonymous = client(b, { channel });
    await anonymous.ready();
    expect(anonymous.members.map((m) => m.id)).toEqual(["Rsa"]);
    for (const forged of [await jwks.confused({ sub: "Mallory" }), await token({ userId: "Mallory" })]) {
      expect(await attempt(b, channel, { token: forged })).toMatchObject({ status: 401, body: { message: expect.stringMatching(/algorithm HS256 is not allowed/) } });
    }
    expect(await attempt(b, channel, { userId: "Anon" })).toMatchObject({ status: 401, body: { message: expect.stringMatching(/only observers/) } });
    await sleep(300);
    expect(anonymous.members.map((m) => m.id)).toEqual(["Rsa"]);
  });
});
