/**
 * The service on the in-memory host (memory-host.ts) with the edge in front: the three
 * parties served with one set of settings; connects and requests that pass the edge's own
 * checks (party/edge/before.ts) as from outside, then reach the room's service; and what a
 * socket was sent, read back as presence events.
 */
import { afterEach, beforeEach, vi } from "vitest";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { DirectoryService } from "../../party/directory/service.ts";
import { partyHooks } from "../../party/edge/before.ts";
import { indexRoom } from "../../party/index/rooms.ts";
import { BanCache } from "../../party/server/ban-cache.ts";
import { loadConfig } from "../../party/server/config.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { PresenceEvent, ServerMessage } from "../../party/protocol/index.ts";
import { type MemoryHost, MemorySocket, MemoryWorld } from "./memory-host.ts";
import { type ReadDiff, WireReader } from "./messages.ts";

/** Connects a socket through the edge's checks, as a client with this query would; throws if refused. */
export async function joinThroughEdge(room: MemoryHost<SocketState>, edge: EdgeHost, id: string, query: string): Promise<MemorySocket<SocketState>> {
  const request = await partyHooks.main.beforeConnect(new Request(`http://memory/parties/main/${room.name}?_pk=${id}&${query}`), room.name, edge);
  if (request instanceof Response) throw new Error(`refused: ${await request.text()}`);
  return room.connect(new MemorySocket<SocketState>(id), request);
}

/** An HTTP request to a room path (`?stats`, `/clients/ID`…) through the edge's checks; its status and JSON body. */
export async function requestThroughEdge(
  room: MemoryHost<SocketState>,
  edge: EdgeHost,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const request = new Request(`http://memory/parties/main/${room.name}${path}`, init);
  const passed = await partyHooks.main.beforeRequest(request, room.name, edge);
  const response = passed instanceof Response ? passed : await room.service.request(passed);
  return { status: response.status, body: await response.json() };
}

/** The presence events a socket was sent, in order. */
export function eventsSent(socket: MemorySocket): PresenceEvent[] {
  const reader = new WireReader();
  return socket.sent
    .map((message: ServerMessage) => reader.read(message))
    .filter((message): message is ReadDiff => message.type === "diff")
    .flatMap((diff) => diff.events);
}

/** A world serving the three parties with these settings, and the edge in front of it. */
export function memoryService(env: Record<string, string>): { world: MemoryWorld; edge: EdgeHost } {
  const config = loadConfig(env);
  const world = new MemoryWorld();
  world.serve<SocketState>("main", (host) => new ChannelService(host, config));
  world.serve("directory", (host) => new DirectoryService(host, config));
  world.serve("index", (host) => indexRoom(host, config));
  return { world, edge: { env, parties: world.parties(), waitUntil: () => {}, bans: new BanCache(), now: () => Date.now() } };
}

/**
 * For the tests of a file or a describe block: a fresh service (`memoryService(env)`) on vitest's
 * fake timers, from `now`, before each test, handed to `take`; real timers after each.
 */
export function memoryServiceEach(env: Record<string, string>, take: (service: { world: MemoryWorld; edge: EdgeHost }) => void, now = 1_000_000): void {
  beforeEach(() => {
    vi.useFakeTimers({ now });
    take(memoryService(env));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
