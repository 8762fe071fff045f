/**
 * The read side of a channel's presence: the members and counts as they are now, the channel
 * as the last tick committed it (what clients hold), herenow's answer and the admin listing's
 * pages. `PresenceState` extends it with the changes; both work on one `Roster`.
 */
import type { ChannelHereNow, Counts, HereNowOptions, Member, MembersPage } from "../protocol/index.ts";
import { hereNowOf, type MemberRecord, membersPageOf, toMember } from "./member-view.ts";
import { Roster } from "./roster.ts";

/** What a channel's presence shows. */
export class PresenceReads {
  /** The records the reads show and `PresenceState` changes. */
  protected readonly roster = new Roster();

  /** The channel as of the last `takeDiff`: what every client's list holds once it applied the last diff (see `TickLedger`). */
  committed(): { members: Member[]; counts: Counts } {
    return this.roster.ledger.committed();
  }

  /** One member as the last `takeDiff` left it, or undefined (see `TickLedger`). */
  committedMember(userId: string): Member | undefined {
    return this.roster.ledger.committedMember(userId);
  }

  /** The first `limit` members by userId as of the last `takeDiff`: an interval-mode window. */
  committedWindow(limit: number): Member[] {
    return this.roster.ledger.committedWindow(limit);
  }

  /** Live and in-grace clients of members, and online members. Observers are not counted. */
  counts(): Counts {
    return { ...this.roster.totals().counts };
  }

  /** Every member, online and offline, as clients see them. */
  members(): Member[] {
    return [...this.roster.members.values()].map((record) => toMember(record, this.roster.clients));
  }

  /** The online members (live or in-grace clients), as clients see them. */
  online(): Member[] {
    const members: Member[] = [];
    for (const record of this.roster.members.values()) if (record.status === "online") members.push(toMember(record, this.roster.clients));
    return members;
  }

  /** One member, or undefined. */
  member(userId: string): Member | undefined {
    const record = this.roster.members.get(userId);
    return record && toMember(record, this.roster.clients);
  }

  /** The user's clients here, with their types; `live` is false for one in grace (its socket is gone). */
  clientsOf(userId: string): Array<{ connectionId: string; clientType: string | undefined; live: boolean }> {
    const member = this.roster.members.get(userId);
    if (!member) return [];
    return [...member.clients].map((connectionId) => {
      const client = this.roster.clients.get(connectionId);
      return { connectionId, clientType: client?.clientType, live: client?.lingerUntil === null };
    });
  }

  /** The userId behind a client connectionId: a string for a member's client, null for an observer. */
  userOf(connectionId: string): string | null | undefined {
    return this.roster.clients.get(connectionId)?.userId;
  }

  /** Sockets the room holds now (members' and observers', not those in grace); O(1), it runs on every connect. */
  liveClientCount(userId?: string): number {
    return this.roster.clients.liveCount(userId);
  }

  /** How many members (online and offline) the channel holds. */
  get size(): number {
    return this.roster.members.size;
  }

  /** The channel's herenow answer: GoEasy's shape plus client types (see `hereNowOf`), users in userId order. */
  hereNow(channel: string, options: HereNowOptions = {}): ChannelHereNow {
    const { counts, clientTypes } = this.roster.totals();
    return hereNowOf(channel, counts, clientTypes, this.#after(options.cursor), this.roster.clients, options);
  }

  /** A page of the admin member listing: every member (online and offline) in full, by userId, after `cursor`. */
  membersPage(channel: string, options: { limit: number; cursor?: string | undefined }): MembersPage {
    return membersPageOf(channel, this.roster.totals().counts, this.#after(options.cursor), this.roster.clients, options.limit);
  }

  /** The member records by userId after `cursor` (all without one), lazily. */
  *#after(cursor: string | undefined): Generator<MemberRecord> {
    const members = this.roster.members;
    for (const id of this.roster.ids.after(cursor ?? null)) yield members.get(id)!;
  }
}
