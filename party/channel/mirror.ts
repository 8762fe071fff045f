/**
 * What a channel's shard may show its sockets of the channel, as the coordinator last told it
 * (docs/architecture.md, "One channel over many objects"): the members its sockets may see (in
 * full mode every member), the counts, the mode, the channel's size, and the number of the
 * coordinator's diff it is current at. The coordinator sends each shard its part of every diff
 * (`mirrorDiffOf`); a diff that does not follow the last one means one was missed, and the
 * shard asks for a fresh copy. A shard's broadcaster reads it where a room reads its own
 * presence. Pure.
 */
import type { ChannelMode, Counts, Member, PresenceEvent } from "../protocol/index.ts";
import { SortedIds } from "./sorted-ids.ts";
import type { TickDiff } from "./tick-ledger.ts";

/** The coordinator's news for one shard: one diff's changes among the members the shard may show. */
export type MirrorDiff = Counts & {
  /** The coordinator's diff number: the shard's last plus one. */
  seq: number;
  mode: ChannelMode;
  /** How many members the channel has (online and offline). */
  size: number;
  /** The diff's events, in order. */
  events: PresenceEvent[];
  /** Members that changed without an event, or came into what the shard may show. */
  quiet: Member[];
  /** Members the shard no longer shows (they left its view, not the channel). */
  out: string[];
};

/** A whole copy: what a shard starts from, and takes again after a missed diff. */
export type MirrorCopy = Counts & { seq: number; mode: ChannelMode; size: number; members: Member[] };

/** A shard's copy of what it may show of its channel. */
export class ChannelMirror {
  readonly #members = new Map<string, Member>();
  readonly #ids = new SortedIds();
  #counts: Counts = { clientAmount: 0, userAmount: 0 };
  #seq = 0;
  #mode: ChannelMode = "full";
  #size = 0;

  /** Takes a whole copy, replacing what was held. */
  reset(copy: MirrorCopy): void {
    this.#members.clear();
    this.#ids.clear();
    for (const member of copy.members) this.#put(member);
    this.#take(copy);
  }

  /** Applies the coordinator's next diff. False (and nothing applied) when it does not follow the last one: ask for a copy. */
  apply(diff: MirrorDiff): boolean {
    if (diff.seq !== this.#seq + 1) return false;
    for (const member of diff.quiet) this.#put(member);
    for (const event of diff.events) {
      if (event.action === "leave") this.#remove(event.member.id);
      else this.#put(event.member);
    }
    for (const id of diff.out) this.#remove(id);
    this.#take(diff);
    return true;
  }

  /** The number of the coordinator's diff this copy is current at. */
  get seq(): number {
    return this.#seq;
  }

  get mode(): ChannelMode {
    return this.#mode;
  }

  /** How many members the channel has (not how many are shown here). */
  get size(): number {
    return this.#size;
  }

  /** The members shown here and the channel's counts. */
  committed(): { members: Member[]; counts: Counts } {
    return { members: [...this.#members.values()], counts: { ...this.#counts } };
  }

  /** One member, if shown here. */
  committedMember(userId: string): Member | undefined {
    return this.#members.get(userId);
  }

  /** The first `limit` members by userId (an interval-mode window; the coordinator keeps the first 100 here). */
  committedWindow(limit: number): Member[] {
    const window: Member[] = [];
    if (limit === 0) return window;
    for (const id of this.#ids.after(null)) {
      window.push(this.#members.get(id)!);
      if (window.length === limit) break;
    }
    return window;
  }

  #put(member: Member): void {
    this.#members.set(member.id, member);
    this.#ids.add(member.id);
  }

  #remove(id: string): void {
    this.#members.delete(id);
    this.#ids.delete(id);
  }

  #take(head: Counts & { seq: number; mode: ChannelMode; size: number }): void {
    this.#counts = { clientAmount: head.clientAmount, userAmount: head.userAmount };
    this.#seq = head.seq;
    this.#mode = head.mode;
    this.#size = head.size;
  }
}

/** A full-mode shard's part of a coordinator's tick: the whole diff (every member is shown). */
export function mirrorDiffOf(diff: TickDiff, seq: number, mode: ChannelMode, size: number): MirrorDiff {
  return { seq, mode, size, clientAmount: diff.clientAmount, userAmount: diff.userAmount, events: diff.events, quiet: diff.quiet, out: [] };
}
