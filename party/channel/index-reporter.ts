/**
 * What a channel room tells the channel index: its counts, at most once per `intervalMs`
 * while they change (the first change after a quiet spell goes at once), again every third
 * of the lease while the channel is active (so a room that dies drops out when the lease
 * lapses), and once `active: false` when its last online member and client are gone. One
 * request at a time; what cannot be sent yet (no parties in an alarm, a failed request) waits
 * and is replaced by anything newer.
 */
import type { ChannelMode, IndexReport } from "../protocol/index.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";
import { renewalSlack } from "./directory-reporter.ts";
import type { Outbox } from "./effects.ts";

/** What the reporter needs from its room. */
export type IndexReporterOptions = {
  channel: string;
  leaseMs: number;
  out: Outbox;
  /** Fewest milliseconds between two reports (default 1000). */
  intervalMs?: number;
};

/** The channel's numbers at the end of a tick. */
export type IndexSnapshot = { clientAmount: number; userAmount: number; members: number; mode: ChannelMode };

/** The channel room's reports to the index. */
export class IndexReporter {
  readonly #options: IndexReporterOptions;
  readonly #intervalMs: number;
  /** What the index was last told (null: nothing yet in this room's life). */
  #sent: string | null = null;
  #sentActive = false;
  #sentAt = Number.NEGATIVE_INFINITY;
  #pending: IndexReport | null = null;
  /** The report on its way, by its call's ticket. */
  #inFlight: { ticket: number; report: IndexReport } | null = null;
  /** Whether the parties could be reached when last asked. */
  #reachable = true;

  constructor(options: IndexReporterOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /** The tick's numbers: queued when they differ from what was sent, or a renewal is due. */
  note(snapshot: IndexSnapshot, now: number): void {
    const active = snapshot.clientAmount > 0 || snapshot.userAmount > 0;
    // A room that does not know its name yet (it always does after its start) has nothing to report.
    if (this.#options.channel === "") return;
    // Never told anything and nothing to tell: a room nobody uses stays out of the index.
    if (this.#sent === null && this.#pending === null && !active) return;
    const report: IndexReport = { active, entry: { channel: this.#options.channel, ...snapshot, updatedAt: now } };
    const told = this.#pending ? keyOf(this.#pending) : this.#sent;
    // Due a sixth of the lease early when the room is awake anyway (see DirectoryReporter.renewalDue).
    const renewal = active && this.#pending === null && now >= this.#sentAt + this.#options.leaseMs / 3 - renewalSlack(this.#options.leaseMs);
    if (keyOf(report) === told && !renewal) return;
    this.#pending = report;
  }

  /**
   * When the reporter next has work: a waiting report (after the interval), or the next
   * renewal. Not while the index is unreachable (woken by an alarm): the room ticks again once
   * a request or message brings the parties.
   */
  nextDeadline(): number | null {
    if (this.#pending) return this.#reachable ? Math.max(0, this.#sentAt + this.#intervalMs) : null;
    return this.#sentActive ? this.#sentAt + this.#options.leaseMs / 3 : null;
  }

  /** Whether a report waits. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /** Sends the waiting report if the interval has passed and the index is reachable. */
  flush(now: number, reachable: boolean): void {
    this.#reachable = reachable;
    const report = this.#pending;
    if (!report || this.#inFlight || now < this.#sentAt + this.#intervalMs || !reachable) return;
    this.#pending = null;
    this.#sentAt = now;
    this.#inFlight = { ticket: this.#options.out.call({ party: INDEX_PARTY, room: INDEX_ROOM, name: "report", args: report }), report };
  }

  /** The index answered the report of `ticket`, or the call failed (the report waits again, behind anything newer). */
  replied(ticket: number, ok: boolean): void {
    if (this.#inFlight?.ticket !== ticket) return;
    const { report } = this.#inFlight;
    this.#inFlight = null;
    if (ok) {
      this.#sent = keyOf(report);
      this.#sentActive = report.active;
      return;
    }
    this.#pending ??= report;
    this.#options.out.tick();
  }
}

function keyOf(report: IndexReport): string {
  const { clientAmount, userAmount, members, mode } = report.entry;
  return JSON.stringify([report.active, clientAmount, userAmount, members, mode]);
}
