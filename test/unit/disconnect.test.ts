/**
 * `POST /users/USERID/disconnect` on the in-memory host: the edge's route, the user's directory
 * part and each channel room, with time on vitest's fake clock, so "at once, without grace" is
 * checked against the grace period it skips.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import { eventsSent, joinThroughEdge, requestThroughEdge, memoryService } from "../support/memory-edge.ts";
import type { MemoryHost, MemoryWorld } from "../support/memory-host.ts";

const BASE = { PRESENCE_GRACE_MS: "5000", PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_DIRECTORY_PARTS: "2" };
const SERVER_KEY = "server-key-for-tests-0123456789";
let world: MemoryWorld;
let edge: EdgeHost;

function build(env: Record<string, string>): void {
  ({ world, edge } = memoryService(env));
}

beforeEach(() => {
  vi.useFakeTimers({ now: 3_000_000 });
  build(BASE);
});
afterEach(() => {
  vi.useRealTimers();
});

async function disconnect(userId: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await edgeFetch(new Request(`http://memory/users/${userId}/disconnect`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }), edge);
  return { status: response.status, body: await response.json() };
}

const names = (events: ReturnType<typeof eventsSent>) => events.map((e) => `${e.action}:${e.member.id}`);

describe("disconnecting a user", () => {
  it("closes every client of the user in every channel at once (kicked, then 4004), removes its HTTP clients, and takes it offline without grace", async () => {
    const a = await world.room<SocketState>("main", "room-a");
    const b = await world.room<SocketState>("main", "room-b");
    const watcher = await joinThroughEdge(a, edge, "w", "");
    const web = await joinThroughEdge(a, edge, "a-web", "userId=ann&clientType=web");
    const app = await joinThroughEdge(b, edge, "a-app", "userId=ann&clientType=app");
    await requestThroughEdge(b, edge, "PUT", "/clients/d1", { userId: "ann", ttlMs: 60_000 });
    const bob = await joinThroughEdge(a, edge, "b-web", "userId=bob");
    await vi.advanceTimersByTimeAsync(100);

    const kickedAt = Date.now();
    const answer = await disconnect("ann", { reason: "spam" });
    expect(answer.status).toBe(200);
    expect(answer.body.content.userId).toBe("ann");
    expect(answer.body.content.clients).toBe(3);
    expect(answer.body.content.channels.sort((x: { channel: string }, y: { channel: string }) => x.channel.localeCompare(y.channel))).toEqual([
      { channel: "room-a", clients: [{ connectionId: "a-web", clientType: "web" }] },
      { channel: "room-b", clients: expect.arrayContaining([{ connectionId: "a-app", clientType: "app" }, { connectionId: "http/d1", clientType: "device" }]) },
    ]);
    for (const socket of [web, app]) {
      expect(socket.of("error").at(-1)).toEqual({ type: "error", code: "kicked", message: "spam" });
      expect(socket.closed).toEqual({ code: 4004, reason: "spam" });
    }
    expect(b.storage.rows.has("h:d1"), "the HTTP client's row is gone").toBe(false);
    expect(bob.closed, "nobody else is touched").toBeNull();
    // Offline a tick later, not after the 5 s grace, since the moment of the disconnect.
    await vi.advanceTimersByTimeAsync(100);
    const offline = eventsSent(watcher).filter((e) => e.action === "offline");
    expect(names(offline)).toEqual(["offline:ann"]);
    expect(offline[0]!.member).toMatchObject({ status: "offline", since: kickedAt, clients: 0 });
    const stats = (await requestThroughEdge(a, edge, "GET", "?stats")).body.content;
    expect(stats).toMatchObject({ clientAmount: 1, userAmount: 1, closes: { kicked: 1 } });
    expect((await requestThroughEdge(b, edge, "GET", "?stats")).body.content).toMatchObject({ clientAmount: 0, httpClients: 0 });
  });

  it("closes only the named channel's clients, answers clients: 0 for an unknown user, and needs the channel with the directory off", async () => {
    const a = await world.room<SocketState>("main", "only-a");
    const b = await world.room<SocketState>("main", "only-b");
    const inA = await joinThroughEdge(a, edge, "x-a", "userId=xan");
    const inB = await joinThroughEdge(b, edge, "x-b", "userId=xan");
    await vi.advanceTimersByTimeAsync(100);
    const answer = await disconnect("xan", { channel: "only-b" });
    expect(answer.body.content).toEqual({ userId: "xan", clients: 1, channels: [{ channel: "only-b", clients: [{ connectionId: "x-b" }] }] });
    expect(inB.closed?.code).toBe(4004);
    expect(inA.closed).toBeNull();
    expect((await disconnect("nobody", {})).body.content).toEqual({ userId: "nobody", clients: 0, channels: [] });

    build({ ...BASE, PRESENCE_DIRECTORY: "off" });
    const solo = await world.room<SocketState>("main", "solo");
    const socket = await joinThroughEdge(solo, edge, "s1", "userId=sam");
    expect(await disconnect("sam", {})).toMatchObject({ status: 400, body: { error: "bad_request", message: expect.stringMatching(/must name its channel/) } });
    expect(socket.closed).toBeNull();
    expect((await disconnect("sam", { channel: "solo" })).body.content).toEqual({ userId: "sam", clients: 1, channels: [{ channel: "solo", clients: [{ connectionId: "s1" }] }] });
    expect(socket.closed?.code).toBe(4004);
  });

  it("refuses a bad user id, a malformed or unknown body, another method, and a missing or wrong key, closing nothing", async () => {
    build({ ...BASE, PRESENCE_SERVER_KEY: SERVER_KEY });
    const room = await world.room<SocketState>("main", "guarded");
    const socket = await joinThroughEdge(room, edge, "g1", "userId=gus");
    await vi.advanceTimersByTimeAsync(100);
    const key = { authorization: `Bearer ${SERVER_KEY}` };
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, RegExp]> = [
      ["no key", () => disconnect("gus", {}), 401, /missing server key/],
      ["a wrong key", () => disconnect("gus", {}, { authorization: "Bearer wrong" }), 401, /wrong server key/],
      ["a bad user id", () => disconnect("x".repeat(129), {}, key), 400, /longer than 128/],
      ["malformed JSON", () => disconnect("gus", "{nope", key), 400, /not JSON/],
      ["an unknown field", () => disconnect("gus", { banMinutes: 60 }, key), 400, /banMinutes/],
      ["a long reason", () => disconnect("gus", { reason: "r".repeat(201) }, key), 400, /longer than 200/],
      ["a bad channel", () => disconnect("gus", { channel: "no spaces" }, key), 400, /channel name/],
    ];
    for (const [what, send, status, message] of cases) {
      const answer = await send();
      expect(answer.status, what).toBe(status);
      expect(answer.body.message, what).toMatch(message);
    }
    const get = await edgeFetch(new Request("http://memory/users/gus/disconnect", { headers: key }), edge);
    expect(get.status).toBe(405);
    expect(socket.closed, "nothing was closed").toBeNull();
    expect((await disconnect("gus", {}, key)).body.content.clients).toBe(1);
  });
});
