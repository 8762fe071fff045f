/**
 * What one of a channel's shards (`main/CHANNEL~k`, k ≥ 1) tells its coordinator
 * (`main/CHANNEL`): what changed for its clients, in order, at most one report in flight, and an
 * empty report every third of the lease at rest, so a shard that dies is known dead when its
 * lease lapses (`ShardClients`, shard-clients.ts, takes them). Its first report after a start is
 * full (every client it has), and so is the next one when the coordinator asks (it did not know
 * the shard: it restarted, or the lease had lapsed). A report that fails goes again, ahead of
 * what came since: each change means the same when heard twice (a second `drop`, `leave` or
 * `end` of a client is stale at the coordinator, a second `connect` changes nothing), so nothing
 * is lost and nothing counted twice.
 */
import type { ChannelShardReport, JsonValue, ShardClientChange } from "../protocol/index.ts";
import { CHANNEL_PARTY } from "../wire/parties.ts";
import type { ClientListener } from "./client-book.ts";
import type { Outbox } from "./effects.ts";
import type { PresenceReads } from "./presence-reads.ts";
import type { TickHook } from "./tick-hooks.ts";

/** What the reporter needs from its shard. */
export type ShardReporterOptions = {
  /** The coordinator's room: the channel's name. */
  channel: string;
  /** This shard's number (≥ 1). */
  shard: number;
  leaseMs: number;
  out: Outbox;
  /** A `connect` for every member client the shard has now, for a full report. */
  live: () => ShardClientChange[];
};

/** A shard's reports to its coordinator; its presence state tells it each client change. */
export class ShardReporter implements ClientListener {
  readonly #options: ShardReporterOptions;
  /** Changes not sent yet, in order. */
  #queued: ShardClientChange[] = [];
  /** Whether the next report lists every client (after a start, or asked by the coordinator). */
  #full = true;
  /** The report on its way: its call's ticket, and what it carried. */
  #inFlight: { ticket: number; changes: ShardClientChange[]; full: boolean } | null = null;
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(options: ShardReporterOptions) {
    this.#options = options;
  }

  /** A member's client joined here, or came back. */
  connect(connectionId: string, userId: string, clientType: string | undefined, data: JsonValue): void {
    this.#queue(clientType === undefined ? { op: "connect", connectionId, userId, data } : { op: "connect", connectionId, userId, clientType, data });
  }

  /** A client's user changed its data. */
  update(connectionId: string, data: JsonValue): void {
    this.#queue({ op: "update", connectionId, data });
  }

  /** A client was lost without a leave (closed, silent): grace runs at the coordinator. */
  drop(connectionId: string, lastSeen: number): void {
    this.#queue({ op: "drop", connectionId, lastSeen });
  }

  /** A client left. */
  leave(connectionId: string): void {
    this.#queue({ op: "leave", connectionId });
  }

  /** A client is gone without grace (kicked, replaced, an HTTP client whose time ran out). */
  end(connectionId: string, lastSeen: number): void {
    this.#queue({ op: "end", connectionId, lastSeen });
  }

  /** Whether a report waits to go (changes, or a full report). */
  get pending(): boolean {
    return this.#full || this.#queued.length > 0;
  }

  /**
   * When the reporter next has work: now while a report waits (and none is on its way: its answer
   * asks for a tick), else the next renewal, which stays due while a report is on its way, so a
   * room that sleeps in between still renews.
   */
  nextDeadline(): number {
    return this.pending && !this.#inFlight ? 0 : this.#sentAt + this.#options.leaseMs / 3;
  }

  /** Sends what waits (or a renewal when one is due), one report at a time, when the coordinator can be reached. */
  flush(now: number, reachable: boolean): void {
    if (this.#inFlight || !reachable) return;
    if (!this.pending && now < this.#sentAt + this.#options.leaseMs / 3) return;
    const full = this.#full;
    // A full report: the changes first (a leave stays a leave), then every client there is.
    const changes = full ? [...this.#queued, ...this.#options.live()] : this.#queued;
    this.#queued = [];
    this.#full = false;
    this.#sentAt = now;
    const args: ChannelShardReport = { shard: this.#options.shard, full, changes };
    this.#inFlight = { ticket: this.#options.out.call({ party: CHANNEL_PARTY, room: this.#options.channel, name: "shard-report", args }), changes, full };
  }

  /** The next report lists every client, and its answer brings a copy of the channel (the shard's mirror missed a diff). */
  requestFull(): void {
    this.#full = true;
    this.#options.out.tick();
  }

  /**
   * The coordinator answered the report of `ticket` (`full`: it asks for every client next), or
   * the call failed: the report goes again, ahead of what came since. Returns the answer when
   * the ticket was this reporter's and the call succeeded.
   */
  replied<Reply extends { full: boolean }>(ticket: number, reply: Reply | null): Reply | null {
    if (this.#inFlight?.ticket !== ticket) return null;
    const sent = this.#inFlight;
    this.#inFlight = null;
    if (reply === null) {
      this.#queued = [...sent.changes, ...this.#queued];
      this.#full ||= sent.full;
    } else if (reply.full) {
      this.#full = true;
    }
    if (this.pending) this.#options.out.tick();
    return reply;
  }

  #queue(change: ShardClientChange): void {
    this.#queued.push(change);
    this.#options.out.tick();
  }
}

/** A `connect` for every live member client a presence state holds (a shard's full report). */
export function liveClients(presence: PresenceReads): ShardClientChange[] {
  const changes: ShardClientChange[] = [];
  for (const member of presence.members()) {
    for (const { connectionId, clientType, live } of presence.clientsOf(member.id)) {
      if (!live) continue;
      changes.push(clientType === undefined ? { op: "connect", connectionId, userId: member.id, data: member.data } : { op: "connect", connectionId, userId: member.id, clientType, data: member.data });
    }
  }
  return changes;
}

/** A shard's tick: what changed goes to the coordinator once the tick is out, and a renewal when due. */
export function shardHook(reporter: ShardReporter): TickHook {
  return {
    published: ({ now, reachable }) => reporter.flush(now, reachable),
    nextDeadline: () => reporter.nextDeadline(),
  };
}
