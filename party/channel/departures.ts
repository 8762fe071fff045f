/**
 * How a socket's time in the room ends, in one place. It closed or failed (its client goes
 * into grace), fell silent past the heartbeat timeout (4001), outlived its token (4003), was
 * replaced by a newer client of its user under a one-client policy (4002, no grace), or kept
 * sending what the room rejects (1008). Every end forgets the socket in each part that kept
 * something for it: its ownership and flood state, its pushes in flight, its watch list.
 * An HTTP client ends too: it expires (its TTL ran out) or a one-client policy replaces it.
 */
import type { Config } from "../server/config.ts";
import type { TickLoop } from "../server/tick-loop.ts";
import { CloseCode, type KickedClient } from "../protocol/index.ts";
import type { PresenceState } from "./presence.ts";
import { httpClientIdOf, type HttpClientRows } from "./http-client-rows.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketRegistry } from "./registry.ts";
import type { ChannelSockets, Socket } from "./sockets.ts";
import type { StatsCounters } from "./stats.ts";
import type { Watching } from "./watching.ts";

/** The parts a socket's end touches. */
export type DepartureParts = {
  config: Config;
  state: PresenceState;
  registry: SocketRegistry;
  sockets: ChannelSockets;
  stats: StatsCounters;
  pushes: ChannelPushes;
  watching: Watching;
  ticks: TickLoop;
  httpClients: HttpClientRows;
};

/** The ends of sockets. */
export class Departures {
  readonly #parts: DepartureParts;

  constructor(parts: DepartureParts) {
    this.#parts = parts;
  }

  /** The engine says the socket closed or failed: its client goes into grace, unless a newer socket took its id. */
  closed(socket: Socket): void {
    const { registry, state, ticks } = this.#parts;
    if (!registry.isCurrent(socket)) return;
    this.forget(socket.id);
    state.drop(socket.id, Date.now());
    ticks.schedule();
  }

  /** Silent past the heartbeat timeout: the state already dropped its client; its sockets are closed. */
  idle(connectionId: string): void {
    this.forget(connectionId);
    this.#closeAll(connectionId, CloseCode.heartbeatTimeout, `no message for ${this.#parts.config.heartbeatTimeoutMs} ms`);
  }

  /** Its token expired: the client goes into grace, where a reconnect with a fresh token finds it. */
  expired(connectionId: string, now: number): void {
    this.forget(connectionId);
    this.#parts.state.drop(connectionId, now);
    this.#closeAll(connectionId, CloseCode.tokenExpired, "token expired: reconnect with a fresh one");
  }

  /** An HTTP client's TTL ran out (the state already removed it): its row and pushes are forgotten. */
  lapsed(connectionId: string): void {
    this.forget(connectionId);
    const clientId = httpClientIdOf(connectionId);
    if (clientId !== null) this.#parts.httpClients.delete(clientId);
  }

  /**
   * One-client policies: a new client of a user (a socket or an HTTP client) replaces the
   * user's others here (newest-per-user), or those of its clientType (newest-per-type).
   */
  replaceOthers(connectionId: string, userId: string, clientType: string | undefined, now: number): void {
    const { config, state } = this.#parts;
    const policy = config.clientPolicy;
    if (policy === "multi") return;
    for (const other of state.clientsOf(userId)) {
      if (other.connectionId === connectionId || (policy === "newest-per-type" && other.clientType !== clientType)) continue;
      const reason = `replaced by a newer client of ${userId}${policy === "newest-per-type" ? ` (${clientType ?? "untyped"})` : ""}`;
      this.replaced(other.connectionId, policy, reason, now);
    }
  }

  /**
   * A newer client of its user took its place: gone at once, told why; the user stays online,
   * so nobody sees an event. An HTTP client learns it from its next heartbeat (409 replaced).
   */
  replaced(connectionId: string, policy: string, reason: string, now: number): void {
    const { state, sockets, stats, httpClients } = this.#parts;
    this.forget(connectionId);
    state.replace(connectionId, now);
    const clientId = httpClientIdOf(connectionId);
    const row = clientId === null ? undefined : httpClients.get(clientId);
    if (row) {
      stats.count("replacedClients", policy);
      httpClients.replaced(row.clientId, now + row.ttlMs);
    }
    for (const socket of sockets.of(connectionId)) {
      stats.count("replacedClients", policy);
      sockets.send(socket, { type: "error", code: "replaced", message: reason });
      sockets.close(socket, CloseCode.replacedByPolicy, reason);
    }
  }

  /**
   * The operator disconnected the user: each of its clients here, live or in grace, is gone at
   * once without grace (its member goes offline now); sockets are told why (`kicked`) and
   * closed with 4004, HTTP clients removed. Returns what was closed.
   */
  kick(userId: string, reason: string, now: number): KickedClient[] {
    const { state, sockets, httpClients, ticks } = this.#parts;
    const kicked: KickedClient[] = [];
    for (const { connectionId, clientType } of state.clientsOf(userId)) {
      this.forget(connectionId);
      state.kick(connectionId, now);
      const clientId = httpClientIdOf(connectionId);
      if (clientId !== null) httpClients.delete(clientId);
      for (const socket of sockets.of(connectionId)) {
        sockets.send(socket, { type: "error", code: "kicked", message: reason });
        sockets.close(socket, CloseCode.kicked, reason);
      }
      // A placeholder of a restart (restored:USERID) had no client to close: not listed.
      if (!connectionId.startsWith("restored:")) kicked.push(clientType === undefined ? { connectionId } : { connectionId, clientType });
    }
    ticks.schedule();
    return kicked;
  }

  /** Too many rejected messages in a row: the socket is closed and its client goes into grace. */
  abusive(socket: Socket, code: string): void {
    this.closed(socket);
    this.#parts.sockets.close(socket, CloseCode.policyViolation, `too many rejected messages (${code})`);
  }

  /** Forgets a socket in every part that kept something for it. */
  forget(connectionId: string): void {
    const { registry, pushes, watching } = this.#parts;
    registry.forget(connectionId);
    pushes.forget(connectionId);
    watching.forget(connectionId);
  }

  #closeAll(connectionId: string, code: number, reason: string): void {
    for (const socket of this.#parts.sockets.of(connectionId)) this.#parts.sockets.close(socket, code, reason);
  }
}
