/**
 * The sending floor for `npm run bench`'s large rooms: the least a room can do and still give
 * every client what interval mode promises it at the least, the exact counts. It keeps a
 * counter of open sockets, sends each new socket the count, and every second sends every
 * socket the count when it changed. No members, no window, no storage, no directory: what is
 * left of ours' cost above it is ours; what it costs above the do-nothing floor is the
 * engine's price of sending. Only bench/partykit.json mounts it, as the `counts` party.
 */
import type * as Party from "partykit/server";

/** Ours' default PRESENCE_INTERVAL_MS: the counts go out at most once per interval. */
const INTERVAL_MS = 1000;

/** One counts message, in the bench client's terms (`userAmount`, one socket per user). */
const countsText = (sockets: number) => `{"type":"counts","userAmount":${sockets},"clientAmount":${sockets}}`;

export default class CountsRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };
  #sockets = 0;
  #sent = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly room: Party.Room) {}

  onConnect(socket: Party.Connection) {
    this.#sockets++;
    socket.send(countsText(this.#sockets));
    this.#timer ??= setInterval(() => this.#tick(), INTERVAL_MS);
  }

  onClose() {
    this.#sockets--;
  }

  onError() {
    this.#sockets--;
  }

  /** Sends every socket the count, if it changed since the last tick; stops when the room is empty. */
  #tick() {
    if (this.#sockets === this.#sent) {
      if (this.#sockets === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
      return;
    }
    this.#sent = this.#sockets;
    const text = countsText(this.#sockets);
    for (const socket of this.room.getConnections()) socket.send(text);
  }

  onRequest() {
    return Response.json({ sockets: this.#sockets });
  }
}
