/**
 * The channel room's HTTP clients as it stores them: one row per client (`h:CLIENTID`), with
 * its user, type, TTL and deadline, so they survive hibernation, eviction and a `kill -9`;
 * and a marker for a client a one-client policy replaced, whose heartbeats are refused until
 * its TTL from the replacement has passed (or it would take its place back on each one).
 * Changes apply in memory at once; their writes are awaited with `flush`.
 */
import type { HostStorage } from "../server/host.ts";
import { deleteAll } from "../server/storage.ts";
import { isUserId } from "../protocol/index.ts";

const ROW_PREFIX = "h:";
/** The connection id of an HTTP client is this plus its client id: `/` is in no socket's id, so none can clash. */
const CONNECTION_PREFIX = "http/";

/** One stored HTTP client. */
export type HttpClientRow = {
  clientId: string;
  userId: string;
  clientType: string;
  ttlMs: number;
  /** Its last heartbeat (epoch ms). */
  renewedAt: number;
  expiresAt: number;
  /** Set once a newer client of its user replaced it: heartbeats are refused until then. */
  replacedUntil?: number;
};

/** The connection id the presence state knows an HTTP client by. */
export function httpConnectionId(clientId: string): string {
  return CONNECTION_PREFIX + clientId;
}

/** The client id behind an HTTP client's connection id, or null for a socket's. */
export function httpClientIdOf(connectionId: string): string | null {
  return connectionId.startsWith(CONNECTION_PREFIX) ? connectionId.slice(CONNECTION_PREFIX.length) : null;
}

/** The HTTP clients' rows, in memory and in storage. */
export class HttpClientRows {
  readonly #storage: HostStorage;
  readonly #rows = new Map<string, HttpClientRow>();
  #writes: Array<Promise<unknown>> = [];

  constructor(storage: HostStorage) {
    this.#storage = storage;
  }

  /** Reads every row; returns the clients that are not replaced. A row whose userId the userId rule now refuses (stored before it) is deleted. */
  async load(): Promise<HttpClientRow[]> {
    this.#rows.clear();
    const refused: HttpClientRow[] = [];
    for (const row of (await this.#storage.list<HttpClientRow>({ prefix: ROW_PREFIX })).values()) {
      if (isUserId(row.userId)) this.#rows.set(row.clientId, row);
      else refused.push(row);
    }
    if (refused.length > 0) {
      console.warn(`presence: dropped ${refused.length} stored HTTP client(s) whose userId the userId rule refuses: ${refused.map((row) => row.clientId).join(", ")}`);
      await deleteAll(this.#storage, refused.map((row) => ROW_PREFIX + row.clientId));
    }
    return this.live();
  }

  /** The row of a client id (a live client or a replaced one's marker). */
  get(clientId: string): HttpClientRow | undefined {
    return this.#rows.get(clientId);
  }

  /** The clients that are not replaced, by client id. */
  live(): HttpClientRow[] {
    return [...this.#rows.values()].filter((row) => row.replacedUntil === undefined).sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
  }

  /** How many clients are live. */
  get liveCount(): number {
    let n = 0;
    for (const row of this.#rows.values()) if (row.replacedUntil === undefined) n++;
    return n;
  }

  /** Stores a client's row (created or renewed). */
  put(row: HttpClientRow): void {
    this.#rows.set(row.clientId, row);
    this.#write(this.#storage.put(ROW_PREFIX + row.clientId, row));
  }

  /** Forgets a client (it left or expired). */
  delete(clientId: string): void {
    if (!this.#rows.delete(clientId)) return;
    this.#write(this.#storage.delete(ROW_PREFIX + clientId));
  }

  /** A newer client of its user replaced it: its heartbeats are refused until `until`. */
  replaced(clientId: string, until: number): void {
    const row = this.#rows.get(clientId);
    if (row) this.put({ ...row, replacedUntil: until });
  }

  /** Forgets the markers of replaced clients whose time has passed. */
  sweep(now: number): void {
    for (const row of [...this.#rows.values()]) if (row.replacedUntil !== undefined && row.replacedUntil <= now) this.delete(row.clientId);
  }

  /** When the next marker may be forgotten, or null. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const row of this.#rows.values()) if (row.replacedUntil !== undefined && (next === null || row.replacedUntil < next)) next = row.replacedUntil;
    return next;
  }

  /** Waits for every write made so far. */
  async flush(): Promise<void> {
    const writes = this.#writes;
    this.#writes = [];
    await Promise.all(writes);
  }

  #write(promise: Promise<unknown>): void {
    // Its failure surfaces in `flush`; until then it is not an unhandled rejection.
    promise.catch(() => undefined);
    this.#writes.push(promise);
  }
}
