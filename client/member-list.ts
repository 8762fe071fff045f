/**
 * A client's view of one channel, as pure logic: snapshots (in parts), diffs in sequence,
 * gaps, the events a fresh snapshot implies after a reconnect, and interval mode (where the
 * list is this client's view, not the whole channel). No sockets: the `PresenceClient` feeds
 * it messages and emits what it returns.
 */
import { decodeDiffBody, decodeMember } from "../party/wire/member-wire.ts";
import { presenceChange, sameMember } from "../party/wire/presence-change.ts";
import type { ChannelMode, Counts, DiffMessage, Member, PresenceEvent, SyncMessage } from "../party/protocol/index.ts";

/** A presence event as the client reports it; `resync` marks one found by comparing snapshots after a reconnect or gap. */
export type ClientPresenceEvent = PresenceEvent & { resync?: boolean };

/**
 * What a message changed: the events to report, whether the list changed at all (quiet
 * changes and view changes included), and whether the channel's mode changed.
 */
export type ListChange = { events: ClientPresenceEvent[]; changed: boolean; modeChanged?: boolean };

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
  #mode: ChannelMode = "full";
  #window = 0;

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

  /** `full`: the list is the whole channel; `interval`: this client's view of it (itself, watched users, its window). */
  get mode(): ChannelMode {
    return this.#mode;
  }

  /** In interval mode, the window in effect: the first `window` members by userId. */
  get window(): number {
    return this.#window;
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
   * list and returns what changed against the old one (as `resync` events, after the first
   * snapshot). A snapshot in another mode, or in interval mode, only says what changed for
   * members it holds in both: the others came into or went out of view.
   */
  applySync(message: SyncMessage): ListChange | null {
    for (const wire of message.members) this.#partial.push(decodeMember(wire, message.now));
    if (message.more) return null;
    const before = this.#members;
    const first = this.#seq < 0;
    const modeChanged = !first && message.mode !== this.#mode;
    const wholeChannel = message.mode === "full" && !modeChanged;
    this.#members = new Map(this.#partial.map((member) => [member.id, member]));
    this.#partial = [];
    this.#counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    this.#seq = message.seq;
    this.#current = true;
    this.#mode = message.mode;
    this.#window = message.window ?? 0;
    if (first) return { events: [], changed: true };
    const events: ClientPresenceEvent[] = [];
    for (const [id, member] of this.#members) {
      const old = before.get(id);
      if (!old && !wholeChannel) continue;
      const action = presenceChange(old, member);
      if (action) events.push({ action, member, ...this.#counts, resync: true });
    }
    if (wholeChannel) {
      for (const [id, member] of before) {
        if (!this.#members.has(id)) events.push({ action: "leave", member, ...this.#counts, resync: true });
      }
    }
    return { events, changed: true, modeChanged };
  }

  /**
   * Applies a diff if it is the next in sequence (in interval mode, any newer one: a client
   * hears only the ticks that changed its view or the counts).
   */
  applyDiff(message: DiffMessage): DiffOutcome {
    if (!this.#current || message.seq <= this.#seq) return { kind: "ignored" };
    if (this.#mode === "full" && message.seq !== this.#seq + 1) {
      this.#current = false;
      return { kind: "gap" };
    }
    this.#seq = message.seq;
    this.#counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    const { events: changes, quiet, out } = decodeDiffBody(message, (id) => this.#members.get(id));
    const events: ClientPresenceEvent[] = [];
    let changed = quiet.length > 0 || out.length > 0;
    for (const member of quiet) this.#members.set(member.id, member);
    for (const { action: sent, member } of changes) {
      const before = this.#members.get(member.id);
      const after = sent === "leave" ? null : member;
      if (after) this.#members.set(after.id, after);
      else this.#members.delete(member.id);
      // The snapshot may already hold part of this event's effect: report what changed here.
      const action = presenceChange(before, after);
      if (action) events.push({ action, member, ...this.#counts });
      changed ||= action !== null || !sameMember(before, after);
    }
    for (const id of out) this.#members.delete(id);
    return { kind: "applied", change: { events, changed } };
  }
}
