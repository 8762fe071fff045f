/**
 * The directory's growth, one part's side of it: when PRESENCE_DIRECTORY_PARTS grew, users stored
 * here that the layout now places in another part are kept apart as moving (uncounted and
 * unchanged, with their channels' leases and watching rooms) until their new part has stored
 * them (`handOut`, then `forget`: their rows here go); users handed here from their old part
 * are taken as they were there (`adopt`). Neither is a transition or news: nothing anyone
 * sees changed. Pure.
 */
import type { HandedUser } from "../protocol/index.ts";
import type { ChannelLeases, StoredLease } from "./leases.ts";
import type { UserBook } from "./user-book.ts";
import { fromStored, type StoredUser, toStored } from "./user-rows.ts";
import type { StoredWatch, WatchLists } from "./watches.ts";

/** Users moving out of a part and handed into it. */
export class HandOver {
  readonly #users: UserBook;
  readonly #leases: ChannelLeases;
  readonly #watches: WatchLists;
  /** Users stored here that the current layout places elsewhere, as rows to hand over. */
  readonly #moving = new Map<string, HandedUser>();
  /** Users handed in this tick (rows to write, no transition) and handed out (rows to delete). */
  #adopted = new Set<string>();
  #forgotten = new Set<string>();

  constructor(users: UserBook, leases: ChannelLeases, watches: WatchLists) {
    this.#users = users;
    this.#leases = leases;
    this.#watches = watches;
  }

  /** After a restart: stored users the layout moved elsewhere are kept as moving, with their channels' stored leases and watching rooms. */
  keep(users: Iterable<StoredUser>, leaseRows: ReadonlyMap<string, StoredLease>, watchRows: Iterable<StoredWatch>): void {
    const watchersOf = new Map<string, Array<{ room: string; expiresAt: number }>>();
    for (const watch of watchRows) {
      for (const userId of watch.users) {
        let rooms = watchersOf.get(userId);
        if (!rooms) watchersOf.set(userId, (rooms = []));
        rooms.push({ room: watch.room, expiresAt: watch.expiresAt });
      }
    }
    for (const stored of users) {
      const leases: HandedUser["leases"] = {};
      // A lease row already gone (its other users left) is not trusted past the next expire.
      for (const channel of Object.keys(stored.channels)) leases[channel] = leaseRows.get(channel) ? { expiresAt: leaseRows.get(channel)!.expiresAt, renewedAt: leaseRows.get(channel)!.renewedAt } : { expiresAt: 0, renewedAt: stored.since };
      this.#moving.set(stored.id, { ...stored, leases, watchers: watchersOf.get(stored.id) ?? [] });
    }
  }

  /** How many users wait to be handed to their new part. */
  get movingCount(): number {
    return this.#moving.size;
  }

  /** Whether users were handed in or out this tick. */
  get changed(): boolean {
    return this.#adopted.size > 0 || this.#forgotten.size > 0;
  }

  /** The moving users among these ids (all of them without ids), as rows to hand over; they stay here until `forget`. */
  handOut(userIds?: Iterable<string>): HandedUser[] {
    if (!userIds) return [...this.#moving.values()];
    const rows: HandedUser[] = [];
    for (const userId of userIds) {
      const row = this.#moving.get(userId);
      if (row) rows.push(row);
    }
    return rows;
  }

  /** Moving users their new part has stored: their rows here go, with no transition and no news. */
  forget(userIds: Iterable<string>): void {
    for (const userId of userIds) if (this.#moving.delete(userId)) this.#forgotten.add(userId);
  }

  /**
   * Users handed here from their old part, as they were there: status, `since`, `lastSeen`,
   * data, channels with their leases, watching rooms. A user already known is left as it is
   * (what happened here since is newer). Returns how many were taken.
   */
  adopt(rows: Iterable<HandedUser>): number {
    let taken = 0;
    for (const row of rows) {
      if (this.#users.has(row.id) || this.#users.touched(row.id)) continue;
      const { leases, watchers, ...stored } = row;
      this.#users.put(fromStored(stored));
      this.#forgotten.delete(row.id);
      this.#adopted.add(row.id);
      for (const channel of Object.keys(stored.channels)) this.#leases.adopt(channel, row.id, leases[channel] ?? { expiresAt: 0, renewedAt: row.since });
      for (const { room, expiresAt } of watchers) this.#watches.add(room, row.id, expiresAt);
      taken++;
    }
    return taken;
  }

  /** Closes the tick: adds the rows of users handed in (unless `touched`, whose rows are written anyway) and the ids of users handed out. */
  takeRows(touched: ReadonlyMap<string, unknown>, rows: { upserts: StoredUser[]; deletes: string[] }): void {
    for (const userId of this.#adopted) {
      const user = this.#users.get(userId);
      if (user && !touched.has(userId)) rows.upserts.push(toStored(user));
    }
    // A user handed out and back in the same tick (never: it is placed at one part) keeps its row.
    for (const userId of this.#forgotten) if (!this.#users.has(userId)) rows.deletes.push(userId);
    this.#adopted = new Set();
    this.#forgotten = new Set();
  }
}
