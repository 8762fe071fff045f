/**
 * What an index shard tells the root, pure logic: the channel entries that changed and the
 * channels dropped since the root last answered, at most once per `intervalMs` while
 * something changed, and a renewal (possibly empty) every third of the lease at rest, so the
 * root drops the shard's entries when the shard dies. The first report after the shard starts
 * is its whole table, and so is the next one whenever the root asks for it (it did not hold
 * the shard) or a full report failed. One report at a time; a failed one's changes wait again,
 * behind anything newer (entries are states, not deltas: sending one twice is harmless).
 *
 * How it is driven: the shard (or a simulation, with a virtual clock) hands it the table's
 * changes with `note`, asks `nextDeadline()` when to wake, and calls `flush(now)` then (and
 * after any `note`); `flush` sends through the `send` function it was given and resolves when
 * the answer came. `table` reads the shard's whole table for a full report.
 */
import type { ChannelEntry, ShardReport, ShardReportReply } from "../protocol/index.ts";
import type { TableChanges } from "./table.ts";

/** What the root may take from all the shards together, a second: the forwarding interval grows with the shards past 50. */
export const ROOT_REPORTS_PER_SECOND = 50;

/** The interval between one shard's reports to the root with `shards` shards: 1 s, or longer so that the root hears at most ROOT_REPORTS_PER_SECOND a second. */
export function forwardIntervalMs(shards: number): number {
  return Math.max(1000, Math.ceil((shards * 1000) / ROOT_REPORTS_PER_SECOND));
}

/** What the forwarder needs from its shard. */
export type ShardForwarderOptions = {
  /** The shard's room name (`s0`…). */
  shard: string;
  leaseMs: number;
  /** Sends a report to the root; rejects when it failed. */
  send: (report: ShardReport) => Promise<ShardReportReply>;
  /** The shard's whole table, for a full report. */
  table: () => ChannelEntry[];
  /** Fewest milliseconds between two reports (default 1000). */
  intervalMs?: number;
};

/** The shard's reports to the root. */
export class ShardForwarder {
  readonly #options: ShardForwarderOptions;
  readonly #intervalMs: number;
  /** The next report is the whole table. */
  #full = true;
  /** Channels changed since the last report the root answered: the entry, or null when dropped. */
  #changed = new Map<string, ChannelEntry | null>();
  #sentAt = Number.NEGATIVE_INFINITY;
  #inFlight = false;

  constructor(options: ShardForwarderOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /** The table's changes (from `ChannelTable.take`). */
  note(changes: TableChanges): void {
    for (const entry of changes.channels) this.#changed.set(entry.channel, entry);
    for (const name of changes.removed) this.#changed.set(name, null);
  }

  /** Whether something waits to be sent (a full report, or changes). */
  get pending(): boolean {
    return this.#full || this.#changed.size > 0;
  }

  /** When the next report is due: after the interval when something waits, else the renewal; null while one is on its way. */
  nextDeadline(): number | null {
    if (this.#inFlight) return null;
    if (this.pending) return Math.max(0, this.#sentAt + this.#intervalMs);
    return this.#sentAt + this.#options.leaseMs / 3;
  }

  /** Sends the report that is due at `now`, if any and none is on its way; resolves when the root answered (or the call failed). */
  async flush(now: number): Promise<void> {
    const due = this.nextDeadline();
    if (due === null || now < due) return;
    const full = this.#full;
    const changed = this.#changed;
    this.#full = false;
    this.#changed = new Map();
    this.#sentAt = now;
    this.#inFlight = true;
    const report: ShardReport = full
      ? { shard: this.#options.shard, full: true, channels: this.#options.table(), removed: [] }
      : { shard: this.#options.shard, full: false, channels: [...changed.values()].filter((entry) => entry !== null), removed: [...changed].filter(([, entry]) => entry === null).map(([name]) => name) };
    try {
      const reply = await this.#options.send(report);
      if (reply.full) this.#full = true;
    } catch {
      // Failed: sent again, with what changed meanwhile taking precedence.
      if (full) this.#full = true;
      for (const [name, entry] of changed) if (!this.#changed.has(name)) this.#changed.set(name, entry);
    } finally {
      this.#inFlight = false;
    }
  }
}
