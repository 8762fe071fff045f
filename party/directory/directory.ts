/**
 * The pure state of one directory part: per user, the channels it is online in with its
 * clients there, its status across them, `since`, `lastSeen` and data; per channel, the lease
 * its room holds (renewed by every report it sends; a lapsed lease releases all its users,
 * last seen at the last renewal); which rooms watch which users; and each tick's net changes.
 * It knows nothing of requests or storage; every method takes the time.
 */
import { Deadlines } from "../server/deadlines.ts";
import { type JsonValue, jsonEqual } from "../wire/json.ts";
import type { ClientTypeCounts, DirectoryReport, HandedUser, UserStatus, VersionedStatus } from "../protocol/index.ts";

/** The timing settings the directory needs. */
export type DirectoryTiming = {
  /** How long a user with no channel left may take to appear in another before it goes offline. */
  graceMs: number;
  /** How long a channel's report is trusted without another. */
  leaseMs: number;
  /** How long an offline user is kept after it was last seen. */
  retentionMs: number;
};

/** A user's clients in one channel. */
export type Presence = { clients: number; clientTypes: ClientTypeCounts };

/** A user as stored. */
export type StoredUser = {
  id: string;
  data: JsonValue;
  online: boolean;
  since: number;
  lastSeen: number;
  /** Set while the user has no channel left but may still appear in one (its grace). */
  offlineAt: number | null;
  channels: Record<string, Presence>;
  /** Bumped on every change, so a room keeps only the newest status it hears of. */
  version: number;
};

/** A channel room's lease on its users here: trusted until `expiresAt`, last renewed at `renewedAt`. */
export type StoredLease = { channel: string; expiresAt: number; renewedAt: number };

/** A room's watch list in this part, renewed with the room's reports. */
export type StoredWatch = { room: string; users: string[]; expiresAt: number };

export type { VersionedStatus } from "../protocol/index.ts";

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

type UserRecord = Omit<StoredUser, "channels"> & { channels: Map<string, Presence> };
type LeaseRecord = { expiresAt: number; renewedAt: number; users: Set<string> };

/** The users of one directory part. */
export class DirectoryState {
  readonly #timing: DirectoryTiming;
  readonly #users = new Map<string, UserRecord>();
  readonly #leases = new Map<string, LeaseRecord>();
  readonly #watches = new Map<string, { users: Set<string>; expiresAt: number }>();
  readonly #watchers = new Map<string, Set<string>>();
  /** Users touched this tick, with their status before (null: unknown). */
  #before = new Map<string, UserStatus | null>();
  #leasesTouched = new Set<string>();
  #watchesTouched = new Set<string>();
  /**
   * Users stored here that the current layout places elsewhere (PRESENCE_DIRECTORY_PARTS
   * grew): kept, uncounted and unchanged, until their new part has stored them.
   */
  readonly #moving = new Map<string, HandedUser>();
  /** Users handed in this tick (rows to write, no transition) and handed out (rows to delete). */
  #adopted = new Set<string>();
  #forgotten = new Set<string>();
  #version = 0;
  /** When each lease (`l:CHANNEL`), user (`u:ID`: its grace or its retention) and watch list (`w:ROOM`) next needs `expire`. */
  readonly #deadlines = new Deadlines();
  /** Users changed since their deadline was last worked out (done before the deadlines are read). */
  #undated = new Set<string>();

  constructor(timing: DirectoryTiming) {
    this.#timing = timing;
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
    const watchersOf = new Map<string, Array<{ room: string; expiresAt: number }>>();
    for (const watch of rows.watches) {
      for (const userId of watch.users) {
        let rooms = watchersOf.get(userId);
        if (!rooms) watchersOf.set(userId, (rooms = []));
        rooms.push({ room: watch.room, expiresAt: watch.expiresAt });
      }
    }
    for (const lease of leaseRows.values()) state.#setLease(lease.channel, { expiresAt: lease.expiresAt, renewedAt: lease.renewedAt, users: new Set() });
    for (const stored of rows.users) {
      if (!isHere(stored.id)) {
        const leases: HandedUser["leases"] = {};
        // A lease row already gone (its other users left) is not trusted past the next expire, as below.
        for (const channel of Object.keys(stored.channels)) leases[channel] = leaseRows.get(channel) ? { expiresAt: leaseRows.get(channel)!.expiresAt, renewedAt: leaseRows.get(channel)!.renewedAt } : { expiresAt: 0, renewedAt: stored.since };
        state.#moving.set(stored.id, { ...stored, leases, watchers: watchersOf.get(stored.id) ?? [] });
        continue;
      }
      const record: UserRecord = { ...stored, channels: new Map(Object.entries(stored.channels)) };
      state.#users.set(stored.id, record);
      state.#undated.add(stored.id);
      for (const channel of record.channels.keys()) {
        const lease = state.#leases.get(channel);
        if (lease) lease.users.add(stored.id);
        // A presence whose channel lease row is missing is not trusted: it goes at the next expire.
        else state.#setLease(channel, { expiresAt: 0, renewedAt: stored.since, users: new Set([stored.id]) });
      }
      state.#version = Math.max(state.#version, stored.version);
    }
    for (const watch of rows.watches) state.#setWatch(watch.room, watch.users, watch.expiresAt);
    return state;
  }

  /** Applies one room's report: it renews the channel's lease, changes presences, and sets the room's watch list here. */
  apply(report: DirectoryReport, now: number): void {
    const { channel } = report;
    const lease = this.#renew(channel, now);
    const reported = new Set<string>();
    for (const entry of report.presence) {
      reported.add(entry.userId);
      if (entry.present) this.#hold(channel, lease, entry.userId, entry, report.all, now);
      else this.#release(channel, entry.userId, entry.lastSeen, now);
    }
    if (report.all) {
      // Everyone the channel no longer has online here is gone from it now.
      for (const userId of [...lease.users]) if (!reported.has(userId)) this.#release(channel, userId, now, now);
    }
    if (report.watch !== null) this.#setWatch(channel, report.watch, now + this.#timing.leaseMs);
    if (lease.users.size === 0) this.#dropLease(channel);
  }

  /**
   * Applies every deadline that passed: channel leases not renewed in time (their users are
   * gone from them, last seen at the last renewal), users whose grace ran out with no channel
   * left, offline users past retention, and watch lists not renewed.
   */
  expire(now: number): void {
    // Only what is due, earliest first (never a pass over every user); what that changes may fall due now too.
    for (;;) {
      this.#dateUsers();
      const due = this.#deadlines.due(now);
      if (due.length === 0) return;
      for (const key of due) {
        const id = key.slice(2);
        if (key.startsWith("l:")) this.#expireLease(id, now);
        else if (key.startsWith("u:")) this.#expireUser(id, now);
        else this.#expireWatch(id, now);
      }
    }
  }

  /** The earliest time `expire` has work to do, or null. */
  nextDeadline(): number | null {
    this.#dateUsers();
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
    if (this.#before.size === 0 && this.#watchesTouched.size === 0 && this.#leasesTouched.size === 0 && this.#adopted.size === 0 && this.#forgotten.size === 0) return null;
    const changes: DirectoryChanges = {
      watched: new Map(),
      transitions: [],
      upserts: [],
      deletes: [],
      leaseUpserts: [],
      leaseDeletes: [],
      watchUpserts: [],
      watchDeletes: [],
    };
    for (const [userId, before] of this.#before) {
      const user = this.#users.get(userId);
      if (user) changes.upserts.push(toStored(user));
      else if (before) changes.deletes.push(userId);
      const after = user ? toStatus(user) : null;
      if ((before?.online ?? false) !== (after?.online ?? false)) changes.transitions.push({ userId, online: after?.online ?? false, at: after?.since ?? now });
      if (before && after && jsonEqual(before, after)) continue;
      const versioned = { version: user?.version ?? this.#nextVersion(now), status: after ?? this.status(userId) };
      for (const room of this.#watchers.get(userId) ?? []) {
        let list = changes.watched.get(room);
        if (!list) changes.watched.set(room, (list = []));
        list.push(versioned);
      }
    }
    for (const userId of this.#adopted) {
      const user = this.#users.get(userId);
      if (user && !this.#before.has(userId)) changes.upserts.push(toStored(user));
    }
    // A user handed out and back in the same tick (never: it is placed at one part) keeps its row.
    for (const userId of this.#forgotten) if (!this.#users.has(userId)) changes.deletes.push(userId);
    for (const channel of this.#leasesTouched) {
      const lease = this.#leases.get(channel);
      if (lease) changes.leaseUpserts.push({ channel, expiresAt: lease.expiresAt, renewedAt: lease.renewedAt });
      else changes.leaseDeletes.push(channel);
    }
    for (const room of this.#watchesTouched) {
      const watch = this.#watches.get(room);
      if (watch) changes.watchUpserts.push({ room, users: [...watch.users], expiresAt: watch.expiresAt });
      else changes.watchDeletes.push(room);
    }
    this.#before = new Map();
    this.#adopted = new Set();
    this.#forgotten = new Set();
    this.#leasesTouched = new Set();
    this.#watchesTouched = new Set();
    return changes;
  }

  /** Whether the part holds this user as its own (moving users are not its own). */
  knows(userId: string): boolean {
    return this.#users.has(userId);
  }

  /** How many users wait to be handed to their new part. */
  movingCount(): number {
    return this.#moving.size;
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
   * (what happened here since is newer). No transition and no news: nothing anyone sees changed.
   * Returns how many were taken.
   */
  adopt(rows: Iterable<HandedUser>): number {
    let taken = 0;
    for (const row of rows) {
      if (this.#users.has(row.id) || this.#before.has(row.id)) continue;
      const { leases, watchers, ...stored } = row;
      const record: UserRecord = { ...stored, channels: new Map(Object.entries(stored.channels)) };
      this.#users.set(row.id, record);
      this.#undated.add(row.id);
      this.#forgotten.delete(row.id);
      this.#adopted.add(row.id);
      this.#version = Math.max(this.#version, row.version);
      for (const channel of record.channels.keys()) {
        let lease = this.#leases.get(channel);
        if (!lease) {
          const handed = leases[channel] ?? { expiresAt: 0, renewedAt: row.since };
          this.#setLease(channel, (lease = { expiresAt: handed.expiresAt, renewedAt: handed.renewedAt, users: new Set() }));
          this.#leasesTouched.add(channel);
        }
        lease.users.add(row.id);
      }
      for (const { room, expiresAt } of watchers) {
        const watch = this.#watches.get(room);
        if (watch?.users.has(row.id)) continue;
        this.#setWatch(room, [...(watch?.users ?? []), row.id], watch?.expiresAt ?? expiresAt);
      }
      taken++;
    }
    return taken;
  }

  /** How many users, online users, channel leases and watching rooms the part holds. */
  size(): { users: number; online: number; channels: number; watchingRooms: number } {
    let online = 0;
    for (const user of this.#users.values()) if (user.online) online++;
    return { users: this.#users.size, online, channels: this.#leases.size, watchingRooms: this.#watches.size };
  }

  /** A channel's lease not renewed in time: its users are gone from it, last seen at the last renewal. */
  #expireLease(channel: string, now: number): void {
    const lease = this.#leases.get(channel);
    if (!lease) return;
    for (const userId of [...lease.users]) this.#release(channel, userId, lease.renewedAt, now);
    this.#dropLease(channel);
  }

  /** A user whose grace ran out with no channel left goes offline; an offline user past retention is forgotten. */
  #expireUser(userId: string, now: number): void {
    const user = this.#users.get(userId);
    if (!user) return;
    if (user.online && user.channels.size === 0 && user.offlineAt !== null && user.offlineAt <= now) {
      this.#touch(user.id);
      user.online = false;
      user.since = user.offlineAt;
      user.offlineAt = null;
      user.version = this.#nextVersion(now);
    }
    if (!user.online && user.lastSeen + this.#timing.retentionMs <= now) {
      this.#touch(user.id);
      this.#users.delete(user.id);
    }
    this.#undated.add(userId);
  }

  /** A room's watch list not renewed in time is dropped. */
  #expireWatch(room: string, now: number): void {
    if (this.#watches.has(room)) this.#setWatch(room, [], now);
  }

  /** Works out the deadline of every user changed since the last time: its grace's end, or its retention's. */
  #dateUsers(): void {
    for (const userId of this.#undated) {
      const user = this.#users.get(userId);
      const at = !user ? null : user.online ? (user.channels.size === 0 ? user.offlineAt : null) : user.lastSeen + this.#timing.retentionMs;
      if (at === null) this.#deadlines.delete(`u:${userId}`);
      else this.#deadlines.set(`u:${userId}`, at);
    }
    this.#undated.clear();
  }

  /** Holds a channel's lease, due at its `expiresAt`. */
  #setLease(channel: string, lease: LeaseRecord): void {
    this.#leases.set(channel, lease);
    this.#deadlines.set(`l:${channel}`, lease.expiresAt);
  }

  #renew(channel: string, now: number): LeaseRecord {
    let lease = this.#leases.get(channel);
    if (!lease) this.#leases.set(channel, (lease = { expiresAt: 0, renewedAt: now, users: new Set() }));
    lease.expiresAt = now + this.#timing.leaseMs;
    lease.renewedAt = now;
    this.#deadlines.set(`l:${channel}`, lease.expiresAt);
    this.#leasesTouched.add(channel);
    return lease;
  }

  #dropLease(channel: string): void {
    const lease = this.#leases.get(channel);
    if (!lease || lease.users.size > 0) return;
    this.#leases.delete(channel);
    this.#deadlines.delete(`l:${channel}`);
    this.#leasesTouched.add(channel);
  }

  /** The channel holds the user. A renewal (`all`) does not replace data a newer change set. */
  #hold(channel: string, lease: LeaseRecord, userId: string, entry: Presence & { data: JsonValue }, renewal: boolean, now: number): void {
    lease.users.add(userId);
    const presence: Presence = { clients: entry.clients, clientTypes: entry.clientTypes };
    let user = this.#users.get(userId);
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
      this.#users.set(userId, user);
    }
    user.channels.set(channel, presence);
    if (takesData) user.data = entry.data;
    user.offlineAt = null;
    if (!user.online) {
      user.online = true;
      user.since = now;
      user.lastSeen = now;
    }
    user.version = this.#nextVersion(now);
  }

  /** The channel no longer holds the user; with no channel left it goes offline after grace. */
  #release(channel: string, userId: string, lastSeen: number, now: number): void {
    this.#leases.get(channel)?.users.delete(userId);
    const user = this.#users.get(userId);
    if (!user || !user.channels.has(channel)) return;
    this.#touch(userId);
    user.channels.delete(channel);
    user.version = this.#nextVersion(now);
    if (!user.online || user.channels.size > 0) return;
    user.lastSeen = Math.max(user.since, Math.min(lastSeen, now));
    // Grace, once, on the union: a move between channels or a reload shows nothing.
    user.offlineAt = Math.max(now, user.lastSeen + this.#timing.graceMs);
  }

  #setWatch(room: string, users: string[], expiresAt: number): void {
    this.#watchesTouched.add(room);
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

  #touch(userId: string): void {
    this.#undated.add(userId);
    if (this.#before.has(userId)) return;
    const user = this.#users.get(userId);
    this.#before.set(userId, user ? toStatus(user) : null);
  }

  /** Versions only grow, across restarts too: they follow the clock, and a counter breaks ties. */
  #nextVersion(now: number): number {
    this.#version = Math.max(this.#version + 1, now);
    return this.#version;
  }
}

function toStatus(user: UserRecord): UserStatus {
  const channels = [...user.channels]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([channel, presence]) => ({ channel, clientAmount: presence.clients, clientTypes: presence.clientTypes }));
  return {
    id: user.id,
    online: user.online,
    since: user.since,
    lastSeen: user.online ? user.since : user.lastSeen,
    data: user.data,
    channels,
  };
}

function toStored(user: UserRecord): StoredUser {
  return { ...user, channels: Object.fromEntries(user.channels) };
}
