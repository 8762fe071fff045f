/**
 * HTTP clients (members without a socket, kept alive by heartbeats with a TTL) on the
 * in-memory host: requests pass the edge's own checks, then reach the channel service; time
 * is vitest's fake clock, so each expiry is checked to the millisecond of its alarm.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { httpConnectionId } from "../../party/channel/http-client-rows.ts";
import { PresenceState } from "../../party/channel/presence.ts";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { loadConfig } from "../../party/server/config.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { RoomStats } from "../../party/protocol/index.ts";
import { eventsSent, joinThroughEdge, requestThroughEdge, memoryService } from "../support/memory-edge.ts";
import type { MemoryHost, MemorySocket, MemoryWorld } from "../support/memory-host.ts";
import { WireReader } from "../support/messages.ts";
import { rawToken, SECRET, token } from "../support/tokens.ts";

const START = 1_000_000;
const BASE_ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_DIRECTORY_PARTS: "2" };
const SERVER_KEY = "server-key-for-tests-0123456789";

let world: MemoryWorld;
let edge: EdgeHost;

/** A world of the three parties with these settings. */
function build(env: Record<string, string>): void {
  ({ world, edge } = memoryService(env));
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  build(BASE_ENV);
});

afterEach(() => {
  vi.useRealTimers();
});

type Answer = { status: number; body: any };

/** An HTTP request to a room path, through the edge's checks as from outside. */
function call(room: MemoryHost<SocketState>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return requestThroughEdge(room, edge, method, path, body, headers);
}

/** A heartbeat of one client. */
function beat(room: MemoryHost<SocketState>, clientId: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer> {
  return call(room, "PUT", `/clients/${clientId}`, body, headers);
}

const join = (room: MemoryHost<SocketState>, id: string, query: string) => joinThroughEdge(room, edge, id, query);
const eventsOf = eventsSent;
const names = (socket: MemorySocket) => eventsOf(socket).map((event) => `${event.action}:${event.member.id}`);

async function stats(room: MemoryHost<SocketState>, headers: Record<string, string> = {}): Promise<RoomStats> {
  return (await call(room, "GET", "?stats", undefined, headers)).body.content;
}

describe("PresenceState with HTTP clients (pure, fake clock)", () => {
  const timing = { graceMs: 1000, retentionMs: 60_000, heartbeatTimeoutMs: 5000 };

  it("lapses a client exactly at its deadline: offline since then, last seen at its last renewal; no idle check", () => {
    const state = new PresenceState(timing);
    state.connect({ connectionId: "http/a", userId: "dev", data: null, lastActive: 0, expiresAt: 30_000 }, 0);
    state.takeDiff();
    expect(state.renew("http/a", 40_000, 10_000)).toBe(true);
    expect(state.nextDeadline()).toBe(40_000);
    // Silent far past the heartbeat timeout: still online, it has its own deadline.
    expect(state.expire(39_999)).toEqual([]);
    expect(state.lapse(39_999)).toEqual([]);
    expect(state.member("dev")?.status).toBe("online");
    expect(state.lapse(40_000)).toEqual(["http/a"]);
    expect(state.member("dev")).toMatchObject({ status: "offline", since: 40_000, lastSeen: 10_000 });
    expect(state.takeDiff()?.events.map((e) => e.action)).toEqual(["offline"]);
  });

  it("renews only HTTP clients, and a socket of the same user keeps the member online when the HTTP client lapses", () => {
    const state = new PresenceState(timing);
    state.connect({ connectionId: "s1", userId: "ann", data: null }, 0);
    state.connect({ connectionId: "http/a", userId: "ann", data: null, expiresAt: 2000 }, 0);
    expect(state.renew("s1", 9000, 1)).toBe(false);
    state.alive("s1", 1500);
    expect(state.lapse(2000)).toEqual(["http/a"]);
    expect(state.member("ann")).toMatchObject({ status: "online", clients: 1 });
  });
});

describe("HTTP clients in a channel room", () => {
  it("joins on its first heartbeat, changes nothing on a renewal, and sends changed data as an update", async () => {
    const room = await world.room<SocketState>("main", "claws");
    const watcher = await join(room, "w", "");
    const first = await beat(room, "claw-7", { userId: "machine-7", data: { coins: 0 }, ttlMs: 30_000 });
    expect(first).toEqual({
      status: 200,
      body: { code: 200, content: { clientId: "claw-7", userId: "machine-7", clientType: "device", expiresAt: START + 30_000, pushes: [], clientAmount: 1, userAmount: 1 } },
    });
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher)).toEqual(["join:machine-7"]);
    expect(eventsOf(watcher)[0]!.member).toMatchObject({ data: { coins: 0 }, clients: 1, clientTypes: { device: 1 } });
    expect(room.storage.rows.get("h:claw-7")).toMatchObject({ userId: "machine-7", ttlMs: 30_000, expiresAt: START + 30_000 });

    await vi.advanceTimersByTimeAsync(5000);
    const renewed = await beat(room, "claw-7", { userId: "machine-7", ttlMs: 30_000 });
    expect(renewed.body.content.expiresAt).toBe(Date.now() + 30_000);
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher), "a renewal is no event").toEqual(["join:machine-7"]);
    await beat(room, "claw-7", { userId: "machine-7", data: { coins: 3 }, ttlMs: 30_000 });
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher)).toEqual(["join:machine-7", "update:machine-7"]);
    expect(eventsOf(watcher)[1]!.member.data).toEqual({ coins: 3 });

    const herenow = await call(room, "GET", "?includeUsers=true");
    expect(herenow.body.content.channels.claws).toMatchObject({ clientAmount: 1, userAmount: 1, clientTypes: { device: 1 }, users: [{ id: "machine-7", clientType: "device" }] });
    expect((await stats(room)).httpClients).toBe(1);
  });

  it("expires exactly at its TTL after the last renewal: offline at once (its TTL was its grace), on the room's alarm", async () => {
    const room = await world.room<SocketState>("main", "ttl");
    const watcher = await join(room, "w", "");
    await beat(room, "d1", { userId: "dev", ttlMs: 10_000 });
    await vi.advanceTimersByTimeAsync(4000);
    const renewedAt = Date.now();
    await beat(room, "d1", { userId: "dev", ttlMs: 10_000 });
    const deadline = renewedAt + 10_000;
    await vi.advanceTimersByTimeAsync(100);
    expect(room.storage.alarm, "the room's alarm is set for the deadline or earlier").toBeLessThanOrEqual(deadline);
    await vi.advanceTimersByTimeAsync(deadline - 1 - Date.now());
    expect(names(watcher)).toEqual(["join:dev"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(names(watcher)).toEqual(["join:dev", "offline:dev"]);
    expect(eventsOf(watcher)[1]!.member).toMatchObject({ status: "offline", since: deadline, lastSeen: renewedAt });
    expect(room.storage.rows.has("h:d1"), "its row is gone").toBe(false);
    expect((await stats(room)).httpClients).toBe(0);
    // A heartbeat after that is a new client: online again.
    await beat(room, "d1", { userId: "dev", ttlMs: 10_000 });
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher)).toEqual(["join:dev", "offline:dev", "online:dev"]);
  });

  it("leaves on DELETE; the same DELETE again answers removed: false", async () => {
    const room = await world.room<SocketState>("main", "bye");
    const watcher = await join(room, "w", "");
    await beat(room, "bot-1", { userId: "agent", clientType: "bot", ttlMs: 60_000 });
    await vi.advanceTimersByTimeAsync(60);
    expect((await call(room, "DELETE", "/clients/bot-1")).body.content).toEqual({ clientId: "bot-1", removed: true, clientAmount: 0, userAmount: 0 });
    expect((await call(room, "DELETE", "/clients/bot-1")).body.content.removed).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher)).toEqual(["join:agent", "leave:agent"]);
    expect(room.storage.rows.has("h:bot-1")).toBe(false);
  });

  it("survives a restart with its deadline, and a room back after the TTL announces it offline, never a ghost", async () => {
    const room = await world.room<SocketState>("main", "restart");
    await beat(room, "a", { userId: "alive", ttlMs: 20_000 });
    await beat(room, "b", { userId: "lapsing", ttlMs: 5_000 });
    await vi.advanceTimersByTimeAsync(60);
    // The engine evicts the room (no socket survives), and it comes back 3 s later.
    await vi.advanceTimersByTimeAsync(3000);
    room.service = new ChannelService(room, loadConfig(BASE_ENV));
    await room.service.start();
    const watcher = await join(room, "w", "");
    const snapshot = new WireReader().read(watcher.of("sync")[0]);
    expect(snapshot.type === "sync" && snapshot.members.map((m) => `${m.id}:${m.status}`).sort()).toEqual(["alive:online", "lapsing:online"]);
    await vi.advanceTimersByTimeAsync(START + 5_000 - Date.now());
    expect(names(watcher)).toEqual(["offline:lapsing"]);
    // Evicted again until long after "alive" expired: it comes back announcing it offline at its deadline.
    await vi.advanceTimersByTimeAsync(60);
    room.storage.ring = () => {}; // nobody wakes it meanwhile
    await vi.advanceTimersByTimeAsync(60_000);
    room.service = new ChannelService(room, loadConfig(BASE_ENV));
    await room.service.start();
    const late = await join(room, "w2", "");
    const read = new WireReader().read(late.of("sync")[0]);
    expect(read.type === "sync" && read.members.map((m) => `${m.id}:${m.status}`).sort()).toEqual(["alive:offline", "lapsing:offline"]);
    expect(read.type === "sync" && read.members.find((m) => m.id === "alive")).toMatchObject({ since: START + 20_000 });
    expect((await stats(room)).httpClients).toBe(0);
    expect(room.storage.rows.has("h:a")).toBe(false);
  });

  it("holds a push for its next heartbeat, returns it until acknowledged, and the ack counts in the push's answer", async () => {
    const room = await world.room<SocketState>("main", "pushes");
    await beat(room, "claw-1", { userId: "machine-1", ttlMs: 30_000 });
    await vi.advanceTimersByTimeAsync(60);
    const pushed = edgeFetch(new Request("http://memory/users/machine-1/push", { method: "POST", body: JSON.stringify({ id: "coin-1", data: { coins: 2 }, timeoutMs: 20_000 }) }), edge);
    await vi.advanceTimersByTimeAsync(5);
    const held = { id: "coin-1", data: { coins: 2 }, channel: "pushes", from: null };
    expect((await beat(room, "claw-1", { userId: "machine-1", ttlMs: 30_000 })).body.content.pushes).toEqual([held]);
    expect((await beat(room, "claw-1", { userId: "machine-1", ttlMs: 30_000 })).body.content.pushes, "until acknowledged").toEqual([held]);
    expect((await call(room, "GET", "/clients")).body.content.clients[0]).toMatchObject({ clientId: "claw-1", pushes: 1 });
    expect((await beat(room, "claw-1", { userId: "machine-1", ttlMs: 30_000, acks: ["coin-1"] })).body.content.pushes).toEqual([]);
    const result = (await (await pushed).json()) as { content: { clients: number; acked: unknown[]; unacked: unknown[] } };
    expect(result.content).toMatchObject({ clients: 1, acked: [{ channel: "pushes", connectionId: httpConnectionId("claw-1"), clientType: "device" }], unacked: [] });

    // No heartbeat in time: a timeout.
    const missed = edgeFetch(new Request("http://memory/users/machine-1/push", { method: "POST", body: JSON.stringify({ id: "coin-2", data: 1, timeoutMs: 1000 }) }), edge);
    await vi.advanceTimersByTimeAsync(1100);
    expect(((await (await missed).json()) as { content: { unacked: unknown[] } }).content.unacked).toEqual([
      { channel: "pushes", connectionId: httpConnectionId("claw-1"), clientType: "device", reason: "timeout" },
    ]);
  });

  it("counts in the user's and the room's caps, and under newest-per-user a socket replaces it (409 replaced until its TTL passes) and it replaces a socket", async () => {
    build({ ...BASE_ENV, PRESENCE_MAX_CLIENTS_PER_USER: "2", PRESENCE_MAX_CLIENTS: "3" });
    const room = await world.room<SocketState>("main", "caps");
    await beat(room, "a", { userId: "u", ttlMs: 30_000 });
    await join(room, "s", "userId=u");
    const full = await beat(room, "b", { userId: "u", ttlMs: 30_000 });
    expect(full).toMatchObject({ status: 429, body: { error: "user_full" } });
    await beat(room, "c", { userId: "v", ttlMs: 30_000 });
    expect(await beat(room, "d", { userId: "w", ttlMs: 30_000 })).toMatchObject({ status: 429, body: { error: "room_full" } });
    expect((await stats(room)).refusedRequests).toEqual({ user_full: 1, room_full: 1 });

    build({ ...BASE_ENV, PRESENCE_CLIENT_POLICY: "newest-per-user" });
    const policed = await world.room<SocketState>("main", "policy");
    const watcher = await join(policed, "w", "");
    await beat(policed, "dev", { userId: "ann", ttlMs: 10_000 });
    const socket = await join(policed, "s1", "userId=ann");
    const refused = await beat(policed, "dev", { userId: "ann", ttlMs: 10_000 });
    expect(refused).toMatchObject({ status: 409, body: { error: "replaced" } });
    expect((await stats(policed)).replacedClients).toEqual({ "newest-per-user": 1 });
    await vi.advanceTimersByTimeAsync(10_001);
    // Its TTL from the replacement passed: it may come back, and now it replaces the socket.
    expect((await beat(policed, "dev", { userId: "ann", ttlMs: 10_000 })).status).toBe(200);
    expect(socket.closed?.code).toBe(4002);
    await vi.advanceTimersByTimeAsync(60);
    expect(names(watcher), "the user never went offline").toEqual(["join:ann"]);
  });

  it("refuses bad input with a clear 400/409/413, counts each, and changes nothing", async () => {
    const room = await world.room<SocketState>("main", "bad");
    const watcher = await join(room, "w", "");
    await beat(room, "mine", { userId: "owner", clientType: "pc", ttlMs: 30_000 });
    await vi.advanceTimersByTimeAsync(60);
    const cases: Array<[string, () => Promise<Answer>, number, string, RegExp]> = [
      ["a bad client id", () => call(room, "PUT", "/clients/has%20space", { userId: "x", ttlMs: 5000 }), 400, "bad_request", /client id may only hold/],
      ["a long client id", () => call(room, "PUT", `/clients/${"c".repeat(65)}`, { userId: "x", ttlMs: 5000 }), 400, "bad_request", /longer than 64/],
      ["malformed JSON", () => call(room, "PUT", "/clients/x", "{nope"), 400, "bad_request", /not JSON/],
      ["no userId", () => beat(room, "x", { ttlMs: 5000 }), 400, "bad_request", /userId/],
      ["a TTL of 0", () => beat(room, "x", { userId: "x", ttlMs: 0 }), 400, "bad_request", /at least 1000/],
      ["a negative TTL", () => beat(room, "x", { userId: "x", ttlMs: -5 }), 400, "bad_request", /at least 1000/],
      ["a TTL as text", () => beat(room, "x", { userId: "x", ttlMs: "30000" }), 400, "bad_request", /ttlMs must be a number/],
      ["a TTL past the maximum", () => beat(room, "x", { userId: "x", ttlMs: 3_600_001 }), 400, "bad_request", /PRESENCE_MAX_CLIENT_TTL_MS/],
      ["a bad clientType", () => beat(room, "x", { userId: "x", clientType: "a b", ttlMs: 5000 }), 400, "bad_request", /clientType may only hold/],
      ["oversized data", () => beat(room, "x", { userId: "x", data: "z".repeat(5000), ttlMs: 5000 }), 413, "too_large", /larger than/],
      ["an oversized body", () => call(room, "PUT", "/clients/x", { userId: "x", ttlMs: 5000, pad: "z".repeat(20_000) }), 413, "too_large", /body is larger/],
      ["someone else's client id", () => beat(room, "mine", { userId: "thief", ttlMs: 5000 }), 409, "conflict", /belongs to another user/],
      ["another clientType on a renewal", () => beat(room, "mine", { userId: "owner", clientType: "web", ttlMs: 5000 }), 409, "conflict", /remove it first/],
      ["a batch over 1,000", () => call(room, "POST", "/clients", { clients: Array.from({ length: 1001 }, (_, i) => ({ clientId: `c${i}`, userId: "x", ttlMs: 5000 })) }), 400, "bad_request", /at most 1000/],
      ["a batch with one bad TTL", () => call(room, "POST", "/clients", { clients: [{ clientId: "ok", userId: "x", ttlMs: 5000 }, { clientId: "no", userId: "x", ttlMs: 1 }] }), 400, "bad_request", /clients\[1\]/],
      ["a batch with one id twice", () => call(room, "POST", "/clients", { clients: [{ clientId: "t", userId: "x", ttlMs: 5000 }, { clientId: "t", userId: "x", ttlMs: 5000 }] }), 400, "bad_request", /twice/],
      ["PATCH", () => call(room, "PATCH", "/clients/x", {}), 405, "method_not_allowed", /PUT or DELETE/],
    ];
    const expected: Record<string, number> = {};
    for (const [what, send, status, error, message] of cases) {
      const answer = await send();
      expect(answer.status, what).toBe(status);
      expect(answer.body, what).toMatchObject({ code: status, error });
      expect(answer.body.message, what).toMatch(message);
      if (status !== 405) expected[error] = (expected[error] ?? 0) + 1;
    }
    await vi.advanceTimersByTimeAsync(60);
    expect((await stats(room)).refusedRequests).toEqual(expected);
    expect(names(watcher), "nobody saw anything but the owner's join").toEqual(["join:owner"]);
    expect((await call(room, "GET", "/clients")).body.content.clients.map((c: { clientId: string }) => c.clientId)).toEqual(["mine"]);
    expect(room.storage.rows.get("h:mine")).toMatchObject({ userId: "owner", clientType: "pc", ttlMs: 30_000 });
  });

  it("takes up to 1,000 in one batch; one client refused for its own reason does not stop the others", async () => {
    const room = await world.room<SocketState>("main", "gateway");
    const watcher = await join(room, "w", "");
    await beat(room, "taken", { userId: "someone", ttlMs: 30_000 });
    const clients = Array.from({ length: 1000 }, (_, i) => ({ clientId: i === 999 ? "taken" : `dev-${i}`, userId: `machine-${i}`, ttlMs: 30_000 }));
    const answer = await call(room, "POST", "/clients", { clients });
    expect(answer.status).toBe(200);
    expect(answer.body.content.clients).toHaveLength(1000);
    expect(answer.body.content.clients[0]).toEqual({ clientId: "dev-0", userId: "machine-0", clientType: "device", expiresAt: START + 30_000, pushes: [] });
    expect(answer.body.content.clients[999]).toMatchObject({ clientId: "taken", error: "conflict" });
    expect(answer.body.content).toMatchObject({ clientAmount: 1000, userAmount: 1000 });
    await vi.advanceTimersByTimeAsync(60);
    expect(watcher.of("diff").length + watcher.of("sync").length).toBeGreaterThan(0);
    expect((await stats(room)).httpClients).toBe(1000);
    expect((await call(room, "GET", "/clients?limit=400&cursor=dev-500")).body.content.clients.map((c: { clientId: string }) => c.clientId).at(0)).toBe("dev-501");
  });
});

describe("who may keep an HTTP client", () => {
  const AUTH_ENV = { ...BASE_ENV, PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY };
  const key = { authorization: `Bearer ${SERVER_KEY}` };

  it("lets the server key act for any user, and a client token only for its own user, in its channels, with what it fixes", async () => {
    build(AUTH_ENV);
    const room = await world.room<SocketState>("main", "secure");
    expect((await beat(room, "srv", { userId: "anyone", ttlMs: 5000 }, key)).status).toBe(200);
    const own = await token({ userId: "dev-1", channels: ["secure"], clientType: "sensor", data: { model: "x1" } });
    const bearer = { authorization: `Bearer ${own}` };
    const mine = await beat(room, "d1", { userId: "dev-1", ttlMs: 5000 }, bearer);
    expect(mine.body.content).toMatchObject({ clientType: "sensor", userId: "dev-1" });
    expect((await call(room, "GET", "?includeUsers=true&distinct=true", undefined, key)).body.content.channels.secure.users.find((u: { id: string }) => u.id === "dev-1").data).toEqual({ model: "x1" });
    const cases: Array<[string, () => Promise<Answer>, number, RegExp]> = [
      ["no credentials", () => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }), 401, /missing credentials/],
      ["a wrong key", () => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }, { authorization: "Bearer wrong" }), 401, /./],
      ["a forged token", () => token({ userId: "dev-1" }, "another-secret-of-forty-characters-long!!").then((t) => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }, { authorization: `Bearer ${t}` })), 401, /signature/],
      ["an expired token", () => rawToken({ sub: "dev-1" }, { exp: Math.floor(Date.now() / 1000) - 60 }).then((t) => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }, { authorization: `Bearer ${t}` })), 401, /expired/],
      ["another user's id", () => beat(room, "d2", { userId: "dev-2", ttlMs: 5000 }, bearer), 403, /token is for user dev-1, not dev-2/],
      ["another channel", () => token({ userId: "dev-1", channels: ["other"] }).then((t) => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }, { authorization: `Bearer ${t}` })), 403, /does not open channel secure/],
      ["another type than the token pins", () => beat(room, "d2", { userId: "dev-1", clientType: "web", ttlMs: 5000 }, bearer), 403, /pins clientType sensor/],
      ["its own data when the token fixes it", () => beat(room, "d1", { userId: "dev-1", data: { model: "fake" }, ttlMs: 5000 }, bearer), 403, /fixes this user's data/],
      ["deleting another user's client", () => call(room, "DELETE", "/clients/srv", undefined, bearer), 403, /not of user dev-1/],
      ["listing with a client token", () => call(room, "GET", "/clients", undefined, bearer), 401, /./],
      ["an observer token", () => token({ observer: true }).then((t) => beat(room, "d2", { userId: "dev-1", ttlMs: 5000 }, { authorization: `Bearer ${t}` })), 403, /observer token keeps no client/],
    ];
    for (const [what, send, status, message] of cases) {
      const answer = await send();
      expect(answer.status, what).toBe(status);
      expect(answer.body.message, what).toMatch(message);
    }
    await vi.advanceTimersByTimeAsync(60);
    const after = await stats(room, key);
    expect(after.refusedRequests).toEqual({ unauthorized: 5, forbidden: 6 });
    expect(after.httpClients).toBe(2);
    expect((await call(room, "GET", "/clients", undefined, key)).body.content.clients.map((c: { clientId: string }) => c.clientId)).toEqual(["d1", "srv"]);
  });

  it("ends a token's client no later than its token", async () => {
    build(AUTH_ENV);
    const room = await world.room<SocketState>("main", "short");
    const exp = Math.floor(Date.now() / 1000) + 10;
    const short = await rawToken({ sub: "dev" }, { exp });
    const answer = await beat(room, "d", { userId: "dev", ttlMs: 3_600_000 }, { authorization: `Bearer ${short}` });
    expect(answer.body.content.expiresAt).toBe((exp + 5) * 1000);
  });
});
