/**
 * A connect the edge admitted, as the room takes it: the room's and the user's caps, the
 * socket's identity in its state (it survives hibernation), the older socket of the same
 * connection id closed (a partysocket reconnect), the client in the presence state, a
 * one-client policy applied, the snapshot, and the pushes still waiting for this user.
 */
import type { Config } from "../server/config.ts";
import { readHandshake } from "../server/hand-off.ts";
import type { TickLoop } from "../server/tick-loop.ts";
import { CloseCode, type ErrorCode } from "../protocol/index.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { Departures } from "./departures.ts";
import type { PresenceState } from "./presence.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketRegistry } from "./registry.ts";
import type { ChannelSockets, Socket, SocketState } from "./sockets.ts";
import type { StatsCounters } from "./stats.ts";

/** The parts a connect touches. */
export type AdmissionParts = {
  config: Config;
  state: PresenceState;
  registry: SocketRegistry;
  sockets: ChannelSockets;
  stats: StatsCounters;
  broadcaster: Broadcaster;
  pushes: ChannelPushes;
  departures: Departures;
  ticks: TickLoop;
};

/** The room's door. */
export class Admission {
  readonly #parts: AdmissionParts;

  constructor(parts: AdmissionParts) {
    this.#parts = parts;
  }

  /** Takes a socket the edge admitted; `request` carries the handshake the edge accepted. */
  admit(socket: Socket, request: Request): void {
    const { config, state, registry, sockets, broadcaster, pushes, ticks } = this.#parts;
    const { userId, userData, clientType, window, dataLocked, expiresAt } = readHandshake(request);
    const now = Date.now();
    // A reconnect of the same partysocket reuses the id: it is not a new client.
    const replacing = registry.owned(socket.id);
    if (!replacing && state.liveClientCount() >= config.maxClients) {
      return this.#refuse(socket, "room_full", `room is full (${config.maxClients} clients); try again later`);
    }
    if (userId !== null && !replacing && state.liveClientCount(userId) >= config.maxClientsPerUser) {
      return this.#refuse(socket, "user_full", `user ${userId} has ${config.maxClientsPerUser} clients here already`);
    }
    const instance = crypto.randomUUID();
    const identity: SocketState = { instance, userId, clientType, at: now };
    if (dataLocked) identity.dataLocked = true;
    if (expiresAt !== null) identity.expiresAt = expiresAt;
    if (window > 0) identity.window = window;
    registry.accept(socket, identity);
    // Compared by instance: with hibernation, the engine hands out new wrapper objects.
    for (const other of sockets.of(socket.id)) {
      if (other.state?.instance !== instance) sockets.close(other, CloseCode.replaced, "replaced by a newer connection with the same id");
    }
    state.connect({ connectionId: socket.id, userId, clientType, data: userData }, now);
    if (userId !== null) this.#parts.departures.replaceOthers(socket.id, userId, clientType, now);
    broadcaster.snapshot(socket);
    // After the snapshot: pushes for this user still waiting for this client.
    if (userId !== null) pushes.connected(socket.id, userId, clientType);
    ticks.schedule();
  }

  /**
   * Refuses an accepted socket. The error frame goes first: with hibernatable sockets a close
   * made while handling another event can take until the next hibernation to end the TCP
   * connection, so clients learn why from the frame, at once.
   */
  #refuse(socket: Socket, reason: Extract<ErrorCode, "room_full" | "user_full">, message: string): void {
    const { stats, sockets } = this.#parts;
    stats.count("refusedConnections", reason);
    sockets.send(socket, { type: "error", code: reason, message });
    sockets.close(socket, CloseCode.tryAgainLater, message);
  }
}
