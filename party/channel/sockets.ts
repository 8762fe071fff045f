/**
 * A channel room's sockets as its parts use them: what each keeps in its state (it survives
 * hibernation), and the acts on them: send a message, send it to a connection id, close one
 * (every close the room makes is counted by reason).
 */
import { type Host, type HostSocket, sendText } from "../server/host.ts";
import type { ServerMessage } from "../protocol/index.ts";
import type { StatsCounters } from "./stats.ts";

/** What each socket keeps in its connection state (survives hibernation; keep it small). */
export type SocketState = {
  /** Unique per accepted socket: a reconnect with the same connection id gets a new one. */
  instance: string;
  /** null: an observer (from the start, or since it left). */
  userId: string | null;
  clientType?: string | undefined;
  /** When the socket was accepted; the newest of two sockets with one connection id wins. */
  at: number;
  /**
   * When it last sent a message, written at most once per ACTIVE_WRITE_MS: memory is lost
   * when the room hibernates, and a silent socket must not look fresh after every wake.
   */
  active?: number;
  /** The token fixed the userData: `update` is refused. */
  dataLocked?: true;
  /** When the socket's token expires (epoch ms): it is closed then. */
  expiresAt?: number;
  /** Interval mode: how many members, first by userId, it follows (absent: none). */
  window?: number;
};

/** A channel room's socket. */
export type Socket = HostSocket<SocketState>;

/** The room's sockets, for sending and closing. */
export class ChannelSockets {
  readonly #host: Host<SocketState>;
  readonly #stats: StatsCounters;

  constructor(host: Host<SocketState>, stats: StatsCounters) {
    this.#host = host;
    this.#stats = stats;
  }

  /** Every open socket, members' and observers'. */
  all(): Iterable<Socket> {
    return this.#host.sockets();
  }

  /** The socket(s) of a connection id (with hibernation, new wrapper objects each time: compare by `state.instance`). */
  of(connectionId: string): Iterable<Socket> {
    return this.#host.sockets(connectionId);
  }

  /** How many sockets are open. */
  count(): number {
    let n = 0;
    for (const _ of this.#host.sockets()) n++;
    return n;
  }

  send(socket: Socket, message: ServerMessage): void {
    sendText(socket, JSON.stringify(message));
  }

  /** Sends to every socket of a connection id. */
  sendTo(connectionId: string, message: ServerMessage): void {
    const text = JSON.stringify(message);
    for (const socket of this.#host.sockets(connectionId)) sendText(socket, text);
  }

  /** Closes a socket (a no-op when it is closed already) and counts the close by its code's name. */
  close(socket: Socket, code: number, reason: string): void {
    this.#stats.countClose(code);
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      // Already closed: nothing to do.
    }
  }
}
