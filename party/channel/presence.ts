/**
 * The pure presence state of one channel: members, their clients, grace, expiry (sockets'
 * idleness, HTTP clients' TTLs), and through its `TickLedger` the coalesced diff of each tick.
 * It knows nothing of sockets or storage; every method takes the time as a parameter, so
 * tests drive it with a fake clock and never sleep.
 */
import type { JsonValue } from "../wire/json.ts";
import type { ChannelHereNow, ClientTypeCounts, Counts, HereNowOptions, Member, MembersPage } from "../protocol/index.ts";
import { ClientBook, type LiveClient, newClientRecord } from "./client-book.ts";
import { clientTypesOf, hereNowOf, type MemberRecord, membersPageOf, type StoredMember, toMember } from "./member-view.ts";
import { SortedIds } from "./sorted-ids.ts";
import { type TickDiff, TickLedger } from "./tick-ledger.ts";

/** The timing settings the state machine needs. */
export type PresenceTiming = {
  /** How long a dropped client is still counted while it may come back. */
  graceMs: number;
  /** How long an offline member is kept before it leaves. */
  retentionMs: number;
  /** A live client silent this long is judged idle (see `expire`). */
  heartbeatTimeoutMs: number;
};

export type { StoredMember } from "./member-view.ts";

export type { TickDiff } from "./tick-ledger.ts";

export type { LiveClient } from "./client-book.ts";

/** The longest a restart holds its missing members (see `restore`), from the rebuild. */
export const RESTART_HOLD_MAX_MS = 60_000;
/** The connection id of the placeholder client a rebuild gives a member whose sockets are gone. */
const PLACEHOLDER = "restored:";

/** The presence of one channel. */
export class PresenceState {
  readonly #timing: PresenceTiming;
  readonly #members = new Map<string, MemberRecord>();
  /** The members' userIds in order, for herenow's pages and interval mode's windows. */
  readonly #ids = new SortedIds();
  readonly #clients = new ClientBook();
  /** The online members' counts and client types, until the next change (herenow reads them on every request). */
  #totals: { counts: Counts; clientTypes: ClientTypeCounts } | null = null;
  /** The open tick: each member touched, as it was before. */
  readonly #ledger = new TickLedger({ members: this.#members, clients: this.#clients, ids: this.#ids });
  /** After a rebuild that found members without sockets: when it was, and when a client last came back since. */
  #restart: { at: number; lastReturn: number } | null = null;

  constructor(timing: PresenceTiming) {
    this.#timing = timing;
  }

  /**
   * Rebuilds the channel after a restart or a wake from hibernation: members from storage,
   * clients from the sockets that survived. A stored online member with no surviving socket
   * gets one placeholder client in grace, so it goes offline through the normal path unless
   * a client of its user comes back in time. Whatever the state held before is dropped.
   *
   * A restart (a deploy, a crash) drops every socket at once, and thousands of clients come
   * back over the following seconds, as fast as the engine accepts them: the grace of those
   * placeholders runs from the last client that came back, not from the rebuild, so a member
   * whose client is still on its way is not announced offline while others keep arriving.
   * Once no client has come back for a grace period (or `RESTART_HOLD_MAX_MS` after the
   * rebuild), those still missing go offline.
   */
  restore(stored: Iterable<StoredMember>, live: Iterable<LiveClient>, now: number): void {
    this.#members.clear();
    this.#ids.clear();
    this.#clients.clear();
    this.#totals = null;
    this.#ledger.clear();
    this.#restart = null;
    for (const member of stored) this.#put({ ...member, clients: new Set() });
    for (const client of live) {
      const member = client.userId === null ? undefined : this.#members.get(client.userId);
      if (client.userId !== null && member?.status === "online") {
        // Survived with its member: no event, nothing changed.
        this.#clients.put(newClientRecord(client, now));
        member.clients.add(client.connectionId);
      } else {
        // An observer, or a member the storage missed or had offline: connect normally.
        this.connect({ ...client, data: member?.data ?? null }, now);
      }
    }
    for (const member of this.#members.values()) {
      if (member.status === "online" && member.clients.size === 0) {
        this.#restart = { at: now, lastReturn: now };
        const connectionId = `${PLACEHOLDER}${member.id}`;
        this.#clients.put({
          connectionId,
          userId: member.id,
          clientType: undefined,
          lastActive: now,
          lingerUntil: now + this.#timing.graceMs,
          droppedAt: now,
          expiresAt: null,
        });
        member.clients.add(connectionId);
      }
    }
  }

  /**
   * A socket joined. A client with the same connectionId (partysocket reuses its id across
   * reconnects) is replaced: for the same user that is no change at all.
   */
  connect(client: LiveClient & { data: JsonValue }, now: number): void {
    const previous = this.#clients.get(client.connectionId);
    // Remember the old owner's state before the swap, so an invisible swap diffs to nothing.
    if (previous?.userId) this.#mark(previous.userId);
    if (previous) {
      this.#clients.delete(client.connectionId);
      const owner = previous.userId === null ? undefined : this.#members.get(previous.userId);
      if (owner && previous.userId !== client.userId) {
        // The connectionId moved to another user: the old one lost this client for good.
        this.#clients.put({ ...previous, lingerUntil: now, droppedAt: now });
        this.#removeClient(client.connectionId);
      } else {
        owner?.clients.delete(client.connectionId);
      }
    }
    this.#clients.put(newClientRecord(client, now));
    if (client.userId === null) return;
    if (this.#restart) this.#restart.lastReturn = now;

    const member = this.#members.get(client.userId);
    this.#mark(client.userId);
    if (!member) {
      this.#put({
        id: client.userId,
        data: client.data,
        status: "online",
        since: now,
        lastSeen: now,
        clients: new Set([client.connectionId]),
      });
      return;
    }
    member.clients.add(client.connectionId);
    // Back after a restart: the placeholder that held its place is done (no event: the member stays).
    if (member.clients.delete(PLACEHOLDER + member.id)) this.#clients.delete(PLACEHOLDER + member.id);
    member.data = client.data;
    if (member.status === "offline") {
      member.lastSeen = now;
      member.status = "online";
      member.since = now;
    }
  }

  /** Any message from a client (or a ping the engine answered for it): it is alive. Returns false for an unknown connectionId. */
  alive(connectionId: string, now: number): boolean {
    const client = this.#clients.get(connectionId);
    if (!client || client.lingerUntil !== null) return false;
    client.lastActive = now;
    return true;
  }

  /** An HTTP client's heartbeat: it is alive, and now expires at `expiresAt`. Returns false for an unknown or lapsed client. */
  renew(connectionId: string, expiresAt: number, now: number): boolean {
    const client = this.#clients.get(connectionId);
    if (!client || client.expiresAt === null) return false;
    client.lastActive = now;
    client.expiresAt = expiresAt;
    return true;
  }

  /**
   * Removes the HTTP clients whose time ran out by `now`. The TTL was their grace: a member
   * left with no client goes offline at once, offline since its client's expiry, last seen at
   * its last renewal. Returns their connection ids.
   */
  lapse(now: number): string[] {
    const lapsed: string[] = [];
    for (const client of [...this.#clients.values()]) {
      if (client.expiresAt === null || client.expiresAt > now) continue;
      lapsed.push(client.connectionId);
      if (client.userId === null) {
        this.#clients.delete(client.connectionId);
        continue;
      }
      this.#clients.put({ ...client, lingerUntil: client.expiresAt, droppedAt: client.lastActive });
      this.#removeClient(client.connectionId);
    }
    return lapsed;
  }

  /**
   * The operator removed this client (live or in grace): gone at once, without grace; a member
   * left with no client goes offline now. Returns false for an unknown connectionId.
   */
  kick(connectionId: string, now: number): boolean {
    const client = this.#clients.get(connectionId);
    if (!client) return false;
    if (client.userId === null) {
      this.#clients.delete(connectionId);
      return true;
    }
    this.#clients.put({ ...client, lingerUntil: now, droppedAt: client.droppedAt ?? now });
    this.#removeClient(connectionId);
    return true;
  }

  /** The client's user changes its userData. Returns false if the client is no member. */
  update(connectionId: string, data: JsonValue): boolean {
    const member = this.#memberOf(connectionId);
    if (!member) return false;
    this.#mark(member.id);
    member.data = data;
    return true;
  }

  /**
   * The client unsubscribes: it stops counting at once; if its user has no other client
   * here, the member leaves. Returns false if the client is no member.
   */
  leave(connectionId: string): boolean {
    const member = this.#memberOf(connectionId);
    if (!member) return false;
    this.#removeClient(connectionId);
    // Clients of this user still in grace are gone tabs, not a reason to stay: the user left.
    const rest = [...member.clients].map((other) => this.#clients.get(other));
    if (rest.length > 0 && rest.every((other) => other?.lingerUntil !== null)) {
      for (const other of member.clients) this.#clients.delete(other);
      member.clients.clear();
      this.#remove(member.id);
    }
    return true;
  }

  /** The user's clients here, with their types; `live` is false for one in grace (its socket is gone). */
  clientsOf(userId: string): Array<{ connectionId: string; clientType: string | undefined; live: boolean }> {
    const member = this.#members.get(userId);
    if (!member) return [];
    return [...member.clients].map((connectionId) => {
      const client = this.#clients.get(connectionId);
      return { connectionId, clientType: client?.clientType, live: client?.lingerUntil === null };
    });
  }

  /**
   * A newer client of the same user took this one's place (a one-client policy): it is gone
   * at once, without grace and without an event while the user has another client here.
   */
  replace(connectionId: string, now: number): void {
    const userId = this.#clients.get(connectionId)?.userId;
    const member = userId ? this.#members.get(userId) : undefined;
    if (member && member.clients.size > 1) this.#removeClient(connectionId);
    else this.drop(connectionId, now);
  }

  /**
   * The socket is gone without a leave (closed, lost, idle). The client is still counted
   * for the grace period, so a reload or a blip changes nothing anyone sees.
   */
  drop(connectionId: string, now: number, lastSeen = now): void {
    const client = this.#clients.get(connectionId);
    if (!client || client.lingerUntil !== null) return;
    if (client.userId === null) {
      this.#clients.delete(connectionId);
      return;
    }
    this.#clients.put({ ...client, lingerUntil: now + this.#timing.graceMs, droppedAt: lastSeen });
  }

  /**
   * Applies every deadline that has passed: clients whose grace ran out are removed (a
   * member left with none goes offline), offline members past retention leave, and live
   * sockets silent for the heartbeat timeout are dropped. Returns the keys of those idle
   * clients, whose sockets the caller must close. (HTTP clients expire in `lapse`.)
   *
   * `pingedAt` tells, where the engine answers pings without waking the room, when a
   * client's socket last pinged: when any client looks idle, every live client's activity is
   * brought up to its last ping first (one pass), so the next idle deadline is the oldest
   * ping's, not the next of N scattered ones: an idle room of pinging members wakes about
   * once per heartbeat timeout, whatever N.
   */
  expire(now: number, pingedAt?: (connectionId: string) => number | null): string[] {
    if (pingedAt && this.#anyIdle(now)) {
      for (const client of this.#clients.values()) {
        if (client.lingerUntil !== null || client.expiresAt !== null) continue;
        const pinged = pingedAt(client.connectionId);
        if (pinged !== null && pinged > client.lastActive) client.lastActive = Math.min(pinged, now);
      }
    }
    this.#holdRestored();
    const idle: string[] = [];
    for (const client of [...this.#clients.values()]) {
      if (client.lingerUntil !== null) {
        if (client.lingerUntil <= now) this.#removeClient(client.connectionId);
      } else if (client.expiresAt === null && client.lastActive + this.#timing.heartbeatTimeoutMs <= now) {
        idle.push(client.connectionId);
        // Last seen when it last spoke, not when the room noticed its silence.
        this.drop(client.connectionId, now, client.lastActive);
        if (this.#timing.graceMs === 0) this.#removeClient(client.connectionId);
      }
    }
    for (const member of [...this.#members.values()]) {
      if (member.status === "offline" && member.lastSeen + this.#timing.retentionMs <= now) {
        this.#mark(member.id);
        this.#remove(member.id);
      }
    }
    return idle;
  }

  /** After a restart: the placeholders' grace runs from the last client that came back (at most `RESTART_HOLD_MAX_MS` from the rebuild). */
  #holdRestored(): void {
    if (!this.#restart) return;
    const until = Math.min(this.#restart.at + Math.max(RESTART_HOLD_MAX_MS, this.#timing.graceMs), this.#restart.lastReturn + this.#timing.graceMs);
    let holding = false;
    for (const client of this.#clients.values()) {
      if (!client.connectionId.startsWith(PLACEHOLDER) || client.lingerUntil === null) continue;
      holding = true;
      if (client.lingerUntil < until) client.lingerUntil = until;
    }
    if (!holding) this.#restart = null;
  }

  /** Whether some live client has been silent for the heartbeat timeout by `now`. */
  #anyIdle(now: number): boolean {
    for (const client of this.#clients.values()) if (client.lingerUntil === null && client.expiresAt === null && client.lastActive + this.#timing.heartbeatTimeoutMs <= now) return true;
    return false;
  }

  /** The earliest time `expire` has work to do, or null if nothing is pending. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const client of this.#clients.values()) {
      next = Math.min(next, client.lingerUntil ?? client.expiresAt ?? client.lastActive + this.#timing.heartbeatTimeoutMs);
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
    return this.#ledger.takeDiff(this.counts());
  }

  /** The channel as of the last `takeDiff`: what every client's list holds once it applied the last diff (see `TickLedger`). */
  committed(): { members: Member[]; counts: Counts } {
    return this.#ledger.committed();
  }

  /** One member as the last `takeDiff` left it, or undefined (see `TickLedger`). */
  committedMember(userId: string): Member | undefined {
    return this.#ledger.committedMember(userId);
  }

  /** The first `limit` members by userId as of the last `takeDiff`: an interval-mode window. */
  committedWindow(limit: number): Member[] {
    return this.#ledger.committedWindow(limit);
  }

  /** Live and in-grace clients of members, and online members. Observers are not counted. */
  counts(): Counts {
    return { ...this.#aggregate().counts };
  }

  /** The counts and the counted clients by type, computed once per change. */
  #aggregate(): { counts: Counts; clientTypes: ClientTypeCounts } {
    if (this.#totals) return this.#totals;
    const counts: Counts = { clientAmount: 0, userAmount: 0 };
    const clientTypes: ClientTypeCounts = {};
    for (const member of this.#members.values()) {
      if (member.status !== "online") continue;
      counts.userAmount++;
      counts.clientAmount += member.clients.size;
      for (const [type, n] of Object.entries(clientTypesOf(member, this.#clients))) clientTypes[type] = (clientTypes[type] ?? 0) + n;
    }
    return (this.#totals = { counts, clientTypes });
  }

  /** Every member, online and offline, as clients see them. */
  members(): Member[] {
    return [...this.#members.values()].map((record) => toMember(record, this.#clients));
  }

  /** The online members (live or in-grace clients), as clients see them. */
  online(): Member[] {
    const members: Member[] = [];
    for (const record of this.#members.values()) if (record.status === "online") members.push(toMember(record, this.#clients));
    return members;
  }

  /** One member, or undefined. */
  member(userId: string): Member | undefined {
    const record = this.#members.get(userId);
    return record && toMember(record, this.#clients);
  }

  /** The userId behind a client connectionId: a string for a member's client, null for an observer. */
  userOf(connectionId: string): string | null | undefined {
    return this.#clients.get(connectionId)?.userId;
  }

  /** Sockets the room holds now (members' and observers', not those in grace); O(1), it runs on every connect. */
  liveClientCount(userId?: string): number {
    return this.#clients.liveCount(userId);
  }

  /** How many members (online and offline) the channel holds. */
  get size(): number {
    return this.#members.size;
  }

  /** The channel's herenow answer: GoEasy's shape plus client types (see `hereNowOf`), users in userId order. */
  hereNow(channel: string, options: HereNowOptions = {}): ChannelHereNow {
    const members = this.#members;
    const ordered = (function* (ids: Iterable<string>) {
      for (const id of ids) yield members.get(id)!;
    })(this.#ids.after(options.cursor ?? null));
    const { counts, clientTypes } = this.#aggregate();
    return hereNowOf(channel, counts, clientTypes, ordered, this.#clients, options);
  }

  /** A page of the admin member listing: every member (online and offline) in full, by userId, after `cursor`. */
  membersPage(channel: string, options: { limit: number; cursor?: string | undefined }): MembersPage {
    const members = this.#members;
    const ordered = (function* (ids: Iterable<string>) {
      for (const id of ids) yield members.get(id)!;
    })(this.#ids.after(options.cursor ?? null));
    return membersPageOf(channel, this.#aggregate().counts, ordered, this.#clients, options.limit);
  }

  #memberOf(connectionId: string): MemberRecord | undefined {
    const client = this.#clients.get(connectionId);
    if (!client || client.userId === null || client.lingerUntil !== null) return undefined;
    return this.#members.get(client.userId);
  }

  #put(record: MemberRecord): void {
    this.#members.set(record.id, record);
    this.#ids.add(record.id);
  }

  #remove(userId: string): void {
    this.#members.delete(userId);
    this.#ids.delete(userId);
  }

  /** Remembers how a member was before its first change in this tick. */
  #mark(userId: string): void {
    this.#totals = null;
    this.#ledger.mark(userId);
  }

  /** Forgets a client; its member goes offline (dropped) or leaves (unsubscribed) if it was the last. */
  #removeClient(connectionId: string): void {
    const client = this.#clients.get(connectionId);
    if (!client) return;
    this.#clients.delete(connectionId);
    if (client.userId === null) return;
    const member = this.#members.get(client.userId);
    if (!member) return;
    this.#mark(member.id);
    member.clients.delete(connectionId);
    if (member.clients.size > 0) return;
    if (client.lingerUntil === null || client.droppedAt === null) {
      this.#remove(member.id);
    } else {
      member.status = "offline";
      member.since = client.lingerUntil;
      member.lastSeen = client.droppedAt;
    }
  }
}
