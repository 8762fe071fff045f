/**
 * The channel room's per-socket bookkeeping in one place: which socket owns each connection
 * id now (partysocket reuses the id across reconnects, so a stale socket's late close must
 * not drop the new one), and each socket's flood state (token bucket, rejections in a row).
 * Both are forgotten together, in `forget`.
 */
import { TokenBucket } from "./rate-limit.ts";
import type { Socket, SocketState } from "./sockets.ts";

/** How stale a socket's saved last-activity time may get; the idle check allows for it. */
const ACTIVE_WRITE_MS = 1000;

/** Flood limits per socket. */
export type FloodLimits = { ratePerSec: number; rateBurst: number; abuseCloseAfter: number };

type Entry = { instance: string; expiresAt: number | null; bucket: TokenBucket | null; strikes: number };

/** The verdict on one more rejected message from a socket. */
export type Strike = { strikes: number; close: boolean };

/** Ownership of connection ids and flood state, per socket. */
export class SocketRegistry {
  readonly #limits: FloodLimits;
  /** By connection id: the socket instance that owns it, and its flood state. */
  readonly #entries = new Map<string, Entry>();

  constructor(limits: FloodLimits) {
    this.#limits = limits;
  }

  /**
   * The sockets that survived a restart or a wake: the newest per connection id becomes its
   * owner. Returns the owners, and the older duplicates the caller must close as replaced.
   */
  adopt(sockets: Iterable<Socket>): { owners: Socket[]; stale: Socket[] } {
    const newest = new Map<string, Socket>();
    const stale: Socket[] = [];
    for (const socket of sockets) {
      if (!socket.state) continue;
      const other = newest.get(socket.id);
      if (other && other.state!.at >= socket.state.at) {
        stale.push(socket);
        continue;
      }
      if (other) stale.push(other);
      newest.set(socket.id, socket);
    }
    for (const socket of newest.values()) this.#entries.set(socket.id, entry(socket.state!));
    return { owners: [...newest.values()], stale };
  }

  /** Whether a connection id is owned by a live socket now (a reconnect, not a new client). */
  owned(connectionId: string): boolean {
    return this.#entries.has(connectionId);
  }

  /** A new socket takes its connection id; its state goes into the connection (hibernation-safe). */
  accept(socket: Socket, state: SocketState): void {
    socket.setState(state);
    this.#entries.set(socket.id, entry(state));
  }

  /** Whether this socket still owns its connection id (a stale one's late close is ignored). */
  isCurrent(socket: Socket): boolean {
    const instance = socket.state?.instance;
    return instance !== undefined && this.#entries.get(socket.id)?.instance === instance;
  }

  /** Forgets a connection id: its owner and its flood state. */
  forget(connectionId: string): void {
    this.#entries.delete(connectionId);
  }

  /** The earliest token expiry of a socket held now, or null. */
  nextExpiry(): number | null {
    let next = Infinity;
    for (const { expiresAt } of this.#entries.values()) if (expiresAt !== null && expiresAt < next) next = expiresAt;
    return Number.isFinite(next) ? next : null;
  }

  /** The connection ids whose token has expired by `now`. */
  expired(now: number): string[] {
    const ids: string[] = [];
    for (const [connectionId, { expiresAt }] of this.#entries) if (expiresAt !== null && expiresAt <= now) ids.push(connectionId);
    return ids;
  }

  /** Notes a message from the socket: keeps its saved last activity fresh enough for an idle check after a wake. */
  noteActivity(socket: Socket, now: number): void {
    const state = socket.state!;
    if (now - (state.active ?? state.at) >= ACTIVE_WRITE_MS) socket.setState({ ...state, active: now });
  }

  /** Takes one message from the socket's token bucket; false means over the rate. */
  admit(socket: Socket, now: number): boolean {
    const found = this.#entries.get(socket.id);
    if (!found) return true;
    found.bucket ??= new TokenBucket(this.#limits.ratePerSec, this.#limits.rateBurst, now);
    return found.bucket.take(now);
  }

  /**
   * The room sent this socket something that asks for an answer (a push): its bucket gets a
   * token for that answer, so a client that acknowledges every push never hits the rate limit.
   */
  credit(connectionId: string, now: number): void {
    const found = this.#entries.get(connectionId);
    if (!found) return;
    found.bucket ??= new TokenBucket(this.#limits.ratePerSec, this.#limits.rateBurst, now);
    found.bucket.credit();
  }

  /** A message from the socket was valid: its run of rejections ends. */
  forgive(socket: Socket): void {
    const found = this.#entries.get(socket.id);
    if (found) found.strikes = 0;
  }

  /** A message from the socket was rejected: counts it, and says whether the socket must now be closed. */
  strike(socket: Socket): Strike {
    const found = this.#entries.get(socket.id);
    const strikes = found ? ++found.strikes : 1;
    return { strikes, close: strikes >= this.#limits.abuseCloseAfter };
  }
}

function entry(state: SocketState): Entry {
  return { instance: state.instance, expiresAt: state.expiresAt ?? null, bucket: null, strikes: 0 };
}
