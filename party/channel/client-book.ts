/**
 * The clients of one channel as `PresenceState` keeps them: a record per connection id, and
 * the live ones (not in grace) counted in all and per user as they change, because the caps
 * are checked on every connect and must not cost a scan.
 */
import type { JsonValue } from "../wire/json.ts";

/** One client: a socket, live or lingering in grace after it was lost; or an HTTP client, live until it expires. */
export type ClientRecord = {
  connectionId: string;
  /** null: an observer. */
  userId: string | null;
  clientType: string | undefined;
  lastActive: number;
  /** Set when the socket is gone without a leave: the client is counted until then. */
  lingerUntil: number | null;
  /** When the socket was found gone (lingerUntil − grace). */
  droppedAt: number | null;
  /** An HTTP client's deadline: it is gone at this time without a renewal (no grace, no idle check). null: a socket. */
  expiresAt: number | null;
};

/** A live client as the room knows it: a socket on connect, or after a restart or a wake from hibernation; an HTTP client on its heartbeat or from storage. */
export type LiveClient = {
  /** The connection id (partysocket's, reused across reconnects). */
  connectionId: string;
  userId: string | null;
  clientType?: string | undefined;
  /** When the socket last sent a message, or the HTTP client last renewed, if known (kept across hibernation). */
  lastActive?: number | undefined;
  /** Set for an HTTP client: when it expires without a renewal. */
  expiresAt?: number | undefined;
};

/**
 * Told of each change to a member's client as the presence state makes it (a channel's shard
 * passes them on to its coordinator, shard-reporter.ts): it joined or came back, its user's data
 * changed, it was lost without a leave (`drop`: grace follows), it left, or it is gone without
 * grace (`end`: kicked, replaced, an HTTP client whose time ran out). Observers are left out.
 */
export type ClientListener = {
  connect(connectionId: string, userId: string, clientType: string | undefined, data: JsonValue): void;
  update(connectionId: string, data: JsonValue): void;
  drop(connectionId: string, lastSeen: number): void;
  leave(connectionId: string): void;
  end(connectionId: string, lastSeen: number): void;
};

/** The record of a socket that just connected or survived a wake. */
export function newClientRecord(client: LiveClient, now: number): ClientRecord {
  return {
    connectionId: client.connectionId,
    userId: client.userId,
    clientType: client.clientType,
    // A socket that survived a wake keeps its silence: the idle clock must not restart.
    lastActive: Math.min(client.lastActive ?? now, now),
    lingerUntil: null,
    droppedAt: null,
    expiresAt: client.expiresAt ?? null,
  };
}

/** Client records by connection id, with live counts. */
export class ClientBook {
  readonly #records = new Map<string, ClientRecord>();
  #liveTotal = 0;
  readonly #liveByUser = new Map<string, number>();

  /** The record of a connection id. */
  get(connectionId: string): ClientRecord | undefined {
    return this.#records.get(connectionId);
  }

  /** Every record. */
  values(): IterableIterator<ClientRecord> {
    return this.#records.values();
  }

  /** Stores a record, replacing any with its connection id. */
  put(record: ClientRecord): void {
    this.delete(record.connectionId);
    this.#records.set(record.connectionId, record);
    this.#count(record, 1);
  }

  /** Forgets every record. */
  clear(): void {
    this.#records.clear();
    this.#liveByUser.clear();
    this.#liveTotal = 0;
  }

  /** Forgets a record. */
  delete(connectionId: string): void {
    const record = this.#records.get(connectionId);
    if (!record) return;
    this.#records.delete(connectionId);
    this.#count(record, -1);
  }

  /** Live clients (members' and observers', not those in grace), in all or of one user. O(1). */
  liveCount(userId?: string): number {
    return userId === undefined ? this.#liveTotal : (this.#liveByUser.get(userId) ?? 0);
  }

  #count(record: ClientRecord, delta: 1 | -1): void {
    if (record.lingerUntil !== null) return;
    this.#liveTotal += delta;
    if (record.userId === null) return;
    const n = (this.#liveByUser.get(record.userId) ?? 0) + delta;
    if (n === 0) this.#liveByUser.delete(record.userId);
    else this.#liveByUser.set(record.userId, n);
  }
}
