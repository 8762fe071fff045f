/**
 * The Workers engine's sending floor for `npm run bench`: bench/counts-room.ts on partyserver
 * (count the sockets, send each new one the count, and every second every socket the count
 * when it changed; nothing else). Only bench/workers/worker.ts mounts it, as the `counts` party.
 */
import { Server } from "partyserver";
import { SocketCount } from "../floors.ts";

export class CountsRoom extends Server {
  static override options = { hibernate: true };
  readonly #count = new SocketCount();

  override onConnect(socket: { send(text: string): void }) {
    this.#count.joined((text) => socket.send(text), () => this.getConnections());
  }

  override onClose() {
    this.#count.left();
  }

  override onError() {
    this.#count.left();
  }

  override onRequest() {
    return Response.json({ sockets: this.#count.sockets });
  }
}
