/**
 * The root's view of the channel index, pure logic: each shard's channel entries, held under
 * the shard's lease (renewed by each of its reports): a shard that stops reporting has its
 * entries dropped when its lease lapses. A full report replaces what the root held of the
 * shard. The dashboards' list merges the shards: a channel listed by two shards (it moved when
 * PRESENCE_INDEX_SHARDS changed, and its old shard's lease on it has not lapsed yet) shows once,
 * as its latest report. `take` hands out what changed for the dashboards; the service stores
 * the rows `apply` and `expire` name.
 */
import type { ChannelEntry, ShardReport } from "../protocol/index.ts";
import { byMembers } from "../wire/channel-order.ts";
import type { TableChanges } from "./table.ts";

/** A shard as the root holds it: its entries by channel, and when its lease lapses. */
type HeldShard = { expiresAt: number; entries: Map<string, ChannelEntry> };

/** What a report changed, for storage: entries to write, channels to delete. */
export type ShardRows = { put: ChannelEntry[]; drop: string[] };

/** What `apply` answers: the rows to store, and whether to ask the shard for its whole table. */
export type ShardApplied = ShardRows & { askFull: boolean };

/** Every shard's entries at the root. */
export class ShardBook {
  readonly #shards = new Map<string, HeldShard>();
  /** Channels whose merged entry may have changed since the last `take`. */
  readonly #changed = new Set<string>();

  /** What storage held (after a restart): each shard's lease and entries; lapsed ones go with the next `expire`. */
  restore(shard: string, expiresAt: number, entries: Iterable<ChannelEntry>): void {
    this.#shards.set(shard, { expiresAt, entries: new Map([...entries].map((entry) => [entry.channel, entry])) });
  }

  /**
   * A shard's report: renews its lease, applies its entries and removals (a full one drops what
   * it does not list). `askFull` when the root did not hold the shard and the report is not full:
   * it is applied all the same, and the shard's whole table follows.
   */
  apply(report: ShardReport, now: number, leaseMs: number): ShardApplied {
    let held = this.#shards.get(report.shard);
    const askFull = !report.full && held === undefined;
    if (!held) this.#shards.set(report.shard, (held = { expiresAt: 0, entries: new Map() }));
    held.expiresAt = now + leaseMs;
    const drop: string[] = [];
    if (report.full) {
      const listed = new Set(report.channels.map((entry) => entry.channel));
      for (const name of held.entries.keys()) if (!listed.has(name)) drop.push(name);
    }
    for (const name of report.removed) if (held.entries.has(name)) drop.push(name);
    for (const name of drop) {
      held.entries.delete(name);
      this.#changed.add(name);
    }
    for (const entry of report.channels) {
      held.entries.set(entry.channel, entry);
      this.#changed.add(entry.channel);
    }
    return { put: report.channels, drop, askFull };
  }

  /** Drops the shards whose lease lapsed at `now`, with their entries; returns them by shard. */
  expire(now: number): Map<string, string[]> {
    const gone = new Map<string, string[]>();
    for (const [shard, held] of this.#shards) {
      if (held.expiresAt > now) continue;
      this.#shards.delete(shard);
      const names = [...held.entries.keys()];
      for (const name of names) this.#changed.add(name);
      gone.set(shard, names);
    }
    return gone;
  }

  /** When the next shard's lease lapses, or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const { expiresAt } of this.#shards.values()) if (next === null || expiresAt < next) next = expiresAt;
    return next;
  }

  /** Whether the root holds the shard (its lease has not lapsed). */
  holds(shard: string): boolean {
    return this.#shards.has(shard);
  }

  /** Every channel, once (its latest report), most members first. */
  all(): ChannelEntry[] {
    const merged = new Map<string, ChannelEntry>();
    for (const held of this.#shards.values()) for (const entry of held.entries.values()) keepLatest(merged, entry);
    return [...merged.values()].sort(byMembers);
  }

  /** The changes since the last call (null: none), as dashboards hear them. */
  take(): TableChanges | null {
    if (this.#changed.size === 0) return null;
    const changes: TableChanges = { channels: [], removed: [] };
    for (const name of this.#changed) {
      const merged = new Map<string, ChannelEntry>();
      for (const held of this.#shards.values()) {
        const entry = held.entries.get(name);
        if (entry) keepLatest(merged, entry);
      }
      const entry = merged.get(name);
      if (entry) changes.channels.push(entry);
      else changes.removed.push(name);
    }
    this.#changed.clear();
    return changes;
  }
}

function keepLatest(merged: Map<string, ChannelEntry>, entry: ChannelEntry): void {
  const other = merged.get(entry.channel);
  if (!other || other.updatedAt < entry.updatedAt) merged.set(entry.channel, entry);
}
