/**
 * The engine's floor for `npm run bench`: a room that accepts sockets and does nothing
 * else. Its herenow lists no one, or with `?includeUsers=true&limit=P` a page of P made-up
 * users shaped like ours (`{"id":"u0","data":{"name":"User 0"}}`, at most 1,000), built once:
 * what the engine costs to answer a page of that size when building it costs nothing.
 * Only bench/partykit.json mounts it, as the `empty` party.
 */
import type * as Party from "partykit/server";

/** The most users one made-up page holds (ours: PRESENCE herenow's largest page). */
const MAX_PAGE = 1000;
const pages = new Map<number, unknown[]>();

/** P made-up users, the same every time. */
function pageOf(size: number): unknown[] {
  let users = pages.get(size);
  if (!users) pages.set(size, (users = Array.from({ length: size }, (_, i) => ({ id: `u${i}`, data: { name: `User ${i}` } }))));
  return users;
}

export default class EmptyRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  onRequest(request: Party.Request) {
    const params = new URL(request.url).searchParams;
    const limit = Math.min(MAX_PAGE, Math.max(0, Number(params.get("limit") ?? MAX_PAGE) || 0));
    const users = params.get("includeUsers") === "true" ? pageOf(limit) : [];
    const channel = { channel: this.room.id, clientAmount: 0, userAmount: 0, clientTypes: {}, users };
    return Response.json({ code: 200, content: { channels: { [this.room.id]: channel } } });
  }
}
