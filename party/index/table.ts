/**
 * The channel index's table, pure logic: the active channels with their counts, each held
 * for a lease from its room's last report (a room that dies without a word drops out when
 * the lease lapses), the changes since dashboards were last told, and the sorted, searched
 * list that `GET /channels` answers.
 */
import type { ChannelEntry, IndexReport, RoomCounters } from "../protocol/index.ts";
import { byMembers } from "../wire/channel-order.ts";

/** A channel's entry and when it lapses without a new report; its HTTP clients, counters and their generation (for GET /metrics) when its room reported them. */
export type HeldEntry = { entry: ChannelEntry; expiresAt: number; httpClients?: number; counters?: RoomCounters; gen?: number };

/** What dashboards have not heard yet. */
export type TableChanges = { channels: ChannelEntry[]; removed: string[] };

/** The active channels. */
export class ChannelTable {
  readonly #held = new Map<string, HeldEntry>();
  /** Channels changed (name → still held) since the last `take`. */
  readonly #changed = new Set<string>();

  /** Entries from storage (after a restart); those already lapsed are left out by the next `expire`. */
  restore(entries: Iterable<HeldEntry>): void {
    for (const held of entries) this.#held.set(held.entry.channel, held);
  }

  /** Applies a room's report. Returns the entry to store (or null to delete), or undefined when nothing changed. */
  apply(report: IndexReport, now: number, leaseMs: number): HeldEntry | null | undefined {
    const name = report.entry.channel;
    if (!report.active) {
      if (!this.#held.delete(name)) return undefined;
      this.#changed.add(name);
      return null;
    }
    const before = this.#held.get(name)?.entry;
    const held: HeldEntry = { entry: { ...report.entry, updatedAt: now }, expiresAt: now + leaseMs };
    if (report.httpClients !== undefined) held.httpClients = report.httpClients;
    if (report.counters !== undefined) held.counters = report.counters;
    if (report.gen !== undefined) held.gen = report.gen;
    this.#held.set(name, held);
    if (!before || !sameCounts(before, held.entry)) this.#changed.add(name);
    return held;
  }

  /** Drops the channels whose lease lapsed; returns their names. */
  expire(now: number): string[] {
    return this.expireHeld(now).map((held) => held.entry.channel);
  }

  /** Drops the channels whose lease lapsed; returns their entries. */
  expireHeld(now: number): HeldEntry[] {
    const gone: HeldEntry[] = [];
    for (const [name, held] of this.#held) {
      if (held.expiresAt > now) continue;
      this.#held.delete(name);
      this.#changed.add(name);
      gone.push(held);
    }
    return gone;
  }

  /** A channel's entry, if it is held. */
  get(name: string): HeldEntry | undefined {
    return this.#held.get(name);
  }

  /** Every held entry, in no order. */
  held(): IterableIterator<HeldEntry> {
    return this.#held.values();
  }

  /** When the next lease lapses, or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const held of this.#held.values()) if (next === null || held.expiresAt < next) next = held.expiresAt;
    return next;
  }

  /** Every active channel, most members first. */
  all(): ChannelEntry[] {
    return [...this.#held.values()].map((held) => held.entry).sort(byMembers);
  }

  /** `GET /channels`: channels whose name contains `q` (case-insensitive), most members first, at most `limit`. */
  list(q: string, limit: number): { total: number; channels: ChannelEntry[] } {
    const needle = q.toLowerCase();
    const found = needle === "" ? this.all() : this.all().filter((entry) => entry.channel.toLowerCase().includes(needle));
    return { total: found.length, channels: found.slice(0, limit) };
  }

  get size(): number {
    return this.#held.size;
  }

  /** The changes since the last call (null: none): entries changed, and names removed. */
  take(): TableChanges | null {
    if (this.#changed.size === 0) return null;
    const changes: TableChanges = { channels: [], removed: [] };
    for (const name of this.#changed) {
      const held = this.#held.get(name);
      if (held) changes.channels.push(held.entry);
      else changes.removed.push(name);
    }
    this.#changed.clear();
    return changes;
  }
}

function sameCounts(a: ChannelEntry, b: ChannelEntry): boolean {
  return a.clientAmount === b.clientAmount && a.userAmount === b.userAmount && a.members === b.members && a.mode === b.mode;
}
