/**
 * The engine's floor for `npm run bench`: a room that accepts sockets and does nothing
 * else, and answers HTTP with a fixed empty herenow. What any room costs on `partykit dev`
 * before its own logic runs. Only bench/partykit.json mounts it, as the `empty` party.
 */
import type * as Party from "partykit/server";

export default class EmptyRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  onRequest() {
    const channel = { channel: this.room.id, clientAmount: 0, userAmount: 0, users: [] };
    return Response.json({ code: 200, content: { channels: { [this.room.id]: channel } } });
  }
}
