/**
 * Identifiers at every entrance, against this run's engine (`partykit dev` or `wrangler dev`):
 * a userId holding a control character, a line separator, a bidi control or a lone surrogate
 * (and an HTTP client's clientId holding a control character) is refused where it comes in,
 * with the error that entrance uses, counted in the channel's stats where a channel's room is
 * involved, and it changes nothing; ids in any script, with spaces or emoji, still join under
 * exactly that id. The open entrances run on the shared server; tokens and member-to-member
 * pushes on a server of this file's own (auth on, a server key, PRESENCE_CLIENT_PUSH).
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClientPresenceEvent, PresenceClient, PresenceClientOptions } from "../../client/index.ts";
import { ErrorResponse, type RoomStats, StatsResponse, USER_ID_RULE } from "../../party/protocol/index.ts";
import { freshChannel, PROBE_PREFIX, presenceClient, quietUntil, type RawSocket, rawSocket, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { rawToken, SECRET, token } from "../support/tokens.ts";

const shared = inject("host");
const SERVER_KEY = "identifiers-test-server-key-0123456789";
let own: DevServer;

beforeAll(async () => {
  own = await startDevServer({
    vars: { PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_CLIENT_PUSH: "true" },
    readyOnAnyStatus: true,
  });
}, 150_000);

afterAll(async () => {
  await own?.stop();
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** userIds that break the rule, each with what it holds; all of them travel in a URL or in JSON. */
const BAD: Array<[string, string]> = [
  ["a NUL", "a\u0000b"],
  ["U+0001", "\u0001x"],
  ["a line feed", "x\nroot"],
  ["DEL", "x\u007f"],
  ["NEL (U+0085)", "x\u0085y"],
  ["the line separator U+2028", "x\u2028y"],
  ["RLO (U+202E)", "\u202ex"],
];
/** Only JSON carries a lone surrogate (a URL is UTF-8: percent-decoding turns its bytes into U+FFFD). */
const LONE: [string, string] = ["a lone surrogate", "x\ud800"];
/** The same in a path: the UTF-8 bytes of U+D800, which decode to no string. */
const LONE_IN_PATH = "%ED%A0%80";

/** The rule's words in zod's report of a field (`✖ RULE\n  → at userId`). */
const RULE = new RegExp(USER_ID_RULE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

const enc = encodeURIComponent;

/** A client on `host`, ready, closed after the test. */
async function member(host: string, options: Omit<PresenceClientOptions, "host">): Promise<PresenceClient> {
  const client = presenceClient(host, options);
  cleanups.push(() => client.close());
  await client.ready();
  return client;
}

/** A raw socket with its snapshot, closed after the test. */
async function raw(host: string, channel: string, query: Record<string, string> = {}): Promise<RawSocket> {
  const socket = await rawSocket(host, channel, query);
  cleanups.push(() => socket.ws.close());
  await waitFor("the snapshot", () => socket.messages.some((m) => m.type === "sync" && !m.more));
  return socket;
}

/** Sends one frame and returns the `error` it is answered with. */
async function errorReply(socket: RawSocket, message: unknown) {
  const before = socket.messages.filter((m) => m.type === "error").length;
  socket.send(message);
  const errors = await waitFor("an error reply", () => {
    const all = socket.messages.filter((m) => m.type === "error");
    return all.length > before ? all : null;
  });
  return errors[before] as { type: "error"; code: string; message: string };
}

/** What a client sees happen (but the probes of `quietUntil`). */
function record(client: PresenceClient): ClientPresenceEvent[] {
  const seen: ClientPresenceEvent[] = [];
  client.on("presence", (event) => event.member.id.startsWith(PROBE_PREFIX) || seen.push(event));
  return seen;
}

async function stats(host: string, channel: string): Promise<RoomStats> {
  const headers: Record<string, string> = host === own.host ? { authorization: `Bearer ${SERVER_KEY}` } : {};
  const response = await fetch(`http://${host}/parties/main/${channel}?stats`, { headers });
  return StatsResponse.parse(await response.json()).content;
}

/** Waits until `group[reason]` grew by `n` since `before` (counts reach the room after the answer), and checks it did not overshoot. */
async function counted(host: string, channel: string, before: RoomStats, group: "refusedConnections" | "refusedRequests" | "rejectedMessages", reason: string, n: number) {
  const grown = async () => ((await stats(host, channel))[group][reason] ?? 0) - (before[group][reason] ?? 0);
  await waitFor(`${n} ${group}.${reason} counted`, async () => (await grown()) >= n);
  expect(await grown(), `${group}.${reason}`).toBe(n);
}

/** An HTTP request: its status and error envelope (or body). */
async function call(host: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(`http://${host}${path}`, init);
  return { status: response.status, body: await response.json() };
}

/** Asserts a 400 bad_request whose message names the userId rule (or `message`). */
function expectBadRequest(answer: { status: number; body: unknown }, what: string, message: RegExp = RULE) {
  expect(answer.status, what).toBe(400);
  const error = ErrorResponse.parse(answer.body);
  expect(error.error, what).toBe("bad_request");
  expect(error.message, what).toMatch(message);
}

describe("the connect query (?userId=, checked at the edge and by the client)", () => {
  it("refuses a userId with a forbidden character before the upgrade with 400 bad_request naming the rule, counts each as bad_handshake, and changes nothing", async () => {
    const channel = freshChannel("ids-connect");
    const watcher = await member(shared, { channel, userId: "Watcher" });
    const seen = record(watcher);
    const before = await stats(shared, channel);

    for (const [what, id] of BAD) {
      const { status, body } = await refusedConnect(shared, `/parties/main/${channel}?userId=${enc(id)}`);
      expect(status, what).toBe(400);
      expect(ErrorResponse.parse(JSON.parse(body)), what).toEqual({ code: 400, error: "bad_request", message: `refused: ${USER_ID_RULE}` });
      // The client checks the same rule before it dials.
      expect(() => presenceClient(shared, { channel, userId: id }), what).toThrow(USER_ID_RULE);
    }

    await counted(shared, channel, before, "refusedConnections", "bad_handshake", BAD.length);
    await quietUntil(shared, channel, watcher, Date.now());
    expect(seen).toEqual([]);
    expect(watcher.members.map((m) => m.id)).toEqual(["Watcher"]);
    // A channel in one room: `shards` has that room alone, with every client.
    expect(await stats(shared, channel)).toMatchObject({ clientAmount: 1, userAmount: 1, sockets: 1, shards: [{ shard: 0, clientAmount: 1 }] });
  });

  it("admits ids in any script, with spaces, right-to-left text and emoji, under exactly that id", async () => {
    const channel = freshChannel("ids-ok");
    const ids = ["用户", "a b", "مستخدم", "😀", "👩‍👩‍👧", "Zoë 🇫🇷"];
    const watcher = await member(shared, { channel });
    for (const id of ids) await member(shared, { channel, userId: id, userData: { id } });
    await waitFor("every id online", () => ids.every((id) => watcher.member(id)?.status === "online"));
    expect(watcher.members.map((m) => [m.id, m.data]).sort()).toEqual(ids.map((id) => [id, { id }]).sort());
    const herenow = await call(shared, "GET", `/parties/main/${channel}?includeUsers=true&distinct=true`);
    expect(herenow.body.content.channels[channel].users.map((u: { id: string }) => u.id).sort()).toEqual([...ids].sort());
  });
});

describe("a token's sub (checked at the edge)", () => {
  it("refuses a token whose sub breaks the rule with 401 at a connect, an HTTP client and a herenow, counts each as unauthorized, and changes nothing", async () => {
    const channel = freshChannel("ids-token");
    const jack = await member(own.host, { channel, userId: "Jack", token: () => token({ userId: "Jack", channels: ["*"] }) });
    const seen = record(jack);
    const before = await stats(own.host, channel);

    const cases = [...BAD, LONE];
    for (const [what, id] of cases) {
      const jwt = await rawToken({ sub: id, channels: ["*"] });
      const tokenRefusal = (answer: { status: number; body: unknown }, where: string) => {
        expect(answer.status, `${what}: ${where}`).toBe(401);
        const error = ErrorResponse.parse(answer.body);
        expect(error.error, `${what}: ${where}`).toBe("unauthorized");
        expect(error.message, `${what}: ${where}`).toMatch(/token claims are not valid/);
        expect(error.message, `${what}: ${where}`).toMatch(RULE);
      };
      const connect = await refusedConnect(own.host, `/parties/main/${channel}?token=${jwt}`);
      tokenRefusal({ status: connect.status, body: JSON.parse(connect.body) }, "connect");
      tokenRefusal(await call(own.host, "PUT", `/parties/main/${channel}/clients/dev-1`, { userId: id, ttlMs: 30_000 }, { authorization: `Bearer ${jwt}` }), "HTTP client");
      tokenRefusal(await call(own.host, "GET", `/parties/main/${channel}?token=${jwt}`), "herenow");
    }

    await counted(own.host, channel, before, "refusedConnections", "unauthorized", cases.length);
    await counted(own.host, channel, before, "refusedRequests", "unauthorized", 2 * cases.length);
    await quietUntil(own.host, channel, jack, Date.now(), async (userId) => ({ token: await token({ userId, channels: ["*"] }) }));
    expect(seen).toEqual([]);
    expect(await stats(own.host, channel)).toMatchObject({ clientAmount: 1, userAmount: 1, httpClients: 0, sockets: 1 });
    // The app server's helper does not sign one.
    await expect(token({ userId: "a\u0000b" })).rejects.toThrow(USER_ID_RULE);
  });
});

describe("HTTP clients (heartbeats, batches, removal, the listing)", () => {
  it("refuses a bad userId in a heartbeat or batch, and a clientId with a control character anywhere, with 400 bad_request, counts each, and changes nothing", async () => {
    const channel = freshChannel("ids-http");
    const watcher = await member(shared, { channel });
    const seen = record(watcher);
    const kept = await call(shared, "PUT", `/parties/main/${channel}/clients/keep-1`, { userId: "Keeper", ttlMs: 60_000, data: { v: 1 } });
    expect(kept.status).toBe(200);
    await waitFor("the watcher sees the kept client", () => watcher.member("Keeper")?.status === "online");
    const listing = async () => (await call(shared, "GET", `/parties/main/${channel}/clients`)).body.content.clients;
    const listed = await listing();
    seen.length = 0;
    const before = await stats(shared, channel);

    const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, RegExp]> = [
      ...BAD.map(([what, id]): [string, () => Promise<{ status: number; body: unknown }>, RegExp] => [
        `a heartbeat for ${what}`,
        () => call(shared, "PUT", `/parties/main/${channel}/clients/dev-1`, { userId: id, ttlMs: 30_000 }),
        RULE,
      ]),
      [`a heartbeat for ${LONE[0]} (JSON's escape)`, () => call(shared, "PUT", `/parties/main/${channel}/clients/dev-1`, '{"userId":"x\\ud800","ttlMs":30000}'), RULE],
      [
        "a batch with one bad userId (the whole batch is refused, the good one too)",
        () => call(shared, "POST", `/parties/main/${channel}/clients`, { clients: [{ clientId: "dev-2", userId: "Fine", ttlMs: 30_000 }, { clientId: "dev-3", userId: "x\u2029y", ttlMs: 30_000 }] }),
        RULE,
      ],
      ["a heartbeat to a clientId with a NUL", () => call(shared, "PUT", `/parties/main/${channel}/clients/dev%00`, { userId: "Fine", ttlMs: 30_000 }), /client id may only hold/],
      ["a batch with a clientId with a BEL", () => call(shared, "POST", `/parties/main/${channel}/clients`, { clients: [{ clientId: "dev\u0007", userId: "Fine", ttlMs: 30_000 }] }), /client id may only hold/],
      ["a removal of a clientId with an ESC", () => call(shared, "DELETE", `/parties/main/${channel}/clients/keep-1%1B`), /client id may only hold/],
      ["a listing from a cursor with a line feed", () => call(shared, "GET", `/parties/main/${channel}/clients?cursor=keep%0A`), /client id may only hold/],
    ];
    for (const [what, send, message] of cases) expectBadRequest(await send(), what, message);

    await counted(shared, channel, before, "refusedRequests", "bad_request", cases.length);
    await quietUntil(shared, channel, watcher, Date.now());
    expect(seen).toEqual([]);
    expect(await listing()).toEqual(listed);
    expect(watcher.members.map((m) => [m.id, m.data])).toEqual([["Keeper", { v: 1 }]]);
    expect(await stats(shared, channel)).toMatchObject({ httpClients: 1, clientAmount: 1, userAmount: 1 });
  });
});

describe("GET and POST /users", () => {
  it("refuses a bad userId among the ids asked with 400 bad_request naming the rule (no channel to count it in)", async () => {
    const channel = freshChannel("ids-users");
    const userId = `ids-known-${Date.now().toString(36)}`;
    await member(shared, { channel, userId });
    const status = async () => (await call(shared, "GET", `/users?userId=${enc(userId)}`)).body.content.users[userId];
    await waitFor("the directory knows the user", async () => (await status()).online === true);
    const known = await status();

    for (const [what, id] of BAD) {
      expectBadRequest(await call(shared, "GET", `/users?userId=${enc(userId)}&userId=${enc(id)}`), `GET with ${what}`);
      expectBadRequest(await call(shared, "POST", "/users", { userIds: [userId, id] }), `POST with ${what}`);
    }
    expectBadRequest(await call(shared, "POST", "/users", `{"userIds":["${userId}","x\\udc00"]}`), `POST with ${LONE[0]}`);

    expect(await status()).toEqual(known);
  });
});

describe("POST /users/USERID/push, and a member's push over its socket", () => {
  it("refuses a push to a bad userId in the path with 400 bad_request; nothing is delivered", async () => {
    const channel = freshChannel("ids-push");
    const userId = `ids-pushed-${Date.now().toString(36)}`;
    const target = await member(shared, { channel, userId });
    const got: unknown[] = [];
    target.on("push", (data) => void got.push(data));
    await waitFor("the directory knows the user", async () => (await call(shared, "GET", `/users?userId=${enc(userId)}`)).body.content.users[userId].online);

    for (const [what, suffix] of BAD) {
      expectBadRequest(await call(shared, "POST", `/users/${enc(userId + suffix)}/push`, { data: { n: 1 }, channel, timeoutMs: 1000 }), what);
    }
    expectBadRequest(await call(shared, "POST", `/users/${LONE_IN_PATH}/push`, { data: { n: 1 } }), LONE[0], /not percent-encoded UTF-8/);

    // A good push afterwards is the first one the user gets.
    const good = await call(shared, "POST", `/users/${enc(userId)}/push`, { data: { n: 2 } });
    expect(good.status).toBe(200);
    expect(got).toEqual([{ n: 2 }]);
  });

  it("answers a member's push to a bad userId with an error frame bad_message naming the rule, counts it, and runs no push", async () => {
    const channel = freshChannel("ids-member-push");
    const bob = await member(own.host, { channel, userId: "Bob", token: () => token({ userId: "Bob", channels: ["*"] }) });
    const got: unknown[] = [];
    bob.on("push", (data) => void got.push(data));
    const ann = await raw(own.host, channel, { userId: "Ann", token: await token({ userId: "Ann", channels: ["*"] }) });
    const before = await stats(own.host, channel);

    const cases = [...BAD.map(([what, suffix]): [string, string] => [what, `Bob${suffix}`]), LONE];
    for (const [i, [what, id]] of cases.entries()) {
      const reply = await errorReply(ann, { type: "push", id: `bad-${i}`, userId: id, data: { bad: true }, timeoutMs: 1000 });
      expect(reply.code, what).toBe("bad_message");
      expect(reply.message, what).toMatch(RULE);
    }
    await counted(own.host, channel, before, "rejectedMessages", "bad_message", cases.length);

    // No push ran: the first `pushed` answer and the first push Bob gets are the good one's.
    ann.send({ type: "push", id: "good", userId: "Bob", data: { n: 1 } });
    const pushed = await waitFor("the good push's answer", () => ann.messages.find((m) => m.type === "pushed"));
    expect(pushed).toMatchObject({ result: { id: "good", clients: 1 } });
    expect(ann.messages.filter((m) => m.type === "pushed")).toHaveLength(1);
    expect(got).toEqual([{ n: 1 }]);
  });
});

describe("POST /users/USERID/disconnect and GET/DELETE /users/USERID/ban", () => {
  it("refuses a disconnect (with or without banSeconds) of a bad userId with 400 bad_request: nobody is closed or banned", async () => {
    const channel = freshChannel("ids-kick");
    const userId = `ids-kept-${Date.now().toString(36)}`;
    const kept = await member(shared, { channel, userId });
    const closes: number[] = [];
    kept.on("close", (event) => closes.push(event.code));
    await waitFor("the directory knows the user", async () => (await call(shared, "GET", `/users?userId=${enc(userId)}`)).body.content.users[userId].online);

    for (const [what, suffix] of BAD) {
      expectBadRequest(await call(shared, "POST", `/users/${enc(userId + suffix)}/disconnect`, { banSeconds: 60 }), `${what}, with a ban`);
      expectBadRequest(await call(shared, "POST", `/users/${enc(userId + suffix)}/disconnect`, { channel }), `${what}, in a channel`);
    }
    expectBadRequest(await call(shared, "POST", `/users/${LONE_IN_PATH}/disconnect`, {}), LONE[0], /not percent-encoded UTF-8/);

    const ban = await call(shared, "GET", `/users/${enc(userId)}/ban`);
    expect(ban.body.content).toEqual({ userId, banned: false });
    expect(closes).toEqual([]);
    expect(kept.member(userId)?.status).toBe("online");
    expect(kept.socket.readyState).toBe(1);
  });

  it("refuses reading or lifting the ban of a bad userId with 400 bad_request", async () => {
    for (const [what, id] of BAD) {
      expectBadRequest(await call(shared, "GET", `/users/${enc(id)}/ban`), `GET, ${what}`);
      expectBadRequest(await call(shared, "DELETE", `/users/${enc(id)}/ban`), `DELETE, ${what}`);
    }
    // Not GET: partykit dev's static assets ("serve") answer any GET path that does not decode with a 500 of their own, before the worker.
    expectBadRequest(await call(shared, "DELETE", `/users/${LONE_IN_PATH}/ban`), LONE[0], /not percent-encoded UTF-8/);
  });
});

describe("watch lists and herenow's cursor (the other messages and queries that take a userId)", () => {
  it("answers a watch list with a bad userId with an error frame bad_message naming the rule, counts it, and watches nobody", async () => {
    const channel = freshChannel("ids-watch");
    const watcher = await raw(shared, channel, { userId: "W" });
    const before = await stats(shared, channel);
    const cases = [...BAD, LONE];
    for (const [what, id] of cases) {
      const reply = await errorReply(watcher, { type: "watch", userIds: ["Fine", id] });
      expect(reply.code, what).toBe("bad_message");
      expect(reply.message, what).toMatch(RULE);
    }
    await counted(shared, channel, before, "rejectedMessages", "bad_message", cases.length);
    // The client checks the same rule before it sends.
    const client = await member(shared, { channel });
    expect(() => client.watchUsers(["Fine", "a\u0000"])).toThrow(USER_ID_RULE);

    // Nothing was watched: the first `users` this socket gets answers the good list.
    watcher.send({ type: "watch", userIds: ["Fine"] });
    const users = await waitFor("the good list's answer", () => watcher.messages.find((m) => m.type === "users"));
    expect(users).toMatchObject({ seq: 1, full: true, users: [{ id: "Fine", online: false }] });
    expect(watcher.messages.filter((m) => m.type === "users")).toHaveLength(1);
  });

  it("refuses a herenow cursor that is no userId: an error frame bad_message on a socket, 400 bad_request over HTTP, each counted", async () => {
    const channel = freshChannel("ids-cursor");
    const socket = await raw(shared, channel, { userId: "M" });
    const before = await stats(shared, channel);
    for (const [what, id] of BAD) {
      const reply = await errorReply(socket, { type: "herenow", id: "h", includeUsers: true, cursor: id });
      expect(reply.code, what).toBe("bad_message");
      expect(reply.message, what).toMatch(RULE);
      expectBadRequest(await call(shared, "GET", `/parties/main/${channel}?includeUsers=true&cursor=${enc(id)}`), `${what}, over HTTP`);
      expectBadRequest(await call(shared, "GET", `/herenow?channel=${channel}&includeUsers=true&cursor=${enc(id)}`), `${what}, across channels`);
    }
    await counted(shared, channel, before, "rejectedMessages", "bad_message", BAD.length);
    await counted(shared, channel, before, "refusedRequests", "bad_request", BAD.length);
    expect(await stats(shared, channel)).toMatchObject({ clientAmount: 1, userAmount: 1, members: 1 });
  });
});
