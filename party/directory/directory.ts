/**
 * The pure state of one directory part: per user, the channels it is online in with its
 * clients there, its status across them, `since`, `lastSeen` and data, as the channel rooms'
 * reports change them; and each tick's net changes. Its parts share one set of deadlines: the
 * users (`UserBook`: grace on the union, retention, versions), the channels' leases
 * (`ChannelLeases`), the rooms' watch lists (`WatchLists`), and the users moving between parts
 * as the directory grows (`HandOver`). It knows nothing of requests or storage; every method
 * takes the time.
 */
import { Deadlines } from "../server/deadlines.ts";
import { type JsonValue, jsonEqual } from "../wire/json.ts";
import type { DirectoryReport, HandedUser, UserStatus, VersionedStatus } from "../protocol/index.ts";
import { HandOver } from "./hand-over.ts";
import { ChannelLeases, type LeaseRecord, type StoredLease } from "./leases.ts";
import { UserBook } from "./user-book.ts";
import { fromStored, type Presence, type StoredUser, toStatus, toStored } from "./user-rows.ts";
import { type StoredWatch, WatchLists } from "./watches.ts";

export type { StoredLease } from "./leases.ts";
export type { Presence, StoredUser } from "./user-rows.ts";
export type { StoredWatch } from "./watches.ts";
export type { VersionedStatus } from "../protocol/index.ts";

/** The timing settings the directory needs. */
export type DirectoryTiming = {
  /** How long a user with no channel left may take to appear in another before it goes offline. */
  graceMs: number;
  /** How long a channel's report is trusted without another. */
  leaseMs: number;
  /** How long an offline user is kept after it was last seen. */
  retentionMs: number;
};

/** What one tick changed. */
export type DirectoryChanges = {
  /** Changed users' statuses, by the room that watches them. */
  watched: Map<string, VersionedStatus[]>;
  /** Users who came online or went offline (user-level events). */
  transitions: Array<{ userId: string; online: boolean; at: number }>;
  upserts: StoredUser[];
  deletes: string[];
  leaseUpserts: StoredLease[];
  leaseDeletes: string[];
  watchUpserts: StoredWatch[];
  watchDeletes: string[];
};

/** The users of one directory part. */
export class DirectoryState {
  readonly #timing: DirectoryTiming;
  /** When each lease (`l:CHANNEL`), user (`u:ID`: its grace or its retention) and watch list (`w:ROOM`) next needs `expire`. */
  readonly #deadlines = new Deadlines();
  readonly #users: UserBook;
  readonly #leases: ChannelLeases;
  readonly #watches: WatchLists;
  readonly #handOver: HandOver;

  constructor(timing: DirectoryTiming) {
    this.#timing = timing;
    this.#users = new UserBook(this.#deadlines, timing);
    this.#leases = new ChannelLeases(this.#deadlines, timing.leaseMs);
    this.#watches = new WatchLists(this.#deadlines);
    this.#handOver = new HandOver(this.#users, this.#leases, this.#watches);
  }

  /**
   * Rebuilds a part from its rows after a restart or a wake. Users `isHere` refuses (the
   * layout moved them to another part) are kept apart as moving, with their channels' leases
   * and watching rooms, until handed over.
   */
  static restore(
    timing: DirectoryTiming,
    rows: { users: Iterable<StoredUser>; leases: Iterable<StoredLease>; watches: Iterable<StoredWatch> },
    isHere: (userId: string) => boolean = () => true,
  ): DirectoryState {
    const state = new DirectoryState(timing);
    const leaseRows = new Map([...rows.leases].map((lease) => [lease.channel, lease]));
    for (const lease of leaseRows.values()) state.#leases.restore(lease);
    const moving: StoredUser[] = [];
    for (const stored of rows.users) {
      if (!isHere(stored.id)) {
        moving.push(stored);
        continue;
      }
      state.#users.put(fromStored(stored));
      for (const channel of Object.keys(stored.channels)) state.#leases.join(channel, stored.id, { expiresAt: 0, renewedAt: stored.since });
    }
    state.#handOver.keep(moving, leaseRows, rows.watches);
    for (const watch of rows.watches) state.#watches.set(watch.room, watch.users, watch.expiresAt);
    return state;
  }

  /** Applies one room's report: it renews the channel's lease, changes presences, and sets the room's watch list here. */
  apply(report: DirectoryReport, now: number): void {
    const { channel } = report;
    const lease = this.#leases.renew(channel, now);
    const reported = new Set<string>();
    for (const entry of report.presence) {
      reported.add(entry.userId);
      if (entry.present) this.#hold(lease, channel, entry.userId, entry, report.all, now);
      else this.#release(lease, channel, entry.userId, entry.lastSeen, now);
    }
    if (report.all) {
      // Everyone the channel no longer has online here is gone from it now.
      for (const userId of [...lease.users]) if (!reported.has(userId)) this.#release(lease, channel, userId, now, now);
    }
    if (report.watch !== null) this.#watches.set(channel, report.watch, now + this.#timing.leaseMs);
    if (lease.users.size === 0) this.#leases.drop(channel);
  }

  /**
   * Applies every deadline that passed: channel leases not renewed in time (their users are
   * gone from them, last seen at the last renewal), users whose grace ran out with no channel
   * left, offline users past retention, and watch lists not renewed.
   */
  expire(now: number): void {
    // Only what is due, earliest first (never a pass over every user); what that changes may fall due now too.
    for (;;) {
      this.#users.date();
      const due = this.#deadlines.due(now);
      if (due.length === 0) return;
      for (const key of due) {
        const id = key.slice(2);
        if (key.startsWith("l:")) this.#leases.expire(id, (userId, lastSeen) => this.#users.release(id, userId, lastSeen, now));
        else if (key.startsWith("u:")) this.#users.expire(id, now);
        else this.#watches.expire(id, now);
      }
    }
  }

  /** The earliest time `expire` has work to do, or null. */
  nextDeadline(): number | null {
    this.#users.date();
    return this.#deadlines.next();
  }

  /** A user's status now; an unknown user is `{id, online: false, lastSeen: null}`. */
  status(userId: string): UserStatus {
    const user = this.#users.get(userId);
    return user ? toStatus(user) : { id: userId, online: false, lastSeen: null };
  }

  /** A user's status with its version (0 for an unknown user). */
  versioned(userId: string): VersionedStatus {
    return { version: this.#users.get(userId)?.version ?? 0, status: this.status(userId) };
  }

  /** Closes the tick: the users whose status changed (and who watches them), the rows to write. */
  takeChanges(now: number): DirectoryChanges | null {
    if (!this.#users.changed && !this.#watches.changed && !this.#leases.changed && !this.#handOver.changed) return null;
    const touched = this.#users.takeTouched();
    const leases = this.#leases.takeRows();
    const watches = this.#watches.takeRows();
    const changes: DirectoryChanges = {
      watched: new Map(),
      transitions: [],
      upserts: [],
      deletes: [],
      leaseUpserts: leases.upserts,
      leaseDeletes: leases.deletes,
      watchUpserts: watches.upserts,
      watchDeletes: watches.deletes,
    };
    for (const [userId, before] of touched) {
      const user = this.#users.get(userId);
      if (user) changes.upserts.push(toStored(user));
      else if (before) changes.deletes.push(userId);
      const after = user ? toStatus(user) : null;
      if ((before?.online ?? false) !== (after?.online ?? false)) changes.transitions.push({ userId, online: after?.online ?? false, at: after?.since ?? now });
      if (before && after && jsonEqual(before, after)) continue;
      const versioned = { version: user?.version ?? this.#users.nextVersion(now), status: after ?? this.status(userId) };
      for (const room of this.#watches.watchersOf(userId)) {
        let list = changes.watched.get(room);
        if (!list) changes.watched.set(room, (list = []));
        list.push(versioned);
      }
    }
    this.#handOver.takeRows(touched, changes);
    return changes;
  }

  /** Whether the part holds this user as its own (moving users are not its own). */
  knows(userId: string): boolean {
    return this.#users.has(userId);
  }

  /** How many users wait to be handed to their new part. */
  movingCount(): number {
    return this.#handOver.movingCount;
  }

  /** The moving users among these ids (all of them without ids), as rows to hand over (see `HandOver.handOut`). */
  handOut(userIds?: Iterable<string>): HandedUser[] {
    return this.#handOver.handOut(userIds);
  }

  /** Moving users their new part has stored: their rows here go, with no transition and no news. */
  forget(userIds: Iterable<string>): void {
    this.#handOver.forget(userIds);
  }

  /** Users handed here from their old part, as they were there (see `HandOver.adopt`). Returns how many were taken. */
  adopt(rows: Iterable<HandedUser>): number {
    return this.#handOver.adopt(rows);
  }

  /** How many users, online users, channel leases and watching rooms the part holds. */
  size(): { users: number; online: number; channels: number; watchingRooms: number } {
    let online = 0;
    for (const user of this.#users.values()) if (user.online) online++;
    return { users: this.#users.size, online, channels: this.#leases.size, watchingRooms: this.#watches.size };
  }

  /** The channel holds the user (see `UserBook.hold`). */
  #hold(lease: LeaseRecord, channel: string, userId: string, entry: Presence & { data: JsonValue }, renewal: boolean, now: number): void {
    lease.users.add(userId);
    this.#users.hold(channel, userId, entry, renewal, now);
  }

  /** The channel no longer holds the user (see `UserBook.release`). */
  #release(lease: LeaseRecord, channel: string, userId: string, lastSeen: number, now: number): void {
    lease.users.delete(userId);
    this.#users.release(channel, userId, lastSeen, now);
  }
}
