/**
 * How a client's time in the channel ends, in one place. A socket closed or failed (its client
 * goes into grace), fell silent past the heartbeat timeout (4001), outlived its token (4003),
 * was replaced by a newer client of its user under a one-client policy (4002, no grace), was
 * kicked by the operator (4004), or kept sending what the room rejects (1008). An HTTP client
 * lapses (its TTL ran out), is replaced, or is kicked. Every end forgets the client in each part
 * that kept something for it: its ownership and flood state, its pushes in flight, its watch list.
 */
import { CloseCode, type KickedClient } from "../protocol/index.ts";
import { type Channel, closeSocket } from "./channel.ts";
import { httpClientIdOf, type HttpClientRows } from "./http-client-rows.ts";
import type { ChannelPushes } from "./pushes.ts";
import { isPlaceholder } from "./restart-hold.ts";
import type { SocketView } from "./sockets.ts";
import type { Watching } from "./watching.ts";

/** The ends of clients. */
export class Departures {
  readonly #channel: Channel;
  readonly #pushes: ChannelPushes;
  readonly #watching: Watching;
  readonly #httpClients: HttpClientRows;

  constructor(channel: Channel, pushes: ChannelPushes, watching: Watching, httpClients: HttpClientRows) {
    this.#channel = channel;
    this.#pushes = pushes;
    this.#watching = watching;
    this.#httpClients = httpClients;
  }

  /** The engine says the socket closed or failed: its client goes into grace, unless a newer socket took its id. */
  closed(socket: SocketView, now: number): void {
    const { sockets, members, out } = this.#channel;
    if (!sockets.isCurrent(socket)) return;
    this.forget(socket.id, now);
    members.drop(socket.id, now);
    out.tick();
  }

  /** Silent past the heartbeat timeout: the presence state already dropped its client; its sockets are closed. */
  idle(connectionId: string, now: number): void {
    this.forget(connectionId, now);
    closeSocket(this.#channel, connectionId, CloseCode.heartbeatTimeout, `no message for ${this.#channel.config.heartbeatTimeoutMs} ms`);
  }

  /** Its token expired: the client goes into grace, where a reconnect with a fresh token finds it. */
  expired(connectionId: string, now: number): void {
    this.forget(connectionId, now);
    this.#channel.members.drop(connectionId, now);
    closeSocket(this.#channel, connectionId, CloseCode.tokenExpired, "token expired: reconnect with a fresh one");
  }

  /** An HTTP client's TTL ran out (the presence state already removed it): its row and pushes are forgotten. */
  lapsed(connectionId: string, now: number): void {
    this.forget(connectionId, now);
    const clientId = httpClientIdOf(connectionId);
    if (clientId !== null) this.#httpClients.delete(clientId);
  }

  /**
   * One-client policies: a new client of a user (a socket or an HTTP client) replaces the
   * user's others here (newest-per-user), or those of its clientType (newest-per-type).
   */
  replaceOthers(connectionId: string, userId: string, clientType: string | undefined, now: number): void {
    const policy = this.#channel.config.clientPolicy;
    if (policy === "multi") return;
    for (const other of this.#channel.members.clientsOf(userId)) {
      if (other.connectionId === connectionId || (policy === "newest-per-type" && other.clientType !== clientType)) continue;
      const reason = `replaced by a newer client of ${userId}${policy === "newest-per-type" ? ` (${clientType ?? "untyped"})` : ""}`;
      this.#replaced(other.connectionId, policy, reason, now);
    }
  }

  /**
   * The operator disconnected the user: each of its clients here, live or in grace, is gone at
   * once without grace (its member goes offline now); sockets are told why (`kicked`) and
   * closed with 4004, HTTP clients removed. Returns what was closed. `elsewhere`: clients held
   * for another object of the channel (a coordinator's shards'), which that object closes.
   */
  kick(userId: string, reason: string, now: number, elsewhere: (connectionId: string) => boolean = () => false): KickedClient[] {
    const { members, out } = this.#channel;
    const kicked: KickedClient[] = [];
    for (const { connectionId, clientType } of members.clientsOf(userId)) {
      if (elsewhere(connectionId)) continue;
      const socket = this.#channel.sockets.stateOf(connectionId);
      this.forget(connectionId, now);
      members.kick(connectionId, now);
      const clientId = httpClientIdOf(connectionId);
      if (clientId !== null) this.#httpClients.delete(clientId);
      if (socket) {
        out.send(connectionId, { type: "error", code: "kicked", message: reason });
        closeSocket(this.#channel, connectionId, CloseCode.kicked, reason);
      }
      // A placeholder of a restart (restored:USERID) had no client to close: not listed.
      if (!isPlaceholder(connectionId)) kicked.push(clientType === undefined ? { connectionId } : { connectionId, clientType });
    }
    out.tick();
    return kicked;
  }

  /** Too many rejected messages in a row: the socket is closed and its client goes into grace. */
  abusive(socket: SocketView, code: string, now: number): void {
    this.closed(socket, now);
    closeSocket(this.#channel, socket.id, CloseCode.policyViolation, `too many rejected messages (${code})`, socket.state?.instance);
  }

  /** Forgets a client in every part that kept something for it. */
  forget(connectionId: string, now: number): void {
    this.#channel.sockets.forget(connectionId);
    this.#pushes.forget(connectionId);
    this.#watching.forget(connectionId, now);
  }

  /**
   * A newer client of its user took its place: gone at once, told why; the user stays online,
   * so nobody sees an event. An HTTP client learns it from its next heartbeat (409 replaced).
   */
  #replaced(connectionId: string, policy: string, reason: string, now: number): void {
    const { members, stats, out } = this.#channel;
    const socket = this.#channel.sockets.stateOf(connectionId);
    this.forget(connectionId, now);
    members.replace(connectionId, now);
    const clientId = httpClientIdOf(connectionId);
    const row = clientId === null ? undefined : this.#httpClients.get(clientId);
    if (row) {
      stats.count("replacedClients", policy);
      this.#httpClients.replaced(row.clientId, now + row.ttlMs);
    }
    if (socket) {
      stats.count("replacedClients", policy);
      out.send(connectionId, { type: "error", code: "replaced", message: reason });
      closeSocket(this.#channel, connectionId, CloseCode.replacedByPolicy, reason);
    }
  }
}
