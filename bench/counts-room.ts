/**
 * The sending floor for `npm run bench`'s large rooms: the least a room can do and still give
 * every client what interval mode promises it at the least, the exact counts. It keeps a
 * counter of open sockets, sends each new socket the count, and every second sends every
 * socket the count when it changed. No members, no window, no storage, no directory: what is
 * left of ours' cost above it is ours; what it costs above the do-nothing floor is the
 * engine's price of sending. Only bench/partykit.json mounts it, as the `counts` party
 * (bench/workers/counts-room.ts is the same on partyserver).
 */
import type * as Party from "partykit/server";
import { SocketCount } from "./floors.ts";

export default class CountsRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };
  readonly #count = new SocketCount();

  constructor(readonly room: Party.Room) {}

  onConnect(socket: Party.Connection) {
    this.#count.joined((text) => socket.send(text), () => this.room.getConnections());
  }

  onClose() {
    this.#count.left();
  }

  onError() {
    this.#count.left();
  }

  onRequest() {
    return Response.json({ sockets: this.#count.sockets });
  }
}
