/**
 * The edge's copy of the ban list, one per isolate. Checking a connect against the list costs
 * no request: the copy is read from the index room at most once per refresh interval (and
 * only when a check needs it), by one call that every check waiting on it shares. A ban or a
 * lift made through this isolate is in its copy at once; other isolates see it within the
 * interval. When the index cannot be reached the last copy stands until the next interval: a
 * ban list that is down must neither keep every user out nor cost a request per check.
 */
import type { Parties } from "./calls.ts";
import { HttpError } from "./envelope.ts";
import type { Ban } from "../protocol/index.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";

/** How long an isolate trusts its copy of the ban list. */
export const BAN_REFRESH_MS = 5000;

/** An isolate's copy of the bans in force. */
export class BanCache {
  readonly #refreshMs: number;
  readonly #now: () => number;
  #bans = new Map<string, Ban>();
  /** When the copy was last read (0: never). */
  #readAt = 0;
  #reading: Promise<void> | null = null;

  constructor(options: { refreshMs?: number; now?: () => number } = {}) {
    this.#refreshMs = options.refreshMs ?? BAN_REFRESH_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The user's ban in force now, or null; reads the list first when the copy is older than the interval. */
  async banOf(userId: string, parties: Parties): Promise<Ban | null> {
    await this.#fresh(parties);
    const ban = this.#bans.get(userId);
    return ban !== undefined && ban.until > this.#now() ? ban : null;
  }

  /** Whether any ban is in force now (reading the list first when the copy is stale): while none is, nothing needs looking up. */
  async any(parties: Parties): Promise<boolean> {
    await this.#fresh(parties);
    const now = this.#now();
    for (const ban of this.#bans.values()) if (ban.until > now) return true;
    return false;
  }

  /** A ban this isolate just made: in the copy at once. */
  remember(ban: Ban): void {
    this.#bans.set(ban.userId, ban);
  }

  /** A ban this isolate just lifted: out of the copy at once. */
  forget(userId: string): void {
    this.#bans.delete(userId);
  }

  /** Reads the list when the copy is older than the interval. */
  async #fresh(parties: Parties): Promise<void> {
    if (this.#now() - this.#readAt >= this.#refreshMs) await this.#refresh(parties);
  }

  /** One read of the list at a time; every check waiting shares it. */
  #refresh(parties: Parties): Promise<void> {
    this.#reading ??= (async () => {
      try {
        const { bans } = await parties.call(INDEX_PARTY, INDEX_ROOM, "bans", {});
        this.#bans = new Map(bans.map((ban) => [ban.userId, ban]));
      } catch {
        // Keep the last copy, and try again after the interval, not on every check.
      } finally {
        this.#readAt = this.#now();
        this.#reading = null;
      }
    })();
    return this.#reading;
  }
}

/** The refusal of a banned user, for the envelope and the room's stats (the room's HTTP clients answer it as data). */
export function bannedRefusal(ban: Ban): { status: 403; error: "banned"; message: string } {
  const reason = ban.reason === "" ? "" : ` (${ban.reason})`;
  return { status: 403, error: "banned", message: `user ${ban.userId} is banned until ${new Date(ban.until).toISOString()}${reason}` };
}

/** The refusal of a banned user, thrown at the edge (403 `banned`). */
export function bannedError(ban: Ban): HttpError {
  const { status, error, message } = bannedRefusal(ban);
  return new HttpError(status, error, message);
}
