/**
 * The pure presence state of one channel: members, their clients, grace, expiry and the
 * coalesced diff of each tick. It knows nothing of sockets or storage; every method takes
 * the time as a parameter, so tests drive it with a fake clock and never sleep.
 */
import type {
  ChannelHereNow,
  Counts,
  HereNowOptions,
  HereNowUser,
  JsonValue,
  Member,
  PresenceEvent,
} from "./protocol.ts";

/** The timing settings the state machine needs. */
export type PresenceTiming = {
  /** How long a dropped client is still counted while it may come back. */
  graceMs: number;
  /** How long an offline member is kept before it leaves. */
  retentionMs: number;
  /** A live client silent this long is judged idle (see `expire`). */
  heartbeatTimeoutMs: number;
};

/** A member as persisted: the wire member less the derived client count. */
export type StoredMember = Omit<Member, "clients">;

/** A live socket as the room knows it after a restart or a wake from hibernation. */
export type LiveClient = {
  key: string;
  userId: string | null;
  clientType?: string | undefined;
  /** When the socket last sent a message, if known (kept across hibernation). */
  lastActive?: number | undefined;
};

/** What one tick produced: the events to broadcast and the rows to persist. */
export type TickDiff = Counts & {
  /** Presence events in the order their users were first touched this tick. */
  events: PresenceEvent[];
  /** Members whose record changed without a presence event (a tab opened or dropped). */
  quiet: Member[];
  /** Members to write to storage. */
  upserts: StoredMember[];
  /** userIds to delete from storage. */
  deletes: string[];
};

type ClientRecord = {
  key: string;
  userId: string | null;
  clientType: string | undefined;
  lastActive: number;
  /** Set when the socket is gone without a leave: the client is counted until then. */
  lingerUntil: number | null;
  /** When the socket was found gone (lingerUntil − grace). */
  droppedAt: number | null;
};

type MemberRecord = StoredMember & { clients: Set<string> };

/** The presence of one channel. */
export class PresenceState {
  readonly #timing: PresenceTiming;
  readonly #members = new Map<string, MemberRecord>();
  readonly #clients = new Map<string, ClientRecord>();
  /** Live (not in grace) clients, in all and per user: the caps are checked on every connect. */
  #liveTotal = 0;
  readonly #liveByUser = new Map<string, number>();
  /** Each member touched this tick, with its record as it was before (null: absent). */
  #before = new Map<string, Member | null>();

  constructor(timing: PresenceTiming) {
    this.#timing = timing;
  }

  /**
   * Rebuilds a channel after a restart or a wake from hibernation: members from storage,
   * clients from the sockets that survived. A stored online member with no surviving socket
   * gets one placeholder client in grace, so it goes offline through the normal path unless
   * a client of its user comes back in time.
   */
  static rebuild(
    timing: PresenceTiming,
    stored: Iterable<StoredMember>,
    live: Iterable<LiveClient>,
    now: number,
  ): PresenceState {
    const state = new PresenceState(timing);
    for (const member of stored) {
      state.#members.set(member.id, { ...member, clients: new Set() });
    }
    for (const client of live) {
      const member = client.userId === null ? undefined : state.#members.get(client.userId);
      if (client.userId !== null && member?.status === "online") {
        // Survived with its member: no event, nothing changed.
        state.#put(newClient(client, now));
        member.clients.add(client.key);
      } else {
        // An observer, or a member the storage missed or had offline: connect normally.
        state.connect({ ...client, data: member?.data ?? null }, now);
      }
    }
    for (const member of state.#members.values()) {
      if (member.status === "online" && member.clients.size === 0) {
        const key = `restored:${member.id}`;
        state.#put({
          key,
          userId: member.id,
          clientType: undefined,
          lastActive: now,
          lingerUntil: now + timing.graceMs,
          droppedAt: now,
        });
        member.clients.add(key);
      }
    }
    return state;
  }

  /**
   * A socket joined. A client with the same key (partysocket reuses its id across
   * reconnects) is replaced: for the same user that is no change at all.
   */
  connect(client: LiveClient & { data: JsonValue }, now: number): void {
    const previous = this.#clients.get(client.key);
    // Remember the old owner's state before the swap, so an invisible swap diffs to nothing.
    if (previous?.userId) this.#touch(previous.userId);
    if (previous) {
      this.#del(client.key);
      const owner = previous.userId === null ? undefined : this.#members.get(previous.userId);
      if (owner && previous.userId !== client.userId) {
        // The key moved to another user: the old one lost this client for good.
        this.#put({ ...previous, lingerUntil: now, droppedAt: now });
        this.#removeClient(client.key);
      } else {
        owner?.clients.delete(client.key);
      }
    }
    this.#put(newClient(client, now));
    if (client.userId === null) return;

    const member = this.#members.get(client.userId);
    this.#touch(client.userId);
    if (!member) {
      this.#members.set(client.userId, {
        id: client.userId,
        data: client.data,
        status: "online",
        since: now,
        lastSeen: now,
        clients: new Set([client.key]),
      });
      return;
    }
    member.clients.add(client.key);
    member.data = client.data;
    if (member.status === "offline") {
      member.lastSeen = now;
      member.status = "online";
      member.since = now;
    }
  }

  /** Any message from a client: it is alive. Returns false for an unknown key. */
  touch(key: string, now: number): boolean {
    const client = this.#clients.get(key);
    if (!client || client.lingerUntil !== null) return false;
    client.lastActive = now;
    return true;
  }

  /** The client's user changes its userData. Returns false if the client is no member. */
  update(key: string, data: JsonValue): boolean {
    const member = this.#memberOf(key);
    if (!member) return false;
    this.#touch(member.id);
    member.data = data;
    return true;
  }

  /**
   * The client unsubscribes: it stops counting at once; if its user has no other client
   * here, the member leaves. Returns false if the client is no member.
   */
  leave(key: string): boolean {
    const member = this.#memberOf(key);
    if (!member) return false;
    this.#removeClient(key);
    // Clients of this user still in grace are gone tabs, not a reason to stay: the user left.
    const rest = [...member.clients].map((other) => this.#clients.get(other));
    if (rest.length > 0 && rest.every((other) => other?.lingerUntil !== null)) {
      for (const other of member.clients) this.#del(other);
      member.clients.clear();
      this.#members.delete(member.id);
    }
    return true;
  }

  /**
   * The socket is gone without a leave (closed, lost, idle). The client is still counted
   * for the grace period, so a reload or a blip changes nothing anyone sees.
   */
  drop(key: string, now: number): void {
    const client = this.#clients.get(key);
    if (!client || client.lingerUntil !== null) return;
    if (client.userId === null) {
      this.#del(key);
      return;
    }
    this.#put({ ...client, lingerUntil: now + this.#timing.graceMs, droppedAt: now });
  }

  /**
   * Applies every deadline that has passed: clients whose grace ran out are removed (a
   * member left with none goes offline), offline members past retention leave, and live
   * clients silent for the heartbeat timeout are dropped. Returns the keys of those idle
   * clients, whose sockets the caller must close.
   */
  expire(now: number): string[] {
    const idle: string[] = [];
    for (const client of [...this.#clients.values()]) {
      if (client.lingerUntil !== null) {
        if (client.lingerUntil <= now) this.#removeClient(client.key);
      } else if (client.lastActive + this.#timing.heartbeatTimeoutMs <= now) {
        idle.push(client.key);
        this.drop(client.key, now);
        if (this.#timing.graceMs === 0) this.#removeClient(client.key);
      }
    }
    for (const member of [...this.#members.values()]) {
      if (member.status === "offline" && member.lastSeen + this.#timing.retentionMs <= now) {
        this.#touch(member.id);
        this.#members.delete(member.id);
      }
    }
    return idle;
  }

  /** The earliest time `expire` has work to do, or null if nothing is pending. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const client of this.#clients.values()) {
      next = Math.min(
        next,
        client.lingerUntil ?? client.lastActive + this.#timing.heartbeatTimeoutMs,
      );
    }
    for (const member of this.#members.values()) {
      if (member.status === "offline") {
        next = Math.min(next, member.lastSeen + this.#timing.retentionMs);
      }
    }
    return Number.isFinite(next) ? next : null;
  }

  /**
   * Closes the tick: compares each member touched since the last call with how it was
   * before, and returns the net events (a join and a leave in one tick cancel), the quiet
   * changes, and the rows to persist. Returns null when nothing changed.
   */
  takeDiff(): TickDiff | null {
    if (this.#before.size === 0) return null;
    const counts = this.counts();
    const diff: TickDiff = { ...counts, events: [], quiet: [], upserts: [], deletes: [] };
    for (const [id, before] of this.#before) {
      const record = this.#members.get(id);
      const after = record ? toMember(record) : null;
      if (record && (!before || !storedEqual(before, toStored(record)))) diff.upserts.push(toStored(record));
      if (!after && before) diff.deletes.push(id);
      const event = (action: PresenceEvent["action"], member: Member) =>
        diff.events.push({ action, member, ...counts });

      if (!before && after) {
        event("join", after);
        if (after.status === "offline") event("offline", after);
      } else if (before && !after) {
        event("leave", { ...before, clients: 0 });
      } else if (before && after) {
        if (before.status !== after.status) event(after.status, after);
        else if (!jsonEqual(before.data, after.data)) event("update", after);
        else if (!memberEqual(before, after)) diff.quiet.push(after);
      }
    }
    this.#before = new Map();
    if (diff.events.length === 0 && diff.quiet.length === 0 && diff.deletes.length === 0 && diff.upserts.length === 0) {
      return null;
    }
    return diff;
  }

  /**
   * The channel as of the last `takeDiff`: what every client's list holds once it applied
   * the last diff. A snapshot must show this, not the open tick's in-between state, or a
   * change undone within the tick (which no diff carries) would stay wrong in it.
   */
  committed(): { members: Member[]; counts: Counts } {
    const members: Member[] = [];
    for (const [id, record] of this.#members) {
      const before = this.#before.get(id);
      if (before === undefined) members.push(toMember(record));
      else if (before !== null) members.push(before);
    }
    for (const [id, before] of this.#before) {
      if (before !== null && !this.#members.has(id)) members.push(before);
    }
    const counts: Counts = { clientAmount: 0, userAmount: 0 };
    for (const member of members) {
      if (member.status !== "online") continue;
      counts.userAmount++;
      counts.clientAmount += member.clients;
    }
    return { members, counts };
  }

  /** Live and in-grace clients of members, and online members. Observers are not counted. */
  counts(): Counts {
    let clientAmount = 0;
    let userAmount = 0;
    for (const member of this.#members.values()) {
      if (member.status !== "online") continue;
      userAmount++;
      clientAmount += member.clients.size;
    }
    return { clientAmount, userAmount };
  }

  /** Every member, online and offline, as clients see them. */
  members(): Member[] {
    return [...this.#members.values()].map(toMember);
  }

  /** One member, or undefined. */
  member(userId: string): Member | undefined {
    const record = this.#members.get(userId);
    return record && toMember(record);
  }

  /** The userId behind a client key: a string for a member's client, null for an observer. */
  userOf(key: string): string | null | undefined {
    return this.#clients.get(key)?.userId;
  }

  /** Sockets the room holds now (members' and observers', not those in grace); O(1), it runs on every connect. */
  liveClientCount(userId?: string): number {
    return userId === undefined ? this.#liveTotal : (this.#liveByUser.get(userId) ?? 0);
  }

  /** Stores a client record, replacing any with its key, and keeps the live counts. */
  #put(record: ClientRecord): void {
    this.#del(record.key);
    this.#clients.set(record.key, record);
    this.#countLive(record, 1);
  }

  /** Forgets a client record, keeping the live counts. */
  #del(key: string): void {
    const record = this.#clients.get(key);
    if (!record) return;
    this.#clients.delete(key);
    this.#countLive(record, -1);
  }

  #countLive(record: ClientRecord, delta: 1 | -1): void {
    if (record.lingerUntil !== null) return;
    this.#liveTotal += delta;
    if (record.userId === null) return;
    const n = (this.#liveByUser.get(record.userId) ?? 0) + delta;
    if (n === 0) this.#liveByUser.delete(record.userId);
    else this.#liveByUser.set(record.userId, n);
  }

  /** The channel's herenow answer, in GoEasy's shape. */
  hereNow(channel: string, options: HereNowOptions = {}): ChannelHereNow {
    const result: ChannelHereNow = { channel, ...this.counts() };
    if (!options.includeUsers) return result;
    const users: HereNowUser[] = [];
    for (const member of this.#members.values()) {
      if (member.status !== "online") continue;
      const times = options.distinct ? 1 : member.clients.size;
      for (let i = 0; i < times; i++) users.push({ id: member.id, data: member.data });
    }
    result.users = users;
    return result;
  }

  #memberOf(key: string): MemberRecord | undefined {
    const client = this.#clients.get(key);
    if (!client || client.userId === null || client.lingerUntil !== null) return undefined;
    return this.#members.get(client.userId);
  }

  /** Remembers how a member was before its first change in this tick. */
  #touch(userId: string): void {
    if (this.#before.has(userId)) return;
    const record = this.#members.get(userId);
    this.#before.set(userId, record ? toMember(record) : null);
  }

  /** Forgets a client; its member goes offline (dropped) or leaves (unsubscribed) if it was the last. */
  #removeClient(key: string): void {
    const client = this.#clients.get(key);
    if (!client) return;
    this.#del(key);
    if (client.userId === null) return;
    const member = this.#members.get(client.userId);
    if (!member) return;
    this.#touch(member.id);
    member.clients.delete(key);
    if (member.clients.size > 0) return;
    if (client.lingerUntil === null || client.droppedAt === null) {
      this.#members.delete(member.id);
    } else {
      member.status = "offline";
      member.since = client.lingerUntil;
      member.lastSeen = client.droppedAt;
    }
  }
}

function newClient(client: LiveClient, now: number): ClientRecord {
  return {
    key: client.key,
    userId: client.userId,
    clientType: client.clientType,
    // A socket that survived a wake keeps its silence: the idle clock must not restart.
    lastActive: Math.min(client.lastActive ?? now, now),
    lingerUntil: null,
    droppedAt: null,
  };
}

function toMember(record: MemberRecord): Member {
  return {
    id: record.id,
    data: record.data,
    status: record.status,
    clients: record.clients.size,
    since: record.since,
    lastSeen: record.lastSeen,
  };
}

function toStored(record: MemberRecord): StoredMember {
  return {
    id: record.id,
    data: record.data,
    status: record.status,
    since: record.since,
    lastSeen: record.lastSeen,
  };
}

function storedEqual(a: StoredMember, b: StoredMember): boolean {
  return a.status === b.status && a.since === b.since && a.lastSeen === b.lastSeen && jsonEqual(a.data, b.data);
}

function memberEqual(a: Member, b: Member): boolean {
  return a.clients === b.clients && storedEqual(a, b);
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]!));
  }
  const ak = Object.keys(a);
  const bo = b as Record<string, JsonValue>;
  const ao = a as Record<string, JsonValue>;
  return ak.length === Object.keys(bo).length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k]!, bo[k]!));
}
