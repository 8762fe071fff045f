/**
 * The service's bans, pure logic: who is kept out until when. They live in the index's root
 * room (stored, so they survive a restart); ban replicas copy them, and every edge isolate
 * keeps a copy read from one replica (edge/bans.ts, ban-replica.ts). A
 * ban ends at its time, or when it is lifted; a new ban of the same user replaces the old.
 */
import { type Ban, MAX_BANS } from "../protocol/index.ts";

/** The bans in force. */
export class BanList {
  readonly #bans = new Map<string, Ban>();

  /** Bans from storage (after a restart); those already over are dropped by the next `expire`. */
  restore(bans: Iterable<Ban>): void {
    for (const ban of bans) this.#bans.set(ban.userId, ban);
  }

  /** Adds or replaces the user's ban; false (nothing changed) when the list is full of other users' bans. */
  ban(ban: Ban): boolean {
    if (!this.#bans.has(ban.userId) && this.#bans.size >= MAX_BANS) return false;
    this.#bans.set(ban.userId, ban);
    return true;
  }

  /** Lifts the user's ban; whether there was one. */
  lift(userId: string): boolean {
    return this.#bans.delete(userId);
  }

  /** The bans in force at `now`. */
  active(now: number): Ban[] {
    return [...this.#bans.values()].filter((ban) => ban.until > now);
  }

  /** Drops the bans over at `now`; returns their user ids. */
  expire(now: number): string[] {
    const over: string[] = [];
    for (const [userId, ban] of this.#bans) if (ban.until <= now) over.push(userId);
    for (const userId of over) this.#bans.delete(userId);
    return over;
  }

  /** When the next ban ends, or null with none. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const ban of this.#bans.values()) if (next === null || ban.until < next) next = ban.until;
    return next;
  }
}
