/**
 * What a channel's shard may show its sockets of the channel, as the coordinator last told it
 * (docs/architecture.md, "One channel over many objects"): the members its sockets may see (in
 * full mode every member), the counts, the mode, the channel's size, and the number of the
 * coordinator's diff it is current at. The coordinator sends each shard its part of every diff
 * (`MirrorDiff`, from `mirrorDiffOf`); a diff that does not follow the last one means one was missed, and the
 * shard asks for a fresh copy. A shard's broadcaster reads it where a room reads its own
 * presence. Pure.
 */
import type { ChannelMode, Counts, Member, MirrorCopy, MirrorDiff } from "../protocol/index.ts";
import type { ChannelView } from "./broadcaster.ts";
import { SortedIds } from "./sorted-ids.ts";
import type { TickDiff } from "./tick-ledger.ts";

/** A shard's copy of what it may show of its channel. */
export class ChannelMirror implements ChannelView {
  readonly #members = new Map<string, Member>();
  readonly #ids = new SortedIds();
  #counts: Counts = { clientAmount: 0, userAmount: 0 };
  #epoch = -1;
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

  /** Applies the coordinator's next diff. False (and nothing applied) when it does not follow the last one (or comes from another run of the coordinator): ask for a copy. */
  apply(diff: MirrorDiff): boolean {
    if (diff.epoch !== this.#epoch || diff.seq !== this.#seq + 1) return false;
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

  /** One member as it is now: in a mirror, as committed. */
  member(userId: string): Member | undefined {
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

  #take(head: Counts & { epoch: number; seq: number; mode: ChannelMode; size: number }): void {
    this.#counts = { clientAmount: head.clientAmount, userAmount: head.userAmount };
    this.#epoch = head.epoch;
    this.#seq = head.seq;
    this.#mode = head.mode;
    this.#size = head.size;
  }
}

/** The coordinator's run and numbering, and the channel's mode and size, as a mirror's diffs and copies carry them. */
export type MirrorStamp = { epoch: number; seq: number; mode: ChannelMode; size: number };

/** A shard's part of a coordinator's tick: the whole diff (every shard mirrors every member). */
export function mirrorDiffOf(diff: TickDiff, stamp: MirrorStamp): MirrorDiff {
  return { ...stamp, clientAmount: diff.clientAmount, userAmount: diff.userAmount, events: diff.events, quiet: diff.quiet, out: [] };
}

/** A diff a shard heard, as its broadcaster takes a tick's (nothing to store: rows are the coordinator's). */
export function tickDiffOf(diff: MirrorDiff): TickDiff {
  return { clientAmount: diff.clientAmount, userAmount: diff.userAmount, events: diff.events, quiet: diff.quiet, upserts: [], deletes: [] };
}
