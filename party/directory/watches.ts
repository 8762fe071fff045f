/**
 * Which rooms watch which users in one directory part: each room's watch list, set by the
 * room's reports and dropped when not renewed by its `expiresAt` (`w:ROOM` in the part's
 * deadlines), and the other way round each user's watching rooms, whom a change of the user
 * is news for. The lists changed this tick come out as rows. Pure.
 */
import type { Deadlines } from "../server/deadlines.ts";

/** A room's watch list in this part, renewed with the room's reports. */
export type StoredWatch = { room: string; users: string[]; expiresAt: number };

/** The watch lists of one part. */
export class WatchLists {
  readonly #watches = new Map<string, { users: Set<string>; expiresAt: number }>();
  /** Each watched user's watching rooms. */
  readonly #watchers = new Map<string, Set<string>>();
  readonly #deadlines: Deadlines;
  /** Rooms whose list changed or went this tick (rows to write or delete). */
  #touched = new Set<string>();

  constructor(deadlines: Deadlines) {
    this.#deadlines = deadlines;
  }

  /** How many rooms watch users here. */
  get size(): number {
    return this.#watches.size;
  }

  /** Whether a list changed this tick. */
  get changed(): boolean {
    return this.#touched.size > 0;
  }

  /** The rooms that watch the user. */
  watchersOf(userId: string): Iterable<string> {
    return this.#watchers.get(userId) ?? [];
  }

  /** Sets the room's list, trusted until `expiresAt`; an empty list drops it. */
  set(room: string, users: string[], expiresAt: number): void {
    this.#touched.add(room);
    const old = this.#watches.get(room);
    for (const userId of old?.users ?? []) this.#watchers.get(userId)?.delete(room);
    if (users.length === 0) {
      this.#watches.delete(room);
      this.#deadlines.delete(`w:${room}`);
    } else {
      this.#watches.set(room, { users: new Set(users), expiresAt });
      this.#deadlines.set(`w:${room}`, expiresAt);
    }
    for (const userId of users) {
      let rooms = this.#watchers.get(userId);
      if (!rooms) this.#watchers.set(userId, (rooms = new Set()));
      rooms.add(room);
    }
    for (const userId of old?.users ?? []) if (this.#watchers.get(userId)?.size === 0) this.#watchers.delete(userId);
  }

  /** Adds a user to the room's list; a room without a list here gets one, trusted until `expiresAt`. */
  add(room: string, userId: string, expiresAt: number): void {
    const watch = this.#watches.get(room);
    if (watch?.users.has(userId)) return;
    this.set(room, [...(watch?.users ?? []), userId], watch?.expiresAt ?? expiresAt);
  }

  /** The room's list was not renewed in time: it is dropped. */
  expire(room: string, now: number): void {
    if (this.#watches.has(room)) this.set(room, [], now);
  }

  /** Closes the tick: the rows of the lists that changed, and the rooms whose list went. */
  takeRows(): { upserts: StoredWatch[]; deletes: string[] } {
    const rows: { upserts: StoredWatch[]; deletes: string[] } = { upserts: [], deletes: [] };
    for (const room of this.#touched) {
      const watch = this.#watches.get(room);
      if (watch) rows.upserts.push({ room, users: [...watch.users], expiresAt: watch.expiresAt });
      else rows.deletes.push(room);
    }
    this.#touched = new Set();
    return rows;
  }
}
