/**
 * A connect the edge admitted, as the channel takes it: the room's and the user's caps, the
 * socket's identity (kept with the socket, so it survives hibernation), the older socket of
 * the same connection id closed (a partysocket reconnect), the client in the presence state, a
 * one-client policy applied, the snapshot, and the pushes still waiting for this user.
 */
import { type AcceptedHandshake, CloseCode, type ErrorCode } from "../protocol/index.ts";
import type { Broadcaster } from "./broadcaster.ts";
import { type Channel, closeSocket } from "./channel.ts";
import type { Departures } from "./departures.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketState } from "./sockets.ts";

/** The channel's door. */
export class Admission {
  readonly #channel: Channel;
  readonly #broadcaster: Broadcaster;
  readonly #pushes: ChannelPushes;
  readonly #departures: Departures;

  constructor(channel: Channel, broadcaster: Broadcaster, pushes: ChannelPushes, departures: Departures) {
    this.#channel = channel;
    this.#broadcaster = broadcaster;
    this.#pushes = pushes;
    this.#departures = departures;
  }

  /** Takes a socket the edge admitted with this handshake; `instance` names the socket from now on. */
  admit(connectionId: string, instance: string, handshake: AcceptedHandshake, now: number): void {
    const { config, members, sockets, out } = this.#channel;
    const { userId, userData, clientType, window, dataLocked, expiresAt } = handshake;
    // A reconnect of the same partysocket reuses the id: it is not a new client.
    const replacing = sockets.owned(connectionId);
    if (!replacing && members.liveClientCount() >= config.maxClients) {
      return this.#refuse(connectionId, "room_full", `room is full (${config.maxClients} clients); try again later`);
    }
    if (userId !== null && !replacing && members.liveClientCount(userId) >= config.maxClientsPerUser) {
      return this.#refuse(connectionId, "user_full", `user ${userId} has ${config.maxClientsPerUser} clients here already`);
    }
    const old = sockets.stateOf(connectionId);
    const identity: SocketState = { instance, userId, clientType, at: now };
    if (dataLocked) identity.dataLocked = true;
    if (expiresAt !== null) identity.expiresAt = expiresAt;
    if (window > 0) identity.window = window;
    sockets.accept(connectionId, identity);
    if (old) closeSocket(this.#channel, connectionId, CloseCode.replaced, "replaced by a newer connection with the same id", old.instance);
    members.connect({ connectionId, userId, clientType, data: userData }, now);
    if (userId !== null) this.#departures.replaceOthers(connectionId, userId, clientType, now);
    this.#broadcaster.snapshot(connectionId, now);
    // After the snapshot: pushes for this user still waiting for this client.
    if (userId !== null) this.#pushes.connected(connectionId, userId, clientType, now);
    out.tick();
  }

  /**
   * Refuses an accepted socket. The error frame goes first: with hibernatable sockets a close
   * made while handling another event can take until the next hibernation to end the TCP
   * connection, so clients learn why from the frame, at once.
   */
  #refuse(connectionId: string, reason: Extract<ErrorCode, "room_full" | "user_full">, message: string): void {
    const { stats, out } = this.#channel;
    stats.count("refusedConnections", reason);
    // Addressed to this socket alone: its id may be another socket's (partysocket retries with the same one).
    out.send(connectionId, { type: "error", code: reason, message }, NEW_SOCKET);
    closeSocket(this.#channel, connectionId, CloseCode.tryAgainLater, message, NEW_SOCKET);
  }
}

/** The instance that names a socket the room has not accepted (it has no state): the one being connected. */
export const NEW_SOCKET = "";
