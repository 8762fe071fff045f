/**
 * The records of one channel's presence, shared by `PresenceState` and its parts: members by
 * userId (their ids kept in order), their clients, the open tick (`TickLedger`, which reads
 * these same records), and the online counts until the next change. The one place where a
 * member's client is removed and the member, left with none, goes offline or leaves. Pure.
 */
import type { ClientTypeCounts, Counts } from "../protocol/index.ts";
import { ClientBook } from "./client-book.ts";
import { clientTypesOf, type MemberRecord } from "./member-view.ts";
import { SortedIds } from "./sorted-ids.ts";
import { TickLedger } from "./tick-ledger.ts";

/** A channel's members and clients. */
export class Roster {
  /** Every member, online and offline, by userId. */
  readonly members = new Map<string, MemberRecord>();
  /** The members' userIds in order, for herenow's pages and interval mode's windows. */
  readonly ids = new SortedIds();
  readonly clients = new ClientBook();
  /** The open tick: each member touched, as it was before. */
  readonly ledger = new TickLedger(this);
  /** The online members' counts and client types, until the next change (herenow reads them on every request). */
  #totals: { counts: Counts; clientTypes: ClientTypeCounts } | null = null;

  /** Forgets everything (a rebuild). */
  clear(): void {
    this.members.clear();
    this.ids.clear();
    this.clients.clear();
    this.#totals = null;
    this.ledger.clear();
  }

  /** Stores a member record, replacing any with its userId. */
  put(record: MemberRecord): void {
    this.members.set(record.id, record);
    this.ids.add(record.id);
  }

  /** Forgets a member. */
  remove(userId: string): void {
    this.members.delete(userId);
    this.ids.delete(userId);
  }

  /** Remembers how a member was before its first change in this tick; the counts are worked out again. */
  mark(userId: string): void {
    this.#totals = null;
    this.ledger.mark(userId);
  }

  /** The member a live client belongs to; undefined for an observer, a client in grace or an unknown one. */
  memberOf(connectionId: string): MemberRecord | undefined {
    const client = this.clients.get(connectionId);
    if (!client || client.userId === null || client.lingerUntil !== null) return undefined;
    return this.members.get(client.userId);
  }

  /** Forgets a client; its member goes offline (dropped) or leaves (unsubscribed) if it was the last. */
  removeClient(connectionId: string): void {
    const client = this.clients.get(connectionId);
    if (!client) return;
    this.clients.delete(connectionId);
    if (client.userId === null) return;
    const member = this.members.get(client.userId);
    if (!member) return;
    this.mark(member.id);
    member.clients.delete(connectionId);
    if (member.clients.size > 0) return;
    if (client.lingerUntil === null || client.droppedAt === null) {
      this.remove(member.id);
    } else {
      member.status = "offline";
      member.since = client.lingerUntil;
      member.lastSeen = client.droppedAt;
    }
  }

  /** The online members' counts and their counted clients by type, computed once per change. */
  totals(): { counts: Counts; clientTypes: ClientTypeCounts } {
    if (this.#totals) return this.#totals;
    const counts: Counts = { clientAmount: 0, userAmount: 0 };
    const clientTypes: ClientTypeCounts = {};
    for (const member of this.members.values()) {
      if (member.status !== "online") continue;
      counts.userAmount++;
      counts.clientAmount += member.clients.size;
      for (const [type, n] of Object.entries(clientTypesOf(member, this.clients))) clientTypes[type] = (clientTypes[type] ?? 0) + n;
    }
    return (this.#totals = { counts, clientTypes });
  }
}
