/**
 * The peer for `npm run bench`: y-partykit's Yjs room, whose awareness is what a PartyKit
 * user reaches for today to show who is here. Clients use `y-partykit/provider` and put
 * their id and userData in their awareness state. Not part of the service: only
 * bench/partykit.json mounts it, as the `yjs` party. HTTP answers with its socket count.
 */
import type * as Party from "partykit/server";
import { onConnect } from "y-partykit";

export default class YjsRoom implements Party.Server {
  constructor(readonly room: Party.Room) {}

  onConnect(socket: Party.Connection) {
    return onConnect(socket, this.room);
  }

  onRequest() {
    return Response.json({ code: 200, content: { sockets: [...this.room.getConnections()].length } });
  }
}
