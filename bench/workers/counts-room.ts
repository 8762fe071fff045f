/**
 * The Workers engine's sending floor for `npm run bench`: bench/counts-room.ts on partyserver
 * (count the sockets, send each new one the count, and every second every socket the count
 * when it changed; nothing else). Only bench/workers/worker.ts mounts it, as the `counts` party.
 */
import { Server } from "partyserver";

const INTERVAL_MS = 1000;
const countsText = (sockets: number) => `{"type":"counts","userAmount":${sockets},"clientAmount":${sockets}}`;

export class CountsRoom extends Server {
  static override options = { hibernate: true };
  #sockets = 0;
  #sent = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  override onConnect(socket: { send(text: string): void }) {
    this.#sockets++;
    socket.send(countsText(this.#sockets));
    this.#timer ??= setInterval(() => this.#tick(), INTERVAL_MS);
  }

  override onClose() {
    this.#sockets--;
  }

  override onError() {
    this.#sockets--;
  }

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
    for (const socket of this.getConnections()) socket.send(text);
  }

  override onRequest() {
    return Response.json({ sockets: this.#sockets });
  }
}
