/**
 * The open tick of a channel's presence: each member touched since the last diff, as it was
 * before its first change. Closing the tick coalesces (a join and a leave in one tick cancel)
 * into the events, quiet changes and rows of a `TickDiff`; until then, the committed view
 * (what every client holds) is read from here. Pure: `PresenceState` owns the records it reads.
 */
import type { Counts, Member, PresenceEvent } from "../protocol/index.ts";
import { presenceChange, sameMember } from "../wire/presence-change.ts";
import type { ClientBook } from "./client-book.ts";
import { type MemberRecord, type StoredMember, storedEqual, toMember, toStored } from "./member-view.ts";
import type { SortedIds } from "./sorted-ids.ts";

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

/** The records a ledger reads: the state's own maps, shared. */
export type LedgerView = { members: ReadonlyMap<string, MemberRecord>; clients: ClientBook; ids: SortedIds };

/** One channel's open tick. */
export class TickLedger {
  readonly #view: LedgerView;
  /** Each member touched this tick, with its record as it was before (null: absent). */
  #before = new Map<string, Member | null>();

  constructor(view: LedgerView) {
    this.#view = view;
  }

  /** Remembers how a member was before its first change in this tick. */
  mark(userId: string): void {
    if (this.#before.has(userId)) return;
    const record = this.#view.members.get(userId);
    this.#before.set(userId, record ? toMember(record, this.#view.clients) : null);
  }

  /** Forgets the open tick (a rebuild). */
  clear(): void {
    this.#before.clear();
  }

  /**
   * Closes the tick: compares each member touched since the last call with how it was
   * before, and returns the net events (a join and a leave in one tick cancel), the quiet
   * changes, and the rows to persist. Returns null when nothing changed.
   */
  takeDiff(counts: Counts): TickDiff | null {
    if (this.#before.size === 0) return null;
    const diff: TickDiff = { ...counts, events: [], quiet: [], upserts: [], deletes: [] };
    for (const [id, before] of this.#before) {
      const record = this.#view.members.get(id);
      const after = record ? toMember(record, this.#view.clients) : null;
      if (record && (!before || !storedEqual(before, toStored(record)))) diff.upserts.push(toStored(record));
      if (!after && before) diff.deletes.push(id);
      const event = (action: PresenceEvent["action"], member: Member) =>
        diff.events.push({ action, member, ...counts });

      const action = presenceChange(before, after);
      if (action === "leave") event("leave", { ...before!, clients: 0, clientTypes: {} });
      else if (action !== null) event(action, after!);
      else if (!sameMember(before, after)) diff.quiet.push(after!);
      // A user who joins already offline (rebuilt from storage) is announced as both.
      if (action === "join" && after!.status === "offline") event("offline", after!);
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
    for (const [id, record] of this.#view.members) {
      const before = this.#before.get(id);
      if (before === undefined) members.push(toMember(record, this.#view.clients));
      else if (before !== null) members.push(before);
    }
    for (const [id, before] of this.#before) {
      if (before !== null && !this.#view.members.has(id)) members.push(before);
    }
    const counts: Counts = { clientAmount: 0, userAmount: 0 };
    for (const member of members) {
      if (member.status !== "online") continue;
      counts.userAmount++;
      counts.clientAmount += member.clients;
    }
    return { members, counts };
  }

  /**
   * One member as the last `takeDiff` left it (what clients hold), or undefined: a member
   * that joined in the open tick is not there yet, one that left in it still is.
   */
  committedMember(userId: string): Member | undefined {
    const before = this.#before.get(userId);
    if (before !== undefined) return before ?? undefined;
    const record = this.#view.members.get(userId);
    return record && toMember(record, this.#view.clients);
  }

  /** The first `limit` members by userId as of the last `takeDiff`: an interval-mode window. */
  committedWindow(limit: number): Member[] {
    const window: Member[] = [];
    if (limit === 0) return window;
    // Members removed in the open tick are still committed: merge them in, in order.
    const removed = [...this.#before.values()].filter((before): before is Member => before !== null && !this.#view.members.has(before.id));
    removed.sort((a, b) => (a.id < b.id ? -1 : 1));
    let next = 0;
    for (const id of this.#view.ids.after(null)) {
      while (next < removed.length && removed[next]!.id < id && window.length < limit) window.push(removed[next++]!);
      if (window.length === limit) return window;
      const member = this.committedMember(id);
      if (member) window.push(member);
      if (window.length === limit) return window;
    }
    while (next < removed.length && window.length < limit) window.push(removed[next++]!);
    return window;
  }
}
