/**
 * The index's counters for `GET /metrics`, pure logic. Active channels' counters ride on their
 * entries (the table's); this ledger keeps what is left of channels that dropped out, so the
 * totals never decrease and nothing is counted twice:
 *
 * - a channel that reported `active: false` is folded into `retired` at once, and remembered
 *   (in memory, RECENT_MS) with its generation, so a repeat of that report (its answer was lost)
 *   replaces what it added instead of adding it again;
 * - one whose lease lapsed (its room went quiet without a word) is kept apart for
 *   LAPSED_KEEP_MS with its generation, so a room that comes back takes its counters up again,
 *   and is folded into `retired` after that.
 *
 * A room's generation (`gen`) counts the times the index retired its counters (IndexReporter):
 * a report of the same generation continues what the index holds or keeps apart (the higher of
 * each counter: a room that lost a count in a crash does not make a total go down), one of a
 * later generation counts from zero and finishes the earlier one. The caller stores what `take`
 * hands out: the retired total (one row) and the lapsed channels (a row each).
 */
import type { ChannelMode, IndexReport, MetricsTotals, RoomCounters } from "../protocol/index.ts";
import { addCounters, isZero, LAPSED_KEEP_MS, maxCounters, subtractCounters, zeroCounters } from "../server/counters.ts";

/** How long a retired channel's last report is remembered, to recognise a repeat of it. */
export const RECENT_MS = 10 * 60_000;

/** A channel whose lease lapsed: its last counters and generation, kept apart until `until`. */
export type LapsedChannel = { channel: string; counters: RoomCounters; gen?: number; until: number };

/** What the index holds of an active channel. */
export type HeldCounters = { counters?: RoomCounters | undefined; gen?: number | undefined };

/** What an active channel adds to the totals. */
export type ActiveChannel = { clientAmount: number; userAmount: number; members: number; mode: ChannelMode; httpClients?: number | undefined; counters?: RoomCounters | undefined };

/** Rows to write: the retired total (when it changed), and lapsed channels by name (null: delete the row). */
export type LedgerChanges = { retired: RoomCounters | null; lapsed: Map<string, LapsedChannel | null> };

/** The counters of channels no longer active. */
export class MetricsLedger {
  #retired: RoomCounters = zeroCounters();
  readonly #lapsed = new Map<string, LapsedChannel>();
  /** Channels retired lately, by name: what their last report added, and its generation (not stored: a repeat comes within seconds). */
  readonly #recent = new Map<string, { counters: RoomCounters; gen: number; until: number }>();
  #changes: LedgerChanges = { retired: null, lapsed: new Map() };

  /** What storage held (after a restart). */
  restore(retired: RoomCounters | undefined, lapsed: Iterable<LapsedChannel>): void {
    if (retired) this.#retired = retired;
    for (const entry of lapsed) this.#lapsed.set(entry.channel, entry);
  }

  /**
   * A room's report. `held`: what the index holds for the channel (its entry), if any. Returns
   * the counters the channel's entry holds from now on (an active report), or null (an inactive
   * one: the channel's counters went into the retired total).
   */
  report(report: IndexReport, held: HeldCounters | undefined, now: number): RoomCounters | null {
    const name = report.entry.channel;
    const gen = report.gen ?? 0;
    let counters = report.counters ?? zeroCounters();
    // Of the same generation: the room goes on from these. Of another: they are final.
    const goOnFrom = (earlier: RoomCounters, earlierGen: number | undefined) => {
      if ((earlierGen ?? 0) === gen) counters = maxCounters(earlier, counters);
      else this.#retire(earlier);
    };
    if (held?.counters) goOnFrom(held.counters, held.gen);
    const lapsed = this.#lapsed.get(name);
    if (lapsed) {
      // The room is back: what it reports includes what it had when its lease lapsed.
      this.#lapsed.delete(name);
      this.#changes.lapsed.set(name, null);
      goOnFrom(lapsed.counters, lapsed.gen);
    }
    const recent = this.#recent.get(name);
    if (recent) {
      this.#recent.delete(name);
      // A repeat of the report that retired the channel (or the room back before it heard the answer): taken back out of `retired`, and counted once below.
      if (recent.gen === gen) {
        this.#unretire(recent.counters);
        counters = maxCounters(recent.counters, counters);
      }
    }
    if (report.active) return counters;
    this.#retire(counters);
    this.#recent.set(name, { counters, gen, until: now + RECENT_MS });
    return null;
  }

  /** Channels whose lease lapsed: kept apart for LAPSED_KEEP_MS from the lapse. */
  lapse(channels: Array<{ channel: string; counters?: RoomCounters | undefined; gen?: number | undefined; expiresAt: number }>): void {
    for (const { channel, counters, gen, expiresAt } of channels) {
      if (!counters || isZero(counters)) continue;
      const entry: LapsedChannel = { channel, counters, gen: gen ?? 0, until: expiresAt + LAPSED_KEEP_MS };
      this.#lapsed.set(channel, entry);
      this.#changes.lapsed.set(channel, entry);
    }
  }

  /** Folds the channels kept apart past their time into the retired total, and forgets old retirements. */
  expire(now: number): void {
    for (const [name, entry] of this.#recent) if (entry.until <= now) this.#recent.delete(name);
    for (const [name, entry] of this.#lapsed) {
      if (entry.until > now) continue;
      this.#lapsed.delete(name);
      this.#changes.lapsed.set(name, null);
      this.#retire(entry.counters);
    }
  }

  /** When the next lapsed channel is due to be folded in, or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const { until } of this.#lapsed.values()) if (next === null || until < next) next = until;
    return next;
  }

  /** The gauges (sums over the active channels) and every counter (active, lapsed and retired channels). */
  totals(active: Iterable<ActiveChannel>): MetricsTotals {
    const totals: MetricsTotals = { channels: 0, clientAmount: 0, userAmount: 0, httpClients: 0, members: { full: 0, interval: 0 }, counters: this.#retired };
    for (const { counters } of this.#lapsed.values()) totals.counters = addCounters(totals.counters, counters);
    for (const channel of active) {
      totals.channels++;
      totals.clientAmount += channel.clientAmount;
      totals.userAmount += channel.userAmount;
      totals.httpClients += channel.httpClients ?? 0;
      totals.members[channel.mode] += channel.members;
      if (channel.counters) totals.counters = addCounters(totals.counters, channel.counters);
    }
    return totals;
  }

  /** The rows to write since the last call (null: none). */
  take(): LedgerChanges | null {
    const changes = this.#changes;
    if (changes.retired === null && changes.lapsed.size === 0) return null;
    this.#changes = { retired: null, lapsed: new Map() };
    return changes;
  }

  #retire(counters: RoomCounters): void {
    if (isZero(counters)) return;
    this.#retired = addCounters(this.#retired, counters);
    this.#changes.retired = this.#retired;
  }

  /** Takes back what `#retire` added (the caller adds at least as much again at once). */
  #unretire(counters: RoomCounters): void {
    if (isZero(counters)) return;
    this.#retired = subtractCounters(this.#retired, counters);
    this.#changes.retired = this.#retired;
  }
}
