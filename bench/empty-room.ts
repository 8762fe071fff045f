/**
 * The engine's floor for `npm run bench`: a room that accepts sockets and does nothing
 * else. Its herenow lists no one, or with `?includeUsers=true&limit=P` a page of P made-up
 * users shaped like ours (`{"id":"u0","data":{"name":"User 0"}}`, at most 1,000), built once:
 * what the engine costs to answer a page of that size when building it costs nothing.
 * Only bench/partykit.json mounts it, as the `empty` party (bench/workers/empty-room.ts is the
 * same on partyserver).
 */
import type * as Party from "partykit/server";
import { floorHereNow } from "./floors.ts";

export default class EmptyRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  onRequest(request: Party.Request) {
    return floorHereNow(this.room.id, new URL(request.url).searchParams);
  }
}
