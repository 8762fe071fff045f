/**
 * What a channel room tells the channel index (its shard, `index/sN` by a hash of the channel's
 * name over PRESENCE_INDEX_SHARDS, server/parts.ts): its counts, at most once per `intervalMs`
 * while they change (the first change after a quiet spell goes at once), again every third
 * of the lease while the channel is active (so a room that dies drops out when the lease
 * lapses), and once `active: false` when its last online member and client are gone. One
 * request at a time; what cannot be sent yet (no parties in an alarm, a failed request) waits
 * and is replaced by anything newer.
 *
 * Each report carries the room's cumulative counters (for GET /metrics) less `base`: what the
 * index already folded into its retired total when the room last reported `active: false`,
 * or, after a silence of LAPSED_KEEP_MS, what it last heard (its lease lapsed and the index
 * retired it), and `gen`, how many times that happened (index/metrics.ts). They are kept in the
 * room's meta row (`IndexMemory`), so a restart counts nothing twice. A room whose counters
 * change reports them while inactive too, but not at once: such a report (the index holds no
 * entry for the room, only its counters moved, typically its `starts` as it wakes) waits an
 * interval, so the join that woke the room carries them in its own report instead of following
 * a report of its own an interval later.
 */
import type { ChannelMode, IndexReport, RoomCounters } from "../protocol/index.ts";
import { isZero, LAPSED_KEEP_MS, subtractCounters, zeroCounters } from "../server/counters.ts";
import { indexShardOf } from "../server/parts.ts";
import { INDEX_PARTY } from "../wire/parties.ts";
import { renewalSlack } from "./directory-reporter.ts";
import type { Outbox } from "./effects.ts";

/** What the reporter needs from its room. */
export type IndexReporterOptions = {
  channel: string;
  leaseMs: number;
  /** The index shards channels are hashed over (PRESENCE_INDEX_SHARDS): the report goes to the channel's (default 1: `s0`). */
  shards?: number;
  out: Outbox;
  /** Fewest milliseconds between two reports (default 1000). */
  intervalMs?: number;
};

/** The channel's numbers at the end of a tick, and its cumulative counters. */
export type IndexSnapshot = { clientAmount: number; userAmount: number; members: number; mode: ChannelMode; httpClients?: number; counters?: RoomCounters };

/** What the reporter keeps in the room's meta row: the counters the index retired and how many times, and the last it acknowledged (and when). */
export type IndexMemory = { base: RoomCounters; gen?: number; acked?: { counters: RoomCounters; at: number } };

/** A report, with the room's counters as they are (less `base` only when it goes: `base` may move meanwhile). */
type Outgoing = { active: boolean; entry: IndexReport["entry"]; httpClients: number; counters: RoomCounters };

/** A report on its way: its call's ticket, and the generation it went with. */
type InFlight = Outgoing & { ticket: number; gen: number };

/**
 * How stale the acknowledgement kept in the meta row may grow before an answer alone writes the
 * row (it is written with every change anyway): it only decides whether a room back after
 * LAPSED_KEEP_MS of silence was retired, so an hour of 7 days costs little, and a room whose
 * counts change every second does not add a write a second.
 */
const ACK_WRITE_MS = 3600_000;

/** The channel room's reports to the index. */
export class IndexReporter {
  readonly #options: IndexReporterOptions;
  readonly #intervalMs: number;
  /** What the index was last told (null: nothing yet in this room's life). */
  #sent: string | null = null;
  #sentActive = false;
  #sentAt = Number.NEGATIVE_INFINITY;
  #pending: Outgoing | null = null;
  /** When a waiting report of counters alone (the index holds no entry for the room) may go. */
  #countersDueAt = Number.NEGATIVE_INFINITY;
  /** The report on its way, by its call's ticket. */
  #inFlight: InFlight | null = null;
  /** The counters the index has already retired: reports carry what the room counted beyond them. */
  #base: RoomCounters = zeroCounters();
  /** How many times the index retired this room's counters. */
  #gen = 0;
  /** The counters of the last report the index acknowledged, and when. */
  #acked: { counters: RoomCounters; at: number } | undefined;
  /** When the acknowledgement in the meta row was made (undefined: none is there). */
  #keptAckAt: number | undefined;
  /** Whether the parties could be reached when last asked. */
  #reachable = true;

  constructor(options: IndexReporterOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /**
   * What the meta row held (after a restart). A room silent for LAPSED_KEEP_MS since the index
   * last acknowledged a report is taken as retired with those counters: the index keeps a
   * lapsed channel apart at least that long after its last report, so it either still does (and
   * the new generation tells it to retire them) or has retired them.
   */
  restore(memory: IndexMemory | undefined, now: number): void {
    if (!memory) return;
    this.#base = memory.base;
    this.#gen = memory.gen ?? 0;
    this.#acked = memory.acked;
    this.#keptAckAt = memory.acked?.at;
    if (memory.acked && now - memory.acked.at >= LAPSED_KEEP_MS) {
      this.#base = memory.acked.counters;
      this.#gen++;
    }
  }

  /** What to keep in the meta row (the caller writes it). */
  memory(): IndexMemory {
    this.#keptAckAt = this.#acked?.at;
    return this.#acked ? { base: this.#base, gen: this.#gen, acked: this.#acked } : { base: this.#base, gen: this.#gen };
  }

  /** The tick's numbers: queued when they differ from what was sent, or a renewal is due. */
  note(snapshot: IndexSnapshot, now: number): void {
    const active = snapshot.clientAmount > 0 || snapshot.userAmount > 0;
    // A room that does not know its name yet (it always does after its start) has nothing to report.
    if (this.#options.channel === "") return;
    const { httpClients, counters: total, ...entry } = snapshot;
    const counters = total ?? this.#base;
    // Inactive, and nothing counted the index has not retired: a room nobody uses stays out of the index.
    if (!active && this.#pending === null && this.#inFlight === null && this.#idle(counters)) return;
    const report: Outgoing = { active, entry: { channel: this.#options.channel, ...entry, updatedAt: now }, httpClients: httpClients ?? 0, counters };
    const told = this.#pending ? keyOf(this.#pending) : this.#sent;
    // Due a sixth of the lease early when the room is awake anyway (see DirectoryReporter.renewalDue).
    const renewal = active && this.#pending === null && now >= this.#sentAt + this.#options.leaseMs / 3 - renewalSlack(this.#options.leaseMs);
    if (keyOf(report) === told && !renewal) return;
    // Counters alone, for a room the index does not list: held an interval, for a join to carry them.
    if (!active && !this.#sentActive && (this.#pending === null || this.#pending.active)) this.#countersDueAt = now + this.#intervalMs;
    this.#pending = report;
  }

  /** When the waiting report may go: an interval after the last, and a report of counters alone an interval after it was queued. */
  #dueAt(pending: Outgoing): number {
    const after = this.#sentAt + this.#intervalMs;
    return pending.active || this.#sentActive ? after : Math.max(after, this.#countersDueAt);
  }

  /** Whether an inactive room has nothing to tell: the index holds no entry for it and has retired all it counted. */
  #idle(counters: RoomCounters): boolean {
    return !this.#sentActive && isZero(subtractCounters(counters, this.#base));
  }

  /**
   * When the reporter next has work: a waiting report (when due: #dueAt), or the next
   * renewal. Not while the index is unreachable (woken by an alarm): the room ticks again once
   * a request or message brings the parties.
   */
  nextDeadline(): number | null {
    if (this.#pending) return this.#reachable ? Math.max(0, this.#dueAt(this.#pending)) : null;
    return this.#sentActive ? this.#sentAt + this.#options.leaseMs / 3 : null;
  }

  /** Whether a report waits. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /** Sends the waiting report if the interval has passed and the index is reachable. */
  flush(now: number, reachable: boolean): void {
    this.#reachable = reachable;
    const pending = this.#pending;
    if (!pending || this.#inFlight || now < this.#dueAt(pending) || !reachable) return;
    this.#pending = null;
    // An inactive report queued before the index retired these counters (the answer came meanwhile): nothing left to tell.
    if (!pending.active && this.#idle(pending.counters)) return;
    this.#sentAt = now;
    const report: IndexReport = { active: pending.active, entry: pending.entry, httpClients: pending.httpClients, counters: subtractCounters(pending.counters, this.#base), gen: this.#gen };
    this.#inFlight = { ticket: this.#options.out.call({ party: INDEX_PARTY, room: indexShardOf(this.#options.channel, this.#options.shards ?? 1), name: "report", args: report }), gen: this.#gen, ...pending };
  }

  /**
   * The index answered the report of `ticket`, or the call failed (the report waits again,
   * behind anything newer). True when the meta row is to be written: the index retired the
   * counters, or the acknowledgement it keeps is older than ACK_WRITE_MS.
   */
  replied(ticket: number, ok: boolean, now: number): boolean {
    if (this.#inFlight?.ticket !== ticket) return false;
    const { ticket: _, gen, ...sent } = this.#inFlight;
    this.#inFlight = null;
    if (ok) {
      this.#sent = keyOf(sent);
      this.#sentActive = sent.active;
      this.#acked = { counters: sent.counters, at: now };
      // The index retired the channel with these counters: later reports count from them, as a new generation.
      if (!sent.active && gen === this.#gen) {
        this.#base = sent.counters;
        this.#gen++;
        return true;
      }
      return this.#keptAckAt === undefined || now - this.#keptAckAt >= ACK_WRITE_MS;
    }
    this.#pending ??= sent;
    this.#options.out.tick();
    return false;
  }
}

function keyOf(report: Outgoing): string {
  const { clientAmount, userAmount, members, mode } = report.entry;
  return JSON.stringify([report.active, clientAmount, userAmount, members, mode, report.httpClients, report.counters]);
}
