/** The edge's access decisions, with real tokens: who a connect may be, and who may read over HTTP. */
import { describe, expect, it } from "vitest";
import { admitConnect, appkeyOpens, authorizeRequest, checkOrigin, sameSecret } from "../../party/edge/access.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { loadConfig } from "../../party/server/config.ts";
import { type Handshake, parseHandshake } from "../../party/wire/handshake.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { mintAdminToken } from "../../party/edge/admin.ts";
import { memoryService, requestThroughEdge } from "../support/memory-edge.ts";
import { SECRET, token } from "../support/tokens.ts";

const SERVER_KEY = "server-key-0123456789";
const auth = loadConfig({ PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_ALLOWED_ORIGINS: "https://app.example, https://admin.example/" });
const open = loadConfig({});
const observersToo = loadConfig({ PRESENCE_AUTH_SECRET: SECRET, PRESENCE_ALLOW_ANONYMOUS_OBSERVERS: "true" });

/** What a check threw (the test fails when it threw nothing). */
async function refusal(check: () => unknown): Promise<unknown> {
  try {
    await check();
  } catch (error) {
    return error;
  }
  throw new Error("the check let it through");
}

/** Runs a connect to `channel` with this query through the edge's decision. */
async function connect(query: Record<string, string>, config = auth, channel = "room-1") {
  const params = new URLSearchParams(query);
  const handshake = parseHandshake(params, config.maxUserDataBytes);
  if (!handshake.ok) throw new Error(handshake.message);
  return admitConnect(params, channel, handshake.value, config);
}

describe("admitConnect", () => {
  it("takes the handshake as sent when auth is off (development)", async () => {
    expect(await connect({ userId: "Jack", userData: '{"a":1}' }, open)).toMatchObject({ userId: "Jack", userData: { a: 1 }, dataLocked: false, expiresAt: null });
  });

  it("takes the userId, data and clientType from the token, and locks the data", async () => {
    const jwt = await token({ userId: "Jack", data: { role: "admin" }, clientType: "app" });
    const admitted = await connect({ token: jwt, userId: "Jack", userData: '{"role":"user"}' });
    expect(admitted).toMatchObject({ userId: "Jack", userData: { role: "admin" }, clientType: "app", dataLocked: true });
    expect((admitted as { expiresAt: number }).expiresAt).toBeGreaterThan(Date.now());
  });

  it("leaves the data to the client when the token has none, or says dataWritable", async () => {
    expect(await connect({ token: await token({ userId: "Jack" }), userId: "Jack", userData: '{"v":1}' })).toMatchObject({ userData: { v: 1 }, dataLocked: false });
    expect(await connect({ token: await token({ userId: "Jack", data: { v: 0 }, dataWritable: true }) })).toMatchObject({ userData: { v: 0 }, dataLocked: false });
  });

  it.each<[string, () => Promise<Record<string, string>>, number, RegExp]>([
    ["no token", async () => ({ userId: "Jack" }), 401, /missing token/],
    ["an empty token", async () => ({ token: "" }), 401, /missing token/],
    ["a userId that is not the token's", async () => ({ token: await token({ userId: "Jack" }), userId: "Ted" }), 403, /token is for user Jack, not Ted/],
    ["a channel the token does not open", async () => ({ token: await token({ userId: "Jack", channels: ["lobby", "team-*"] }) }), 403, /does not open channel room-1/],
    ["a clientType other than the pinned one", async () => ({ token: await token({ userId: "Jack", clientType: "app" }), clientType: "web" }), 403, /pins clientType app, not web/],
    ["an observer token that asks for a userId", async () => ({ token: await token({ observer: true }), userId: "Jack" }), 403, /observer token cannot join as a user/],
    ["a bad token", async () => ({ token: "x.y.z" }), 401, /malformed|algorithm/],
  ])("refuses %s", async (_what, query, status, why) => {
    const params = await query();
    expect(await refusal(() => connect(params))).toMatchObject({ status, message: expect.stringMatching(why) });
  });

  it("refuses a token given twice", async () => {
    const jwt = await token({ userId: "a" });
    const params = new URLSearchParams([["token", jwt], ["token", jwt]]);
    const handshake: Handshake = { connectionId: undefined, userId: null, userData: null, clientType: undefined, window: 0 };
    expect(await refusal(() => admitConnect(params, "room-1", handshake, auth))).toMatchObject({ status: 401, message: "token is given more than once" });
  });

  it("opens a prefix* channel to a token that names the prefix", async () => {
    expect(await connect({ token: await token({ userId: "Jack", channels: ["room-*"] }) })).toMatchObject({ userId: "Jack" });
  });

  it("makes an observer of an observer token, with no userData", async () => {
    expect(await connect({ token: await token({ observer: true }) })).toMatchObject({ userId: null, userData: null });
  });

  it("lets an anonymous observer in only when PRESENCE_ALLOW_ANONYMOUS_OBSERVERS is on", async () => {
    expect(await refusal(() => connect({}))).toMatchObject({ status: 401 });
    expect(await connect({}, observersToo)).toMatchObject({ userId: null, expiresAt: null });
    expect(await refusal(() => connect({ userId: "Jack" }, observersToo))).toMatchObject({ status: 401, message: expect.stringMatching(/only observers/) });
  });
});

describe("authorizeRequest", () => {
  const url = (path: string) => new URL(`http://h${path}`);
  const request = (headers: Record<string, string> = {}) => new Request("http://h/", { headers });

  it("lets the server key through every route, and refuses a wrong or missing one on server routes", async () => {
    expect(await authorizeRequest(request({ authorization: `Bearer ${SERVER_KEY}` }), url("/?stats"), { serverKey: true }, auth)).toBeUndefined();
    expect(await authorizeRequest(request({ authorization: `Bearer ${SERVER_KEY}` }), url("/"), { channels: ["a"] }, auth)).toBeUndefined();
    expect(await refusal(() => authorizeRequest(request({ authorization: "Bearer nope" }), url("/?stats"), { serverKey: true }, auth))).toMatchObject({ status: 401, message: "wrong server key" });
    expect(await refusal(() => authorizeRequest(request(), url("/?stats"), { serverKey: true }, auth))).toMatchObject({ status: 401, message: expect.stringMatching(/missing server key/) });
  });

  it("opens herenow to a token whose channels cover every channel asked, in ?token= or as a bearer", async () => {
    const jwt = await token({ observer: true, channels: ["room-*"] });
    expect(await authorizeRequest(request(), url(`/?token=${jwt}`), { channels: ["room-1", "room-2"] }, auth)).toBeUndefined();
    expect(await authorizeRequest(request({ authorization: `Bearer ${jwt}` }), url("/"), { channels: ["room-1"] }, auth)).toBeUndefined();
    expect(await refusal(() => authorizeRequest(request(), url(`/?token=${jwt}`), { channels: ["room-1", "lobby"] }, auth))).toMatchObject({
      status: 403,
      message: "the token does not open channel lobby",
    });
    expect(await refusal(() => authorizeRequest(request(), url("/"), { channels: ["room-1"] }, auth))).toMatchObject({ status: 401 });
  });

  it("is open without auth and without a server key, and refuses server routes with auth on but no key", async () => {
    expect(await authorizeRequest(request(), url("/?stats"), { serverKey: true }, open)).toBeUndefined();
    expect(await authorizeRequest(request(), url("/"), { channels: ["a"] }, open)).toBeUndefined();
    expect(await refusal(() => authorizeRequest(request(), url("/?stats"), { serverKey: true }, observersToo))).toMatchObject({ status: 403, message: expect.stringMatching(/PRESENCE_SERVER_KEY is not set/) });
  });
});

describe("appkeyOpens (GoEasy's REST herenow: the key in the query)", () => {
  const url = (query: string) => new URL(`http://x/herenow?channel=c${query}`);

  it("is true for the server key, false when no appkey is given, and refuses a wrong key, two keys, or a key no setting can match", async () => {
    expect(await appkeyOpens(url(`&appkey=${SERVER_KEY}`), auth)).toBe(true);
    expect(await appkeyOpens(url(""), auth)).toBe(false);
    expect(await refusal(() => appkeyOpens(url("&appkey=guess"), auth))).toMatchObject({ status: 401, message: expect.stringContaining("appkey") });
    expect(await refusal(() => appkeyOpens(url(`&appkey=${SERVER_KEY}&appkey=${SERVER_KEY}`), auth))).toMatchObject({ status: 401 });
    expect(await refusal(() => appkeyOpens(url("&appkey=any"), observersToo))).toMatchObject({ status: 403 });
    expect(await appkeyOpens(url("&appkey=any"), open)).toBe(true);
  });

  it("opens GET /herenow with auth on, and no other route", async () => {
    const { edge } = memoryService({ PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY });
    const get = (path: string) => edgeFetch(new Request(`http://memory${path}`), edge);
    expect((await get("/herenow?channel=c")).status).toBe(401);
    const answered = await get(`/herenow?appkey=${SERVER_KEY}&channel=c&includeUsers=true&distinct=true`);
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ code: 200, content: { channels: { c: { channel: "c", clientAmount: 0, userAmount: 0, clientTypes: {}, users: [] } } } });
    const wrong = await get("/herenow?appkey=guess-0123&channel=c");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("guess-0123");
    expect((await get(`/users?userId=u&appkey=${SERVER_KEY}`)).status).toBe(401);
  });
});

describe("checkOrigin", () => {
  const from = (origin?: string) => new Request("http://h/", origin ? { headers: { origin } } : {});

  it("allows listed origins (a trailing slash in the setting is ignored) and requests without an Origin", () => {
    expect(checkOrigin(from("https://app.example"), auth)).toBeUndefined();
    expect(checkOrigin(from("https://admin.example"), auth)).toBeUndefined();
    expect(checkOrigin(from(), auth)).toBeUndefined();
    expect(checkOrigin(from("https://evil.example"), open)).toBeUndefined();
  });

  it("refuses any other origin with 403", async () => {
    expect(await refusal(() => checkOrigin(from("https://evil.example"), auth))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await refusal(() => checkOrigin(from("https://app.example.evil.example"), auth))).toMatchObject({ status: 403 });
  });
});

describe("sameSecret", () => {
  it("is true only for the same text", async () => {
    expect(await sameSecret("abc", "abc")).toBe(true);
    expect(await sameSecret("abc", "abd")).toBe(false);
    expect(await sameSecret("abc", "abcd")).toBe(false);
    expect(await sameSecret("", "abc")).toBe(false);
  });
});

describe("the admin member listing at the edge", () => {
  const keyedEnv = { PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_TICK_MS: "50" };

  it("takes only the server key or an admin token, not a user token that reads the channel's herenow, counting each refusal", async () => {
    const { world, edge } = memoryService(keyedEnv);
    const room = await world.room<SocketState>("main", "listed");
    const user = { authorization: `Bearer ${await token({ userId: "ann", channels: ["listed"] })}` };
    expect((await requestThroughEdge(room, edge, "GET", "?includeUsers=true", undefined, user)).status).toBe(200);
    expect(await requestThroughEdge(room, edge, "GET", "?members", undefined, user)).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    expect(await requestThroughEdge(room, edge, "GET", "?members")).toMatchObject({ status: 401, body: { error: "unauthorized", message: expect.stringMatching(/missing server key/) } });
    const admin = (await mintAdminToken(loadConfig(keyedEnv)))!.token;
    const page = await requestThroughEdge(room, edge, "GET", "?members&limit=5", undefined, { authorization: `Bearer ${admin}` });
    expect(page).toMatchObject({ status: 200, body: { content: { channel: "listed", members: [], clientAmount: 0, userAmount: 0 } } });
    expect(await requestThroughEdge(room, edge, "GET", "?members&limit=1001", undefined, { authorization: `Bearer ${SERVER_KEY}` })).toMatchObject({ status: 400, body: { error: "bad_request" } });
    await new Promise((done) => setTimeout(done, 10));
    const stats = (await requestThroughEdge(room, edge, "GET", "?stats", undefined, { authorization: `Bearer ${SERVER_KEY}` })).body.content;
    expect(stats.refusedRequests).toEqual({ unauthorized: 2, bad_request: 1 });
  });

  it("is refused with 403 when client auth is on and no server key is set", async () => {
    const { world, edge } = memoryService({ PRESENCE_AUTH_SECRET: SECRET, PRESENCE_TICK_MS: "50" });
    const room = await world.room<SocketState>("main", "listed");
    expect(await requestThroughEdge(room, edge, "GET", "?members")).toMatchObject({ status: 403, body: { error: "forbidden", message: expect.stringMatching(/PRESENCE_SERVER_KEY is not set/) } });
  });
});
