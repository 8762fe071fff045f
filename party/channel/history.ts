/**
 * A channel's presence history (pure): each tick's events numbered in order, one storage row
 * per event (`hist:NUMBER`), kept for PRESENCE_HISTORY_MS and at most PRESENCE_HISTORY_MAX of
 * them (the oldest dropped first, in the same write that adds the new), and paged oldest first
 * with a cursor. It holds only the range of numbers kept and a bound on the oldest one's time;
 * the events stay in storage and are read on request, through the readers it is given. Time
 * is a parameter: tests drive it with their own clock and an in-memory reader.
 */
import type { HistoryEvent, PresenceEvent } from "../protocol/index.ts";

/** The prefix of history rows. */
export const HISTORY_PREFIX = "hist:";

/** The key of event number `n`: zero-padded, so key order is number order. */
export function historyKey(n: number): string {
  return HISTORY_PREFIX + String(n).padStart(16, "0");
}

/** The numbers of the events kept: `first` up to (not including) `next`. Stored in the meta row. */
export type HistoryRange = { first: number; next: number };

/** How long and how many events a channel keeps. */
export type HistorySettings = { historyMs: number; historyMax: number };

/** Reads event `n`'s time, or undefined when its row is gone. */
export type ReadTime = (n: number) => Promise<number | undefined>;
/** Reads the events numbered `from` up to (not including) `to`, in order; missing rows are left out. */
export type ReadRange = (from: number, to: number) => Promise<HistoryEvent[]>;

/** The rows one tick writes and deletes. */
export type HistoryWrite = { rows: Array<readonly [string, HistoryEvent]>; drops: string[] };

/** What a page asks for, resolved (see `HistoryOptions`). */
export type PageQuery = { since?: number | undefined; limit: number; cursor?: string | undefined };

/** A page, or why the query cannot be answered. */
export type PageResult = { events: HistoryEvent[]; cursor?: string } | { error: string };

/** One channel's history. */
export class HistoryLog {
  readonly #settings: HistorySettings;
  #first = 0;
  #next = 0;
  /** At or before the oldest kept event's time (null: none kept, or not read since the start). */
  #oldestAt: number | null = null;
  /** The newest event's time: a later tick's events are never stamped earlier, so times only grow with numbers. */
  #lastAt = 0;

  constructor(settings: HistorySettings) {
    this.#settings = settings;
  }

  /** Takes up the stored range, with the times of its oldest and newest events (read by the caller). */
  restore(range: HistoryRange | undefined, ends: { oldestAt?: number | undefined; lastAt?: number | undefined } = {}): void {
    this.#first = range?.first ?? 0;
    this.#next = range?.next ?? 0;
    this.#oldestAt = this.size > 0 ? (ends.oldestAt ?? null) : null;
    this.#lastAt = ends.lastAt ?? 0;
  }

  /** The range to store. */
  get range(): HistoryRange {
    return { first: this.#first, next: this.#next };
  }

  /** Events kept (some may be past their age until the next sweep). */
  get size(): number {
    return this.#next - this.#first;
  }

  /**
   * Numbers one tick's events (as its diff carries them, numbered `seq`) and stamps them with
   * `now` (or the newest time kept, should the clock have gone back); returns their rows, and
   * the keys of the oldest events the cap pushes out. With PRESENCE_HISTORY_MAX=0, no rows,
   * and whatever was kept before is dropped.
   */
  append(events: readonly PresenceEvent[], seq: number, now: number): HistoryWrite {
    const max = this.#settings.historyMax;
    const at = Math.max(now, this.#lastAt);
    const rows: Array<readonly [string, HistoryEvent]> = [];
    const wasEmpty = this.size === 0;
    if (max > 0) {
      for (const event of events) rows.push([historyKey(this.#next++), { ...event, seq, at }] as const);
      if (rows.length > 0) {
        this.#lastAt = at;
        if (wasEmpty) this.#oldestAt = at;
      }
    }
    const drops = this.#dropBefore(Math.max(this.#first, this.#next - max));
    // Only new rows left: the oldest is one of them.
    if (this.size > 0 && this.size <= rows.length) this.#oldestAt = at;
    return { rows, drops };
  }

  /**
   * When a sweep has work: events past their age (with a slack of 1/24 of it, so a quiet room
   * wakes about once an hour at the default, not once per event) or over the cap. Reads never
   * show an expired event, swept or not.
   */
  nextSweep(): number | null {
    if (this.size > this.#settings.historyMax) return 0;
    if (this.size === 0 || this.#oldestAt === null) return null;
    return this.#oldestAt + this.#settings.historyMs + Math.ceil(this.#settings.historyMs / 24);
  }

  /**
   * Drops the events past their age or over the cap: finds the first one still young enough by
   * bisection (a few reads, not one per event), and returns the keys to delete.
   */
  async sweep(now: number, readTime: ReadTime): Promise<string[]> {
    const keep = await this.#firstAtOrAfter(now - this.#settings.historyMs, this.#first, readTime);
    const drops = this.#dropBefore(Math.max(keep, this.#next - this.#settings.historyMax));
    // A missing row (a crash between writes) is not younger than the cutoff bisection stopped at.
    if (this.size > 0) this.#oldestAt = (await readTime(this.#first)) ?? now - this.#settings.historyMs;
    return drops;
  }

  /**
   * One page, oldest first: events at or after `since` and not past their age, from the
   * `cursor` on, at most `limit`; a `cursor` in the answer while more follow. A cursor past
   * the newest event is an error (it is from another channel, or made up); one whose events
   * were dropped meanwhile starts at the oldest kept.
   */
  async page(query: PageQuery, now: number, readTime: ReadTime, readRange: ReadRange): Promise<PageResult> {
    let start = this.#oldestKept();
    if (query.cursor !== undefined) {
      const from = Number(query.cursor);
      if (!Number.isSafeInteger(from) || from > this.#next) return { error: "cursor is not one this channel's history gave (past its newest event)" };
      start = Math.max(start, from);
    }
    const after = Math.max(query.since ?? 0, now - this.#settings.historyMs);
    // Every kept event is at least as new as the oldest, and a cursor's page usually starts young enough: look only when not.
    if (start < this.#next && (this.#oldestAt === null || after > this.#oldestAt)) {
      const at = await readTime(start);
      if (at === undefined || at < after) start = await this.#firstAtOrAfter(after, start + 1, readTime);
    }
    const end = Math.min(start + query.limit, this.#next);
    const events = start < end ? (await readRange(start, end)).filter((event) => event.at >= after) : [];
    return end < this.#next ? { events, cursor: String(end) } : { events };
  }

  /** The oldest event a read may show: the cap applies at once, even before a sweep (the cap lowered across a restart). */
  #oldestKept(): number {
    return Math.max(this.#first, this.#next - this.#settings.historyMax);
  }

  /** The first number from `from` on whose event is at or after `time` (`next` if none); a missing row counts as older. */
  async #firstAtOrAfter(time: number, from: number, readTime: ReadTime): Promise<number> {
    let low = from;
    let high = this.#next;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      const at = await readTime(mid);
      if (at === undefined || at < time) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Forgets the events numbered below `n`; returns their keys. */
  #dropBefore(n: number): string[] {
    const drops: string[] = [];
    for (; this.#first < n; this.#first++) drops.push(historyKey(this.#first));
    if (this.size === 0) this.#oldestAt = null;
    return drops;
  }
}
