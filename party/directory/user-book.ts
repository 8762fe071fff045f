/**
 * The users of one directory part and the rules of their status: a user is online while any
 * channel holds it (`hold`), and when the last one lets go (`release`) it goes offline after one
 * grace period on the union of them; an offline user is kept for its retention. Each user has
 * one deadline (`u:ID` in the part's deadlines): the end of its grace, or of its retention.
 * Versions only grow (across restarts too), and the open tick keeps each touched user's status
 * before its first change. Pure: times are the caller's.
 */
import type { Deadlines } from "../server/deadlines.ts";
import { type JsonValue, jsonEqual } from "../wire/json.ts";
import type { UserStatus } from "../protocol/index.ts";
import { type Presence, toStatus, type UserRecord } from "./user-rows.ts";

/** The users of one part. */
export class UserBook {
  readonly #records = new Map<string, UserRecord>();
  readonly #deadlines: Deadlines;
  readonly #timing: { graceMs: number; retentionMs: number };
  /** Users touched this tick, with their status before (null: unknown). */
  #before = new Map<string, UserStatus | null>();
  #version = 0;
  /** Users changed since their deadline was last worked out (done before the deadlines are read). */
  readonly #undated = new Set<string>();

  constructor(deadlines: Deadlines, timing: { graceMs: number; retentionMs: number }) {
    this.#deadlines = deadlines;
    this.#timing = timing;
  }

  /** The user's record, if the part holds it. */
  get(userId: string): UserRecord | undefined {
    return this.#records.get(userId);
  }

  /** Whether the part holds the user. */
  has(userId: string): boolean {
    return this.#records.has(userId);
  }

  /** Every user's record. */
  values(): IterableIterator<UserRecord> {
    return this.#records.values();
  }

  /** How many users the part holds. */
  get size(): number {
    return this.#records.size;
  }

  /** Takes a user's record as stored (a restart) or handed over: its deadline is worked out again, and versions stay above its own. */
  put(record: UserRecord): void {
    this.#records.set(record.id, record);
    this.#undated.add(record.id);
    this.#version = Math.max(this.#version, record.version);
  }

  /** Remembers the user's status before its first change in this tick; its deadline is worked out again. */
  #touch(userId: string): void {
    this.#undated.add(userId);
    if (this.#before.has(userId)) return;
    const user = this.#records.get(userId);
    this.#before.set(userId, user ? toStatus(user) : null);
  }

  /** Whether the open tick touched the user. */
  touched(userId: string): boolean {
    return this.#before.has(userId);
  }

  /** Whether the open tick touched anyone. */
  get changed(): boolean {
    return this.#before.size > 0;
  }

  /** Closes the tick: each user touched, with its status before (null: unknown). */
  takeTouched(): Map<string, UserStatus | null> {
    const before = this.#before;
    this.#before = new Map();
    return before;
  }

  /** Works out the deadline of every user changed since the last time: its grace's end, or its retention's. */
  date(): void {
    for (const userId of this.#undated) {
      const user = this.#records.get(userId);
      const at = !user ? null : user.online ? (user.channels.size === 0 ? user.offlineAt : null) : user.lastSeen + this.#timing.retentionMs;
      if (at === null) this.#deadlines.delete(`u:${userId}`);
      else this.#deadlines.set(`u:${userId}`, at);
    }
    this.#undated.clear();
  }

  /** A channel holds the user with these clients. A renewal (a report of `all`) does not replace data a newer change set. */
  hold(channel: string, userId: string, entry: Presence & { data: JsonValue }, renewal: boolean, now: number): void {
    const presence: Presence = { clients: entry.clients, clientTypes: entry.clientTypes };
    let user = this.#records.get(userId);
    const held = user?.channels.get(channel);
    const takesData = !user || !user.online || !renewal;
    if (user?.online && held && held.clients === presence.clients && jsonEqual(held.clientTypes, presence.clientTypes) && (!takesData || jsonEqual(user.data, entry.data))) {
      if (user.offlineAt !== null) this.#undated.add(userId);
      user.offlineAt = null;
      return; // A plain renewal: the lease moved on, nothing anyone sees changed.
    }
    this.#touch(userId);
    if (!user) {
      user = { id: userId, data: entry.data, online: false, since: now, lastSeen: now, offlineAt: null, channels: new Map(), version: 0 };
      this.#records.set(userId, user);
    }
    user.channels.set(channel, presence);
    if (takesData) user.data = entry.data;
    user.offlineAt = null;
    if (!user.online) {
      user.online = true;
      user.since = now;
      user.lastSeen = now;
    }
    user.version = this.nextVersion(now);
  }

  /** A channel no longer holds the user, last seen there at `lastSeen`; with no channel left it goes offline after grace. */
  release(channel: string, userId: string, lastSeen: number, now: number): void {
    const user = this.#records.get(userId);
    if (!user || !user.channels.has(channel)) return;
    this.#touch(userId);
    user.channels.delete(channel);
    user.version = this.nextVersion(now);
    if (!user.online || user.channels.size > 0) return;
    user.lastSeen = Math.max(user.since, Math.min(lastSeen, now));
    // Grace, once, on the union: a move between channels or a reload shows nothing.
    user.offlineAt = Math.max(now, user.lastSeen + this.#timing.graceMs);
  }

  /** The user's deadline passed: with its grace over and no channel left it goes offline; offline past retention, it is forgotten. */
  expire(userId: string, now: number): void {
    const user = this.#records.get(userId);
    if (!user) return;
    if (user.online && user.channels.size === 0 && user.offlineAt !== null && user.offlineAt <= now) {
      this.#touch(user.id);
      user.online = false;
      user.since = user.offlineAt;
      user.offlineAt = null;
      user.version = this.nextVersion(now);
    }
    if (!user.online && user.lastSeen + this.#timing.retentionMs <= now) {
      this.#touch(user.id);
      this.#records.delete(user.id);
    }
    this.#undated.add(userId);
  }

  /** The next version: versions only grow, across restarts too; they follow the clock, and a counter breaks ties. */
  nextVersion(now: number): number {
    this.#version = Math.max(this.#version + 1, now);
    return this.#version;
  }
}
