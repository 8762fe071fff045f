/**
 * The channel's HTTP clients as it stores them: one row per client (`h:CLIENTID`), with its
 * user, type, TTL and deadline, so they survive hibernation, eviction and a `kill -9`; and a
 * marker for a client a one-client policy replaced, whose heartbeats are refused until its TTL
 * from the replacement has passed (or it would take its place back on each one). Pure: a
 * change applies here at once and goes out as a `write` effect.
 */
import type { Outbox } from "./effects.ts";

/** Where HTTP clients' rows are kept. */
export const HTTP_CLIENT_PREFIX = "h:";
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

/** The HTTP clients' rows. */
export class HttpClientRows {
  readonly #out: Outbox;
  readonly #rows = new Map<string, HttpClientRow>();

  constructor(out: Outbox) {
    this.#out = out;
  }

  /** Takes the stored rows (the caller read them); returns the clients that are not replaced. */
  restore(rows: Iterable<HttpClientRow>): HttpClientRow[] {
    this.#rows.clear();
    for (const row of rows) this.#rows.set(row.clientId, row);
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
    this.#out.write([[HTTP_CLIENT_PREFIX + row.clientId, row]]);
  }

  /** Forgets a client (it left or expired). */
  delete(clientId: string): void {
    if (!this.#rows.delete(clientId)) return;
    this.#out.write([], [HTTP_CLIENT_PREFIX + clientId]);
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
}
