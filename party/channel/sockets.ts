/**
 * The channel's sockets as the core knows them: each connection id's owner (partysocket reuses
 * the id across reconnects, so only the newest socket of an id counts, and a stale one's late
 * close is ignored), the state it keeps across hibernation, and its flood state (a token
 * bucket, rejections in a row). Pure: a change of a socket's state goes out as a `remember`
 * effect, which the engine keeps with the socket.
 */
import { TokenBucket } from "./rate-limit.ts";
import type { Outbox } from "./effects.ts";
import type { ServerMessage } from "../protocol/index.ts";

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

/** A socket as the engine hands it to the core: its connection id and the state it kept (null for one the core has not accepted). */
export type SocketView = { readonly id: string; readonly state: Readonly<SocketState> | null };

/** How stale a socket's saved last-activity time may get; the idle check allows for it. */
const ACTIVE_WRITE_MS = 1000;

/** Flood limits per socket. */
export type FloodLimits = { ratePerSec: number; rateBurst: number; abuseCloseAfter: number };

type Entry = { state: SocketState; bucket: TokenBucket | null; strikes: number };

/** The verdict on one more rejected message from a socket. */
export type Strike = { strikes: number; close: boolean };

/** The sockets a channel holds, one per connection id. */
export class SocketBook {
  readonly #limits: FloodLimits;
  readonly #out: Outbox;
  readonly #entries = new Map<string, Entry>();

  constructor(limits: FloodLimits, out: Outbox) {
    this.#limits = limits;
    this.#out = out;
  }

  /**
   * The sockets that survived a restart or a wake: the newest per connection id becomes its
   * owner. Returns the owners, and the older duplicates the caller must close as replaced.
   */
  adopt(sockets: Iterable<SocketView>): { owners: Array<{ id: string; state: SocketState }>; stale: Array<{ id: string; instance: string }> } {
    this.#entries.clear();
    const newest = new Map<string, SocketState>();
    const stale: Array<{ id: string; instance: string }> = [];
    for (const { id, state } of sockets) {
      if (!state) continue;
      const other = newest.get(id);
      if (other && other.at >= state.at) {
        stale.push({ id, instance: state.instance });
        continue;
      }
      if (other) stale.push({ id, instance: other.instance });
      newest.set(id, { ...state });
    }
    for (const [id, state] of newest) this.#entries.set(id, { state, bucket: null, strikes: 0 });
    return { owners: [...newest].map(([id, state]) => ({ id, state })), stale };
  }

  /** Whether a connection id is owned by a live socket now (a reconnect, not a new client). */
  owned(connectionId: string): boolean {
    return this.#entries.has(connectionId);
  }

  /** A new socket takes its connection id; its state goes with the socket (hibernation-safe). */
  accept(connectionId: string, state: SocketState): void {
    this.#entries.set(connectionId, { state, bucket: null, strikes: 0 });
    this.#out.remember(connectionId, state);
  }

  /** Whether this socket owns its connection id (a stale one's late frames and close are ignored). */
  isCurrent(socket: SocketView): boolean {
    const instance = socket.state?.instance;
    return instance !== undefined && this.#entries.get(socket.id)?.state.instance === instance;
  }

  /** The state of the socket that owns a connection id. */
  stateOf(connectionId: string): Readonly<SocketState> | undefined {
    return this.#entries.get(connectionId)?.state;
  }

  /** Changes the owner's state (a window, a leave) and keeps it with the socket. */
  update(connectionId: string, change: (state: SocketState) => SocketState): void {
    const entry = this.#entries.get(connectionId);
    if (!entry) return;
    entry.state = change({ ...entry.state });
    this.#out.remember(connectionId, entry.state);
  }

  /** Every socket held, with its state (members' and observers'). */
  *all(): Iterable<{ id: string; state: Readonly<SocketState> }> {
    for (const [id, { state }] of this.#entries) yield { id, state };
  }

  /** How many sockets are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets a connection id: its owner and its flood state. */
  forget(connectionId: string): void {
    this.#entries.delete(connectionId);
  }

  /** The earliest token expiry of a socket held now, or null. */
  nextExpiry(): number | null {
    let next = Infinity;
    for (const { state } of this.#entries.values()) if (state.expiresAt !== undefined && state.expiresAt < next) next = state.expiresAt;
    return Number.isFinite(next) ? next : null;
  }

  /** The connection ids whose token has expired by `now`. */
  expired(now: number): string[] {
    const ids: string[] = [];
    for (const [id, { state }] of this.#entries) if (state.expiresAt !== undefined && state.expiresAt <= now) ids.push(id);
    return ids;
  }

  /** Notes a message from the socket: keeps its saved last activity fresh enough for an idle check after a wake. */
  noteActivity(connectionId: string, now: number): void {
    const entry = this.#entries.get(connectionId);
    if (!entry) return;
    if (now - (entry.state.active ?? entry.state.at) < ACTIVE_WRITE_MS) return;
    entry.state = { ...entry.state, active: now };
    this.#out.remember(connectionId, entry.state);
  }

  /** Takes one message from the socket's token bucket; false means over the rate. */
  admit(connectionId: string, now: number): boolean {
    const entry = this.#entries.get(connectionId);
    if (!entry) return true;
    entry.bucket ??= new TokenBucket(this.#limits.ratePerSec, this.#limits.rateBurst, now);
    return entry.bucket.take(now);
  }

  /**
   * Sends a frame that asks for an answer (a push). The rule that answers are not rate-limited
   * lives here: the socket's bucket gets a token for that answer, so a client that acknowledges
   * every push never hits the rate limit.
   */
  ask(connectionId: string, message: ServerMessage, now: number): void {
    const entry = this.#entries.get(connectionId);
    if (entry) {
      entry.bucket ??= new TokenBucket(this.#limits.ratePerSec, this.#limits.rateBurst, now);
      entry.bucket.credit();
    }
    this.#out.send(connectionId, message);
  }

  /** A message from the socket was valid: its run of rejections ends. */
  forgive(connectionId: string): void {
    const entry = this.#entries.get(connectionId);
    if (entry) entry.strikes = 0;
  }

  /** A message from the socket was rejected: counts it, and says whether the socket must now be closed. */
  strike(connectionId: string): Strike {
    const entry = this.#entries.get(connectionId);
    const strikes = entry ? ++entry.strikes : 1;
    return { strikes, close: strikes >= this.#limits.abuseCloseAfter };
  }
}
