/**
 * The pure presence state of one channel: what happens to its members and their clients as
 * sockets and HTTP clients come, go and speak. Its parts, each on the one `Roster`: the read
 * side it extends (`PresenceReads`), who goes offline when (`PresenceExpiry`), the hold after a
 * restart (`RestartHold`), and the tick's coalesced diff (`TickLedger`). It knows nothing of
 * sockets or storage; every method takes the time as a parameter, so tests drive it with a
 * fake clock and never sleep.
 */
import type { JsonValue } from "../wire/json.ts";
import { type ClientListener, type LiveClient, newClientRecord } from "./client-book.ts";
import type { StoredMember } from "./member-view.ts";
import { PresenceExpiry, type PresenceTiming } from "./presence-expiry.ts";
import { PresenceReads } from "./presence-reads.ts";
import { RestartHold } from "./restart-hold.ts";
import type { TickDiff } from "./tick-ledger.ts";

export type { ClientListener, LiveClient } from "./client-book.ts";
export type { StoredMember } from "./member-view.ts";
export type { PresenceTiming } from "./presence-expiry.ts";
export { RESTART_HOLD_MAX_MS } from "./restart-hold.ts";
export type { TickDiff } from "./tick-ledger.ts";

/** The presence of one channel. */
export class PresenceState extends PresenceReads {
  readonly #hold: RestartHold;
  readonly #expiry: PresenceExpiry;
  readonly #listener: ClientListener | null;

  /** `listener` is told of each change to a member's client (a channel's shard passes them on). */
  constructor(timing: PresenceTiming, listener: ClientListener | null = null) {
    super();
    this.#listener = listener;
    this.#hold = new RestartHold(this.roster, timing.graceMs);
    this.#expiry = new PresenceExpiry(this.roster, timing, this.#hold, listener);
  }

  /**
   * Rebuilds the channel after a restart or a wake from hibernation: members from storage,
   * clients from the sockets that survived. A stored online member with no surviving socket
   * is held by a placeholder client in grace (see `RestartHold`), so it goes offline through
   * the normal path unless a client of its user comes back in time. Whatever the state held
   * before is dropped.
   */
  restore(stored: Iterable<StoredMember>, live: Iterable<LiveClient>, now: number): void {
    const roster = this.roster;
    roster.clear();
    this.#hold.clear();
    for (const member of stored) roster.put({ ...member, clients: new Set() });
    for (const client of live) {
      const member = client.userId === null ? undefined : roster.members.get(client.userId);
      if (client.userId !== null && member?.status === "online") {
        // Survived with its member: no event, nothing changed.
        roster.clients.put(newClientRecord(client, now));
        member.clients.add(client.connectionId);
      } else {
        // An observer, or a member the storage missed or had offline: connect normally.
        this.connect({ ...client, data: member?.data ?? null }, now);
      }
    }
    this.#hold.placehold(now);
  }

  /**
   * A socket joined. A client with the same connectionId (partysocket reuses its id across
   * reconnects) is replaced: for the same user that is no change at all.
   */
  connect(client: LiveClient & { data: JsonValue }, now: number): void {
    const { members, clients } = this.roster;
    const previous = clients.get(client.connectionId);
    // Remember the old owner's state before the swap, so an invisible swap diffs to nothing.
    if (previous?.userId) this.roster.mark(previous.userId);
    if (previous) {
      clients.delete(client.connectionId);
      const owner = previous.userId === null ? undefined : members.get(previous.userId);
      if (owner && previous.userId !== client.userId) {
        // The connectionId moved to another user: the old one lost this client for good.
        clients.put({ ...previous, lingerUntil: now, droppedAt: now });
        this.roster.removeClient(client.connectionId);
      } else {
        owner?.clients.delete(client.connectionId);
      }
    }
    clients.put(newClientRecord(client, now));
    if (client.userId === null) return;
    this.#listener?.connect(client.connectionId, client.userId, client.clientType, client.data);
    this.#hold.returned(now);

    const member = members.get(client.userId);
    this.roster.mark(client.userId);
    if (!member) {
      this.roster.put({
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
    this.#hold.release(member);
    member.data = client.data;
    if (member.status === "offline") {
      member.lastSeen = now;
      member.status = "online";
      member.since = now;
    }
  }

  /** Any message from a client (or a ping the engine answered for it): it is alive. Returns false for an unknown connectionId. */
  alive(connectionId: string, now: number): boolean {
    const client = this.roster.clients.get(connectionId);
    if (!client || client.lingerUntil !== null) return false;
    client.lastActive = now;
    return true;
  }

  /** An HTTP client's heartbeat: it is alive, and now expires at `expiresAt`. Returns false for an unknown or lapsed client. */
  renew(connectionId: string, expiresAt: number, now: number): boolean {
    const client = this.roster.clients.get(connectionId);
    if (!client || client.expiresAt === null) return false;
    client.lastActive = now;
    client.expiresAt = expiresAt;
    return true;
  }

  /** Removes the HTTP clients whose TTL ran out by `now` (see `PresenceExpiry.lapse`). Returns their connection ids. */
  lapse(now: number): string[] {
    return this.#expiry.lapse(now);
  }

  /**
   * The operator removed this client (live or in grace): gone at once, without grace; a member
   * left with no client goes offline now, last seen at `lastSeen` (now, unless the client was
   * heard last earlier). Returns false for an unknown connectionId.
   */
  kick(connectionId: string, now: number, lastSeen = now): boolean {
    const client = this.roster.clients.get(connectionId);
    if (!client) return false;
    if (client.userId === null) {
      this.roster.clients.delete(connectionId);
      return true;
    }
    const droppedAt = client.droppedAt ?? lastSeen;
    this.roster.clients.put({ ...client, lingerUntil: now, droppedAt });
    this.roster.removeClient(connectionId);
    this.#listener?.end(connectionId, droppedAt);
    return true;
  }

  /** The client's user changes its userData. Returns false if the client is no member. */
  update(connectionId: string, data: JsonValue): boolean {
    const member = this.roster.memberOf(connectionId);
    if (!member) return false;
    this.roster.mark(member.id);
    member.data = data;
    this.#listener?.update(connectionId, data);
    return true;
  }

  /**
   * The client unsubscribes: it stops counting at once; if its user has no other client
   * here, the member leaves. Returns false if the client is no member.
   */
  leave(connectionId: string): boolean {
    const { roster } = this;
    const member = roster.memberOf(connectionId);
    if (!member) return false;
    roster.removeClient(connectionId);
    this.#listener?.leave(connectionId);
    // Clients of this user still in grace are gone tabs, not a reason to stay: the user left.
    const rest = [...member.clients].map((other) => roster.clients.get(other));
    if (rest.length > 0 && rest.every((other) => other?.lingerUntil !== null)) {
      for (const other of member.clients) roster.clients.delete(other);
      member.clients.clear();
      roster.remove(member.id);
    }
    return true;
  }

  /**
   * A newer client of the same user took this one's place (a one-client policy): it is gone
   * at once, without grace and without an event while the user has another client here.
   */
  replace(connectionId: string, now: number): void {
    const userId = this.roster.clients.get(connectionId)?.userId;
    const member = userId ? this.roster.members.get(userId) : undefined;
    if (member && member.clients.size > 1) {
      this.roster.removeClient(connectionId);
      this.#listener?.end(connectionId, now);
    } else this.drop(connectionId, now);
  }

  /** The socket is gone without a leave: its client is still counted for the grace period (see `PresenceExpiry.drop`). */
  drop(connectionId: string, now: number, lastSeen = now): void {
    this.#expiry.drop(connectionId, now, lastSeen);
  }

  /**
   * Applies every deadline that has passed: grace, retention and idleness (see
   * `PresenceExpiry.expire`, and `pingedAt` there). Returns the idle clients, whose sockets
   * the caller must close.
   */
  expire(now: number, pingedAt?: (connectionId: string) => number | null): string[] {
    return this.#expiry.expire(now, pingedAt);
  }

  /** The earliest time `expire` has work to do, or null if nothing is pending. */
  nextDeadline(): number | null {
    return this.#expiry.nextDeadline();
  }

  /**
   * Closes the tick: compares each member touched since the last call with how it was
   * before, and returns the net events (a join and a leave in one tick cancel), the quiet
   * changes, and the rows to persist. Returns null when nothing changed.
   */
  takeDiff(): TickDiff | null {
    return this.roster.ledger.takeDiff(this.counts());
  }
}
