/**
 * A copy of the ban list, read from another room at most once per refresh interval (and only
 * when a check needs it), by one call that every check waiting on it shares. Checking against
 * it costs no request. Two kinds keep one:
 * - each edge isolate, reading its ban replica (`index/bans-N`, one picked at random per
 *   isolate) every 5 s: a ban or a lift made through this isolate is in its copy at once, and
 *   kept over the copies it reads for one more interval (its replica may not have it yet);
 * - each ban replica (index/ban-replica.ts), reading the root (`index/all`) every 1 s.
 * A ban made anywhere so holds in every isolate within BAN_REFRESH_MS + BAN_REPLICA_REFRESH_MS
 * (6 s, plus the calls' own time). When the source cannot be reached the last copy stands
 * until the next interval: a ban list that is down must neither keep every user out nor cost
 * a request per check.
 */
import type { Parties } from "./calls.ts";
import { HttpError } from "./envelope.ts";
import type { Ban } from "../protocol/index.ts";
import { banReplicaRoom, INDEX_PARTY } from "../wire/parties.ts";

/** How long an isolate trusts its copy of the ban list. */
export const BAN_REFRESH_MS = 5000;
/** How long a ban replica trusts its copy of the root's list. */
export const BAN_REPLICA_REFRESH_MS = 1000;
/** The longest a ban or a lift takes to hold in every isolate (besides the calls' own time). */
export const BAN_SPREAD_MS = BAN_REFRESH_MS + BAN_REPLICA_REFRESH_MS;

/** Where a copy reads the list: a room of the index party (the root `all`, or a replica `bans-N`), through these parties. */
export type BanSource = { parties: Parties; room: string };

/** A copy of the bans in force. */
export class BanCache {
  readonly #refreshMs: number;
  readonly #now: () => number;
  /** This copy's pick in [0, 1): which replica it reads (`replicaOf`), drawn at its first read and fixed for its life. */
  #pick: number | null;
  #bans = new Map<string, Ban>();
  /** Bans (a Ban) and lifts (null) made through this copy, with when: laid over each read for one interval. */
  readonly #made = new Map<string, { ban: Ban | null; at: number }>();
  /** When the copy was last read (0: never). */
  #readAt = 0;
  #reading: Promise<void> | null = null;

  constructor(options: { refreshMs?: number; now?: () => number; pick?: number } = {}) {
    this.#refreshMs = options.refreshMs ?? BAN_REFRESH_MS;
    this.#now = options.now ?? Date.now;
    this.#pick = options.pick ?? null;
  }

  /** The replica room this copy reads among `replicas` (`bans-N`): the same one for its life while the count stands. */
  replicaOf(replicas: number): string {
    // Drawn here, not at construction: an isolate's copy is made at module load, where a Worker gets no randomness.
    this.#pick ??= Math.random();
    return banReplicaRoom(Math.min(replicas - 1, Math.floor(this.#pick * replicas)));
  }

  /** The user's ban in force now, or null; reads the list first when the copy is older than the interval. */
  async banOf(userId: string, source: BanSource): Promise<Ban | null> {
    await this.#fresh(source);
    const ban = this.#bans.get(userId);
    return ban !== undefined && ban.until > this.#now() ? ban : null;
  }

  /** Whether any ban is in force now (reading the list first when the copy is stale): while none is, nothing needs looking up. */
  async any(source: BanSource): Promise<boolean> {
    await this.#fresh(source);
    const now = this.#now();
    for (const ban of this.#bans.values()) if (ban.until > now) return true;
    return false;
  }

  /** Every ban in force now (what a replica answers), reading the list first when the copy is stale. */
  async active(source: BanSource): Promise<Ban[]> {
    await this.#fresh(source);
    const now = this.#now();
    return [...this.#bans.values()].filter((ban) => ban.until > now);
  }

  /** A ban made through this copy: in it at once, and kept over the reads of the next interval. */
  remember(ban: Ban): void {
    this.#bans.set(ban.userId, ban);
    this.#made.set(ban.userId, { ban, at: this.#now() });
  }

  /** A ban lifted through this copy: out of it at once, and kept out over the reads of the next interval. */
  forget(userId: string): void {
    this.#bans.delete(userId);
    this.#made.set(userId, { ban: null, at: this.#now() });
  }

  /** Reads the list when the copy is older than the interval. */
  async #fresh(source: BanSource): Promise<void> {
    if (this.#now() - this.#readAt >= this.#refreshMs) await this.#refresh(source);
  }

  /** One read of the list at a time; every check waiting shares it. */
  #refresh(source: BanSource): Promise<void> {
    this.#reading ??= (async () => {
      try {
        const { bans } = await source.parties.call(INDEX_PARTY, source.room, "bans", {});
        this.#bans = new Map(bans.map((ban) => [ban.userId, ban]));
        this.#layMade();
      } catch {
        // Keep the last copy, and try again after the interval, not on every check.
      } finally {
        this.#readAt = this.#now();
        this.#reading = null;
      }
    })();
    return this.#reading;
  }

  /**
   * Lays the bans and lifts made here over the copy just read, for one interval after each was
   * made: the copy read may come from a replica that has not read the root since.
   */
  #layMade(): void {
    const now = this.#now();
    for (const [userId, { ban, at }] of this.#made) {
      if (now - at >= this.#refreshMs) this.#made.delete(userId);
      else if (ban === null) this.#bans.delete(userId);
      else this.#bans.set(userId, ban);
    }
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
