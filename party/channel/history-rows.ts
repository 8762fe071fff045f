/**
 * The channel's history in its storage: the pure `HistoryLog` given storage to read from. The
 * tick's rows themselves are written by `ChannelStore` with the tick's members (one write);
 * this part restores the log at start, sweeps expired events on the room's alarm, and answers
 * `GET ?history` pages from storage. Used by the service, the Publisher and the routes.
 */
import type { HostStorage } from "../server/host.ts";
import { deleteAll } from "../server/storage.ts";
import { type HistoryEvent, isUserId, type PresenceEvent } from "../protocol/index.ts";
import { HISTORY_PREFIX, historyKey, HistoryLog, type HistoryRange, type HistorySettings, type HistoryWrite, type PageQuery, type PageResult } from "./history.ts";

/** A channel's history, kept in its storage. */
export class HistoryRows {
  readonly #storage: HostStorage;
  readonly #log: HistoryLog;

  constructor(storage: HostStorage, settings: HistorySettings) {
    this.#storage = storage;
    this.#log = new HistoryLog(settings);
  }

  /** Takes up the stored range; reads the times of its two ends (two rows, not the history). */
  async load(range: HistoryRange | undefined): Promise<void> {
    if (!range || range.next <= range.first) return this.#log.restore(range);
    const [oldest, last] = await Promise.all([this.#readTime(range.first), this.#readTime(range.next - 1)]);
    this.#log.restore(range, { oldestAt: oldest, lastAt: last });
  }

  /** The range to store in the meta row. */
  get range(): HistoryRange {
    return this.#log.range;
  }

  /** Events kept. */
  get size(): number {
    return this.#log.size;
  }

  /** A tick's events as rows, and the keys the cap drops: the caller writes both with the tick's members. */
  append(events: readonly PresenceEvent[], seq: number, now: number): HistoryWrite {
    return this.#log.append(events, seq, now);
  }

  /** When expired events (or events over the cap) are next to be dropped. */
  nextDeadline(): number | null {
    return this.#log.nextSweep();
  }

  /** Drops expired events and events over the cap, when due; returns whether any were dropped. */
  async sweep(now: number): Promise<boolean> {
    const due = this.#log.nextSweep();
    if (due === null || now < due) return false;
    const drops = await this.#log.sweep(now, (n) => this.#readTime(n));
    await deleteAll(this.#storage, drops);
    return drops.length > 0;
  }

  /** One page of the history, read from storage. */
  page(query: PageQuery, now: number): Promise<PageResult> {
    return this.#log.page(query, now, (n) => this.#readTime(n), async (from, to) => {
      const rows = await this.#storage.list<HistoryEvent>({ prefix: HISTORY_PREFIX, start: historyKey(from), end: historyKey(to) });
      // An event of a userId stored before the userId rule is left out (it expires with the others).
      return [...rows.values()].filter((event) => isUserId(event.member.id));
    });
  }

  async #readTime(n: number): Promise<number | undefined> {
    return (await this.#storage.get<HistoryEvent>(historyKey(n)))?.at;
  }
}
