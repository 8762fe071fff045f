/**
 * What the PresenceClient (the transport) does around its core (which test/unit/client-core.test.ts
 * and test/unit/member-list.test.ts cover alone): ready(), asking for a snapshot on a gap, reconnecting with its latest
 * userData, dropping unreadable frames, herenow. Driven through a fake WebSocket class
 * handed to partysocket: no server, no network.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PresenceClient } from "../../client/index.ts";
import type { ServerMessage } from "../../party/protocol/index.ts";
import { diffMessage as diff, member as m, syncMessage as sync } from "../support/messages.ts";

class FakeWebSocket extends EventTarget {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = 0;
  binaryType = "blob";
  bufferedAmount = 0;
  extensions = "";
  protocol = "";
  sent: unknown[] = [];

  constructor(readonly url: string) {
    super();
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  receive(message: ServerMessage | string): void {
    const data = typeof message === "string" ? message : JSON.stringify(message);
    this.dispatchEvent(new MessageEvent("message", { data }));
  }

  /** The connection dies without the client asking. */
  die(): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code: 1006, reason: "" }));
  }
}

let client: PresenceClient;
let events: string[];
let resynced: boolean[];
let membersEmitted: number;

async function nextSocket(count: number): Promise<FakeWebSocket> {
  await vi.waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThanOrEqual(count), { timeout: 2_000, interval: 2 });
  return FakeWebSocket.instances[count - 1]!;
}

async function connected(): Promise<FakeWebSocket> {
  client = new PresenceClient({
    host: "127.0.0.1:1",
    channel: "room",
    userId: "me",
    userData: { v: 1 },
    WebSocket: FakeWebSocket,
    minReconnectionDelay: 1,
    maxReconnectionDelay: 5,
  });
  client.on("presence", (event) => {
    events.push(`${event.action}:${event.member.id}`);
    resynced.push(event.resync === true);
  });
  client.on("members", () => membersEmitted++);
  const socket = await nextSocket(1);
  socket.open();
  return socket;
}

const ids = () => client.members.map((x) => `${x.id}:${x.status}`).sort();

beforeEach(() => {
  FakeWebSocket.instances = [];
  events = [];
  resynced = [];
  membersEmitted = 0;
});

afterEach(() => {
  client?.close();
  vi.restoreAllMocks();
});

describe("PresenceClient around its member list", () => {
  it("builds its list from the first snapshot without firing presence events", async () => {
    const socket = await connected();
    socket.receive(sync(4, [m("me"), m("ted", { status: "offline", clients: 0 })]));
    await client.ready();
    expect(ids()).toEqual(["me:online", "ted:offline"]);
    expect(client.online.map((x) => x.id)).toEqual(["me"]);
    expect(client.counts).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(events).toEqual([]);
  });

  it("resolves ready() only once the room has announced this user, not at a snapshot without it", async () => {
    const socket = await connected();
    let ready = false;
    void client.ready().then(() => (ready = true));
    socket.receive(sync(4, [m("a")]));
    await Promise.resolve();
    expect(ready).toBe(false);
    socket.receive(diff(5, [["join", m("me")]], [], { clientAmount: 2, userAmount: 2 }));
    await client.ready();
    expect(ready).toBe(true);
    expect(client.member("me")?.status).toBe("online");
  });

  it("asks for a snapshot on a sequence gap and ignores diffs until it arrives", async () => {
    const socket = await connected();
    socket.receive(sync(0, [m("me"), m("a"), m("b", { data: 1 }), m("c")]));
    socket.receive(diff(2, [["join", m("missed")]]));
    expect(socket.sent).toContainEqual({ type: "sync" });
    expect(client.member("missed")).toBeUndefined();
    socket.receive(diff(3, [["join", m("late")]]));
    expect(client.member("late")).toBeUndefined();
    expect(events).toEqual([]);

    // The fresh snapshot: a left, b updated, c offline, d joined, me unchanged.
    socket.receive(sync(7, [m("me"), m("b", { data: 2 }), m("c", { status: "offline", clients: 0 }), m("d")]));
    expect(socket.sent.filter((x) => JSON.stringify(x) === '{"type":"sync"}')).toHaveLength(1);
    expect(events.sort()).toEqual(["join:d", "leave:a", "offline:c", "update:b"]);
    expect(resynced.every((x) => x)).toBe(true);
    expect(ids()).toEqual(["b:online", "c:offline", "d:online", "me:online"]);

    // Diffs flow again from the new sequence number.
    socket.receive(diff(8, [["join", m("e")]]));
    expect(client.member("e")).toBeDefined();
  });

  it("resyncs after a reconnect and reports what changed while it was away", async () => {
    const first = await connected();
    first.receive(sync(3, [m("me"), m("ted")]));
    first.die();
    const second = await nextSocket(2);
    second.open();
    second.receive(sync(9, [m("me"), m("ted", { status: "offline", clients: 0 }), m("zoe")]));
    expect(events.sort()).toEqual(["join:zoe", "offline:ted"]);
    expect(resynced).toEqual([true, true]);
    // A diff numbered after the old snapshot but before the new one is stale.
    second.receive(diff(4, [["join", m("stale")]]));
    expect(client.member("stale")).toBeUndefined();
  });

  it("reconnects with its latest userData", async () => {
    const first = await connected();
    first.receive(sync(0, [m("me", { data: { v: 1 } })]));
    expect(new URL(first.url).searchParams.get("userData")).toBe('{"v":1}');
    client.setUserData({ v: 2 });
    expect(first.sent).toContainEqual({ type: "update", data: { v: 2 } });
    first.die();
    const second = await nextSocket(2);
    const query = new URL(second.url).searchParams;
    expect(query.get("userId")).toBe("me");
    expect(query.get("userData")).toBe('{"v":2}');
  });

  it("ignores unreadable messages from the room and keeps its list", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const socket = await connected();
    socket.receive(sync(0, [m("me")]));
    socket.receive("not json");
    socket.receive(JSON.stringify({ type: "diff", seq: "1", events: [] }));
    socket.receive(JSON.stringify({ type: "surprise" }));
    expect(ids()).toEqual(["me:online"]);
    socket.receive(diff(1, [["join", m("ok")]]));
    expect(events).toEqual(["join:ok"]);
  });
});

describe("PresenceClient hereNow", () => {
  it("asks over HTTP while its socket is not open, instead of failing", async () => {
    const urls: string[] = [];
    const answer = { code: 200, content: { channels: { room: { channel: "room", clientAmount: 1, userAmount: 1, clientTypes: {} } } } };
    const fakeFetch = (async (url: string | URL | Request) => {
      urls.push(String(url));
      return new Response(JSON.stringify(answer), { status: 200 });
    }) as typeof fetch;
    client = new PresenceClient({ host: "127.0.0.1:1", channel: "room", userId: "me", WebSocket: FakeWebSocket, fetch: fakeFetch });
    await nextSocket(1); // dialled, never opened
    await expect(client.hereNow()).resolves.toEqual(answer);
    expect(urls).toEqual(["http://127.0.0.1:1/herenow?channel=room"]);
  });

  it("asks over the socket when it is open", async () => {
    const socket = await connected();
    const pending = client.hereNow({ includeUsers: true });
    const sent = socket.sent.at(-1) as { type: string; id: string; includeUsers: boolean };
    expect(sent).toEqual({ type: "herenow", id: sent.id, includeUsers: true });
    const result = { channel: "room", clientAmount: 0, userAmount: 0, clientTypes: {}, users: [] };
    socket.receive({ type: "herenow", id: sent.id, result });
    await expect(pending).resolves.toEqual({ code: 200, content: { channels: { room: result } } });
  });
});

describe("PresenceClient's reconnects", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A client on the fake socket with the default connect timeout and these reconnect delays. */
  function slowClient(minReconnectionDelay: number, maxReconnectionDelay: number): PresenceClient {
    client = new PresenceClient({ host: "127.0.0.1:1", channel: "room", userId: "me", WebSocket: FakeWebSocket, minReconnectionDelay, maxReconnectionDelay });
    return client;
  }

  it("gives a slow connect 15 s before trying again (partysocket's 4 s would give up on a room busy with a crowd)", async () => {
    vi.useFakeTimers();
    slowClient(100, 1000);
    await vi.advanceTimersByTimeAsync(10);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(FakeWebSocket.instances, "gave up on the connect and dialed again").toHaveLength(1);
    FakeWebSocket.instances[0]!.open();
    expect(client.socket.readyState).toBe(1);
  });

  it("waits a random extra time of up to partysocket's own delay before a reconnect", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.9);
    slowClient(1000, 10_000);
    await vi.advanceTimersByTimeAsync(10);
    FakeWebSocket.instances[0]!.open();
    FakeWebSocket.instances[0]!.die();
    // partysocket's own wait for the first retry is 1000 ms; the jitter adds 0.9 × 1000.
    await vi.advanceTimersByTimeAsync(1800);
    expect(FakeWebSocket.instances, "dialed again before the jitter ran out").toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});
