/**
 * A client's view of one channel, as pure logic: snapshots (in parts), diffs in sequence,
 * gaps, and the events a fresh snapshot implies after a reconnect. No sockets: the
 * `PresenceClient` feeds it messages and emits what it returns.
 */
import { presenceChange, sameMember } from "../party/shared/presence-change.ts";
import type { Counts, DiffMessage, Member, PresenceEvent, SyncMessage } from "../party/shared/protocol.ts";

/** A presence event as the client reports it; `resync` marks one found by comparing snapshots after a reconnect or gap. */
export type ClientPresenceEvent = PresenceEvent & { resync?: boolean };

/** What a message changed: the events to report, and whether the list changed at all (quiet changes included). */
export type ListChange = { events: ClientPresenceEvent[]; changed: boolean };

/** What applying a diff came to. */
export type DiffOutcome =
  | { kind: "applied"; change: ListChange }
  /** Not in sequence: a diff was missed. Ask for a snapshot; diffs are ignored until it comes. */
  | { kind: "gap" }
  /** Old, or arrived while no snapshot is current: nothing to do. */
  | { kind: "ignored" };

/** The member list of one channel as a client holds it. */
export class MemberList {
  #members = new Map<string, Member>();
  #counts: Counts = { clientAmount: 0, userAmount: 0 };
  /** The sequence number the list is current at; -1 before the first snapshot. */
  #seq = -1;
  /** Whether the list is current: false from a (re)connect or a gap until the next snapshot. */
  #current = false;
  #partial: Member[] = [];

  /** The members, online and offline. */
  get members(): Member[] {
    return [...this.#members.values()];
  }

  /** One member by userId. */
  member(userId: string): Member | undefined {
    return this.#members.get(userId);
  }

  /** The channel's counts as of the last message. */
  get counts(): Counts {
    return { ...this.#counts };
  }

  /** The sequence number of the last snapshot or diff applied (-1 before any). */
  get seq(): number {
    return this.#seq;
  }

  /** Whether the list is current (a snapshot arrived since the last connect or gap). */
  get current(): boolean {
    return this.#current;
  }

  /** A new connection: diffs wait for its snapshot; a half-received one is dropped. */
  reconnected(): void {
    this.#current = false;
    this.#partial = [];
  }

  /**
   * Applies one part of a snapshot. Until the last part it returns null; then it replaces the
   * list and returns what changed against the old one (as `resync` events, after the first snapshot).
   */
  applySync(message: SyncMessage): ListChange | null {
    this.#partial.push(...message.members);
    if (message.more) return null;
    const before = this.#members;
    const first = this.#seq < 0;
    this.#members = new Map(this.#partial.map((member) => [member.id, member]));
    this.#partial = [];
    this.#counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    this.#seq = message.seq;
    this.#current = true;
    if (first) return { events: [], changed: true };
    const events: ClientPresenceEvent[] = [];
    for (const [id, member] of this.#members) {
      const action = presenceChange(before.get(id), member);
      if (action) events.push({ action, member, ...this.#counts, resync: true });
    }
    for (const [id, member] of before) {
      if (!this.#members.has(id)) events.push({ action: "leave", member, ...this.#counts, resync: true });
    }
    return { events, changed: true };
  }

  /** Applies a diff if it is the next in sequence. */
  applyDiff(message: DiffMessage): DiffOutcome {
    if (!this.#current || message.seq <= this.#seq) return { kind: "ignored" };
    if (message.seq !== this.#seq + 1) {
      this.#current = false;
      return { kind: "gap" };
    }
    this.#seq = message.seq;
    this.#counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    const events: ClientPresenceEvent[] = [];
    let changed = message.quiet.length > 0;
    for (const member of message.quiet) this.#members.set(member.id, member);
    for (const event of message.events) {
      const before = this.#members.get(event.member.id);
      const after = event.action === "leave" ? null : event.member;
      if (after) this.#members.set(after.id, after);
      else this.#members.delete(event.member.id);
      // The snapshot may already hold part of this event's effect: report what changed here.
      const action = presenceChange(before, after);
      if (action) events.push({ ...event, action });
      changed ||= action !== null || !sameMember(before, after);
    }
    return { kind: "applied", change: { events, changed } };
  }
}
