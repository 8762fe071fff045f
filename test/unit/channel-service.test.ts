/**
 * The core behind the host port, without an engine: the channel, directory and index services
 * on the in-memory host (test/support/memory-host.ts), connects passed through the edge's own
 * checks, time driven by vitest's fake timers. The same code runs under `partykit dev` in the
 * integration suite; here each path is seen from inside: what is stored before it is sent,
 * which calls cross parties, what a restart restores.
 */
import { describe, expect, it, vi } from "vitest";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { loadConfig } from "../../party/server/config.ts";
import { indexShardOf } from "../../party/server/parts.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import { eventsSent, joinThroughEdge, memoryService, memoryServiceEach } from "../support/memory-edge.ts";
import { type MemoryHost, MemorySocket, MemoryWorld } from "../support/memory-host.ts";

const ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_TICK_MS: "50", PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000", PRESENCE_DIRECTORY_PARTS: "2" };
const config = loadConfig(ENV);

let world: MemoryWorld;
let edge: EdgeHost;

memoryServiceEach(ENV, (service) => ({ world, edge } = service));

const join = (room: MemoryHost<SocketState>, id: string, query: string) => joinThroughEdge(room, edge, id, query);

/** The presence events a socket was sent, in order, as `action:userId`. */
const events = (socket: MemorySocket) => eventsSent(socket).map((event) => `${event.action}:${event.member.id}`);

describe("the channel service on the in-memory host", () => {
  it("sends a join to every socket in one diff, after storing it, and reports it to the user's directory part", async () => {
    const room = await world.room<SocketState>("main", "lobby");
    const watcher = await join(room, "w", "");
    const storedWhenSent: boolean[] = [];
    const send = watcher.send.bind(watcher);
    watcher.send = (text) => {
      if (text.includes('"type":"diff"')) storedWhenSent.push(room.storage.rows.has("m:ann"));
      send(text);
    };
    const ann = await join(room, "a1", "userId=ann");
    expect(events(watcher)).toEqual([]);
    expect(room.storage.rows.has("m:ann")).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect(storedWhenSent, "the member row is written before the diff goes out").toEqual([true]);
    expect(events(watcher)).toEqual(["join:ann"]);
    expect(events(ann)).toEqual(["join:ann"]);
    expect(room.storage.rows.get("m:ann")).toMatchObject({ id: "ann", status: "online" });
    expect(room.storage.rows.get("meta")).toMatchObject({ seq: 1, starts: 1 });
    const reports = world.calls.filter((call) => call.party === "directory" && call.call === "report");
    expect(reports.length).toBeGreaterThan(0);
    const response = await edgeFetch(new Request("http://memory/users?userId=ann"), edge);
    expect(((await response.json()) as { content: { users: Record<string, { online: boolean }> } }).content.users.ann?.online).toBe(true);
  });

  it("starts a room that never stored anything with the join that woke it: one tick, one report carrying the start, the meta row in the tick's put", async () => {
    const room = await world.room<SocketState>("main", "fresh-room");
    expect(room.storage.writes, "nothing written at the start itself").toBe(0);
    await join(room, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(room.storage.rows.get("meta")).toMatchObject({ seq: 1, starts: 1 });
    // The tick's put (member, history, meta), then the meta row with the index's first answer.
    expect(room.storage.writes).toBe(2);
    expect(world.calls.filter((call) => call.party === "index" && call.call === "report")).toHaveLength(1);
    const shard = await world.room("index", indexShardOf("fresh-room", config.indexShards));
    expect(shard.storage.rows.get("c:fresh-room")).toMatchObject({ entry: { userAmount: 1 }, counters: { starts: 1 } });
    // No alarm left for a start report that never had to go on its own.
    expect(room.storage.alarm! - Date.now()).toBeGreaterThan(10_000);

    // Restarted with its rows: the start settles what came due at once, and counts a second start.
    room.service = new ChannelService(room, config);
    await room.service.start();
    expect(room.storage.rows.get("meta")).toMatchObject({ starts: 2 });
  });

  it("sends a lone join into a quiet room at once, and coalesces the joins that follow within the tick", async () => {
    const room = await world.room<SocketState>("main", "pacing");
    const watcher = await join(room, "w", "");
    await vi.advanceTimersByTimeAsync(1_000);
    const diffsAt: number[] = [];
    const send = watcher.send.bind(watcher);
    const started = Date.now();
    watcher.send = (text) => {
      if (text.includes('"type":"diff"')) diffsAt.push(Date.now() - started);
      send(text);
    };
    await join(room, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(1);
    expect(events(watcher), "the lone join, at once").toEqual(["join:ann"]);
    await join(room, "b1", "userId=bob");
    await join(room, "c1", "userId=cat");
    await vi.advanceTimersByTimeAsync(20);
    expect(events(watcher), "within the tick: held").toEqual(["join:ann"]);
    await vi.advanceTimersByTimeAsync(40);
    expect(events(watcher), "at the tick's end: both, in one diff").toEqual(["join:ann", "join:bob", "join:cat"]);
    expect(diffsAt).toEqual([0, 50]);
  });

  it("holds a change a deadline makes within the tick after a diff (a grace running out) until the tick's end", async () => {
    const room = await world.room<SocketState>("main", "deadline-in-tick");
    const watcher = await join(room, "w", "");
    const ann = await join(room, "a1", "userId=ann");
    await vi.advanceTimersByTimeAsync(1_000);
    room.drop(ann); // ann's grace (1,000 ms) runs out 1,000 ms from now
    const started = Date.now();
    const heardAt: string[] = [];
    const send = watcher.send.bind(watcher);
    watcher.send = (text) => {
      const message = JSON.parse(text) as { type: string };
      if (message.type === "diff") for (const event of eventsSent({ sent: [message] } as unknown as MemorySocket)) heardAt.push(`${event.action}:${event.member.id}@${Date.now() - started}`);
      send(text);
    };
    await vi.advanceTimersByTimeAsync(980);
    await join(room, "b1", "userId=bob"); // a lone join: out at once, and a tick (50 ms) opens
    await vi.advanceTimersByTimeAsync(200);
    expect(heardAt, "bob at once; ann's offline at the tick's end, not when the alarm ran at 1,000").toEqual(["join:bob@980", "offline:ann@1030"]);
  });

  it("in interval mode sends a lone change in a quiet room at once, and then at most one diff per interval", async () => {
    ({ world, edge } = memoryService({ ...ENV, PRESENCE_ANNOUNCE_MAX: "2", PRESENCE_INTERVAL_MS: "1000" }));
    const room = await world.room<SocketState>("main", "interval-pacing");
    const watcher = await join(room, "w", "");
    for (const user of ["u1", "u2", "u3"]) await join(room, user, `userId=${user}`);
    await vi.advanceTimersByTimeAsync(3_000);
    expect((await room.service.request(new Request("http://memory/parties/main/interval-pacing?stats"))).status).toBe(200);
    const counts = () => watcher.sent.filter((message: { type: string }) => message.type === "diff" || message.type === "sync").map((message: { userAmount: number }) => message.userAmount);
    expect(counts().at(-1), "the room is in interval mode, the watcher holding its counts").toBe(3);
    const heard = counts().length;
    await join(room, "u4", "userId=u4");
    await vi.advanceTimersByTimeAsync(1);
    expect(counts().slice(heard), "the lone join's counts, at once").toEqual([4]);
    await join(room, "u5", "userId=u5");
    await vi.advanceTimersByTimeAsync(500);
    await join(room, "u6", "userId=u6");
    await vi.advanceTimersByTimeAsync(400);
    expect(counts().slice(heard), "within the interval: held").toEqual([4]);
    await vi.advanceTimersByTimeAsync(120);
    expect(counts().slice(heard), "at the interval's end: both").toEqual([4, 6]);
  });

  it("sends an interval-mode diff that most sockets share as one broadcast, not a frame addressed to each socket", async () => {
    ({ world, edge } = memoryService({ ...ENV, PRESENCE_ANNOUNCE_MAX: "2", PRESENCE_INTERVAL_MS: "1000" }));
    const room = await world.room<SocketState>("main", "interval-broadcast");
    const sockets = [];
    for (let i = 0; i < 30; i++) sockets.push(await join(room, `s${i}`, `userId=u${i}&window=5`));
    const watcher = await join(room, "w", "userId=w");
    await vi.advanceTimersByTimeAsync(3_000);
    const heard = sockets.map((socket) => socket.sent.length);
    const watcherHeard = watcher.sent.length;
    const lookups: Array<string | undefined> = [];
    const all = room.sockets.bind(room);
    room.sockets = (connectionId?: string) => {
      lookups.push(connectionId);
      return all(connectionId);
    };
    await join(room, "late", "userId=zed");
    lookups.length = 0;
    await vi.advanceTimersByTimeAsync(1_100);
    const counts = (socket: MemorySocket) => (socket.sent.at(-1) as { userAmount?: number }).userAmount;
    expect(sockets.every((socket, i) => socket.sent.length === heard[i]! + 1 && counts(socket) === 32), "each socket heard the new counts, once").toBe(true);
    expect(watcher.sent.length, "the socket with another window too").toBe(watcherHeard + 1);
    // Only the sockets outside the shared group are looked up one by one: the joiner (its own user moved) and the watcher (window 0).
    expect(lookups.filter((id) => id !== undefined).sort()).toEqual(["late", "w"]);
  });

  it("in interval mode publishes what a tick before the interval's end found (a grace that ran out) at the interval's end", async () => {
    ({ world, edge } = memoryService({ ...ENV, PRESENCE_ANNOUNCE_MAX: "2", PRESENCE_INTERVAL_MS: "1500", PRESENCE_GRACE_MS: "2000" }));
    const room = await world.room<SocketState>("main", "interval-deadline");
    const watcher = await join(room, "w", "");
    const sockets = [];
    for (const user of ["u1", "u2", "u3"]) sockets.push(await join(room, user, `userId=${user}`));
    await vi.advanceTimersByTimeAsync(3_000);
    // u1's socket closes; its grace runs out 2,000 ms later, 300 ms after the lone join below.
    room.drop(sockets[0]!);
    await vi.advanceTimersByTimeAsync(1_700);
    const heardAt: Array<[number, number]> = [];
    const started = Date.now();
    const send = watcher.send.bind(watcher);
    watcher.send = (text) => {
      const message = JSON.parse(text) as { type: string; userAmount?: number };
      if (message.type === "diff") heardAt.push([Date.now() - started, message.userAmount!]);
      send(text);
    };
    await join(room, "u4", "userId=u4");
    await vi.advanceTimersByTimeAsync(3_000);
    // The grace's end runs a tick at 300, which may not publish before 1,500: it goes out then.
    expect(heardAt).toEqual([
      [0, 4],
      [1_500, 3],
    ]);
  });

  it("tells every socket in its snapshot how often to ping, when a silent socket is closed, and the grace and retention periods", async () => {
    const room = await world.room<SocketState>("main", "settings");
    const ann = await join(room, "a1", "userId=ann");
    const [sync] = ann.of("sync");
    expect(sync.settings).toEqual({
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatTimeoutMs: 60_000,
      graceMs: 1000,
      retentionMs: config.retentionMs,
    });
  });

  it("announces a closed socket's member offline only after grace, and nothing when it comes back within grace", async () => {
    const room = await world.room<SocketState>("main", "grace");
    const watcher = await join(room, "w", "");
    const ann = await join(room, "a1", "userId=ann");
    const bob = await join(room, "b1", "userId=bob");
    await vi.advanceTimersByTimeAsync(60);
    room.drop(ann);
    room.drop(bob);
    await vi.advanceTimersByTimeAsync(500);
    await join(room, "a2", "userId=ann");
    await vi.advanceTimersByTimeAsync(400);
    expect(events(watcher), "within grace").toEqual(["join:ann", "join:bob"]);
    await vi.advanceTimersByTimeAsync(200);
    expect(events(watcher)).toEqual(["join:ann", "join:bob", "offline:bob"]);
  });

  it("runs a push from the edge through the user's directory part to each room that holds the user, and answers with the acks", async () => {
    const chat = await world.room<SocketState>("main", "chat");
    const feed = await world.room<SocketState>("main", "feed");
    const web = await join(chat, "a-web", "userId=ann&clientType=web");
    const app = await join(feed, "a-app", "userId=ann&clientType=app");
    await vi.advanceTimersByTimeAsync(60);
    const answer = edgeFetch(new Request("http://memory/users/ann/push", { method: "POST", body: JSON.stringify({ id: "n-1", data: { reply: 7 }, timeoutMs: 1000 }) }), edge);
    await vi.advanceTimersByTimeAsync(1);
    for (const socket of [web, app]) {
      const [push] = socket.of("push");
      expect(push).toMatchObject({ id: "n-1", data: { reply: 7 }, from: null });
      (socket === web ? chat : feed).send(socket, { type: "ack", id: "n-1", ok: true });
    }
    const result = (await (await answer).json()) as { content: { clients: number; acked: Array<{ channel: string; clientType?: string }> } };
    expect(result.content.clients).toBe(2);
    expect(result.content.acked.map((a) => `${a.channel}/${a.clientType}`).sort()).toEqual(["chat/web", "feed/app"]);
    expect(world.calls.filter((call) => call.call === "deliver").map((call) => call.room).sort()).toEqual(["chat", "feed"]);
  });

  it("answers a push nobody acks at its deadline, with the client unacked for timeout, though no tick was pending", async () => {
    const chat = await world.room<SocketState>("main", "silent");
    await join(chat, "a-web", "userId=ann&clientType=web");
    // Settle the join's tick and every deadline it set, so that nothing is pending in the room.
    await vi.advanceTimersByTimeAsync(5_000);
    const started = Date.now();
    let answeredAt: number | null = null;
    const answer = edgeFetch(new Request("http://memory/users/ann/push", { method: "POST", body: JSON.stringify({ id: "n-silent", data: 1, timeoutMs: 500 }) }), edge).then((response) => {
      answeredAt = Date.now();
      return response;
    });
    await vi.advanceTimersByTimeAsync(700);
    expect(answeredAt, "answered within a tick of the push's deadline").not.toBeNull();
    expect(answeredAt! - started).toBeLessThanOrEqual(600);
    const result = (await (await answer).json()) as { content: { unacked: Array<{ channel: string; reason: string }>; failedChannels?: unknown[] } };
    expect(result.content.unacked).toMatchObject([{ channel: "silent", reason: "timeout" }]);
    expect(result.content.failedChannels ?? []).toEqual([]);
  });

  it("rebuilds from its storage and the sockets that survived: no event for a member still there, offline after grace for one whose socket is gone", async () => {
    const room = await world.room<SocketState>("main", "restart");
    await join(room, "a1", "userId=ann");
    const bob = await join(room, "b1", "userId=bob");
    await vi.advanceTimersByTimeAsync(60);
    const seq = (room.storage.rows.get("meta") as { seq: number }).seq;
    // The engine evicts the room; bob's socket does not survive, ann's does.
    bob.closed = { code: 1006, reason: "evicted" };
    room.service = new ChannelService(room, config);
    await room.service.start();
    const watcher = await join(room, "w", "");
    const [snapshot] = watcher.of("sync");
    expect(snapshot).toMatchObject({ seq });
    expect(room.storage.rows.get("meta")).toMatchObject({ seq, starts: 2 });
    await vi.advanceTimersByTimeAsync(1100);
    expect(events(watcher)).toEqual(["offline:bob"]);
  });

  it("wakes at most twice per heartbeat timeout while its members only ping (answered by the engine), whatever their number", async () => {
    // The Workers engine's idle room: pings never reach it; its own alarm (idle checks, lease
    // renewals to the directory and the index) is all that wakes it.
    const quiet = { ...ENV, PRESENCE_HEARTBEAT_INTERVAL_MS: "10000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "30000" };
    ({ world, edge } = memoryService(quiet));
    for (const members of [20, 400]) {
      const room = await world.room<SocketState>("main", `idle-${members}`);
      const sockets: MemorySocket<SocketState>[] = [];
      for (let i = 0; i < members; i++) {
        sockets.push(await join(room, `s${i}`, `userId=u${i}`));
        // Joined over a few seconds, so their pings come at scattered times.
        await vi.advanceTimersByTimeAsync(10);
      }
      // Each socket pings every 10 s from its own start; the engine answers and notes the time.
      const joinedAt = Date.now();
      const pinging = setInterval(() => {
        const now = Date.now();
        sockets.forEach((socket, i) => {
          const phase = (i * 10_000) / members;
          if (now - joinedAt >= phase) room.pings.set(socket.id, now - ((now - joinedAt - phase) % 10_000));
        });
      }, 100);
      await vi.advanceTimersByTimeAsync(60_000);
      let wakes = 0;
      const ring = room.storage.ring;
      room.storage.ring = () => {
        wakes++;
        ring();
      };
      const WINDOW_MS = 10 * 30_000;
      await vi.advanceTimersByTimeAsync(WINDOW_MS);
      clearInterval(pinging);
      room.storage.ring = ring;
      expect(sockets.filter((socket) => socket.closed), `${members} members: none closed for silence`).toEqual([]);
      expect(wakes, `${members} members: alarm wakes in ten heartbeat timeouts`).toBeLessThanOrEqual(20);
      expect(wakes).toBeGreaterThan(0);
    }
  }, 60_000);

  it("answers a call it does not take with 400 and a call from outside the service with its public routes only", async () => {
    const room = await world.room<SocketState>("main", "calls");
    const bad = await room.service.request(new Request("http://memory/", { method: "POST", headers: { "x-presence-internal": "1" }, body: JSON.stringify({ call: "nope", args: {} }) }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/takes the calls count-refusal, herenow, watched, push, deliver/);
    const badArgs = await room.service.request(new Request("http://memory/", { method: "POST", headers: { "x-presence-internal": "1" }, body: JSON.stringify({ call: "herenow", args: { includeUsers: "yes" } }) }));
    expect(badArgs.status).toBe(400);
    const post = await room.service.request(new Request("http://memory/", { method: "POST", body: "{}" }));
    expect(post.status).toBe(405);
  });
});
