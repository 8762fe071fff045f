/**
 * A channel room's part in a channel spread over several objects (docs/architecture.md, "One
 * channel over many objects"). The room named by the channel is its coordinator: it holds the
 * clients its shards report (`ShardClients`), answers a full report with a copy of the channel,
 * and sends each shard every tick's diff (`shard-diff`). A room named `CHANNEL~k` is shard k: its
 * presence tells its reporter each client change (`ShardReporter`), and its sockets are shown
 * its mirror of the channel (`ChannelMirror`), kept by the coordinator's diffs, with a fresh copy
 * asked for when one is missed. Pure: the core applies what it returns.
 */
import type { ChannelMode, ChannelShardReply, ChannelShardReport, Kick, KickedClient, MirrorCopy, MirrorDiff } from "../protocol/index.ts";
import { parseShardRoom, shardRoom } from "../server/channel-shards.ts";
import type { Config } from "../server/config.ts";
import { CHANNEL_PARTY } from "../wire/parties.ts";
import type { Outbox } from "./effects.ts";
import { ChannelMirror, mirrorDiffOf, tickDiffOf } from "./mirror.ts";
import type { PresenceState, TickDiff } from "./presence.ts";
import type { LiveClient } from "./presence.ts";
import { type ShardClientRow, ShardClients } from "./shard-clients.ts";
import { liveClients, ShardReporter, shardHook } from "./shard-reporter.ts";
import type { TickHook } from "./tick-hooks.ts";

/** What the coordinator stamps its diffs and copies with: its run (its count of starts), the mode after the tick. */
export type Stamping = { epoch: () => number; mode: () => ChannelMode };

/** A channel room as its channel's coordinator, or as one of its shards. */
export class ChannelSharding {
  /** A shard's reports to its coordinator (null in the channel's own room). */
  readonly reporter: ShardReporter | null;
  /** A shard's mirror of the channel, which its sockets are shown (null in the channel's own room). */
  readonly mirror: ChannelMirror | null;
  readonly #channel: string;
  readonly #out: Outbox;
  readonly #leaseMs: number;
  readonly #members: () => PresenceState;
  #clients: ShardClients | null = null;
  /** The coordinator's last diff number sent to its shards. */
  #seq = 0;
  /** Kicks passed on to the shards, by the ticket of the call they answer: the shards not back yet, and the clients closed so far. */
  readonly #kicks = new Map<number, { waiting: Set<number>; clients: KickedClient[] }>();
  /** The answer ticket of each kick passed on, by the ticket of its call to a shard. */
  readonly #kickCalls = new Map<number, number>();

  /** `members`: the room's presence state (made after this, since it tells a shard's reporter of its changes). */
  constructor(name: string, config: Config, out: Outbox, members: () => PresenceState) {
    const place = parseShardRoom(name);
    const shard = place !== null && place.shard > 0 ? place : null;
    this.#channel = shard?.channel ?? name;
    this.#out = out;
    this.#leaseMs = config.leaseMs;
    this.#members = members;
    this.reporter = shard ? new ShardReporter({ channel: shard.channel, shard: shard.shard, leaseMs: config.leaseMs, out, live: () => liveClients(members()) }) : null;
    this.mirror = shard ? new ChannelMirror() : null;
  }

  /** The clients held for the shards, as their coordinator (made on first use). */
  get #shards(): ShardClients {
    return (this.#clients ??= new ShardClients(this.#members(), this.#leaseMs));
  }

  /** The coordinator takes a shard's report; a full one is answered with a copy of the channel to start the shard's mirror from. */
  report(report: ChannelShardReport, now: number, stamping: Stamping): ChannelShardReply {
    const reply = this.#shards.apply(report, now);
    if (!report.full) return reply;
    const members = this.#members();
    const { members: list, counts } = members.committed();
    const copy: MirrorCopy = { epoch: stamping.epoch(), seq: this.#seq, mode: stamping.mode(), size: members.size, ...counts, members: list };
    return { ...reply, copy };
  }

  /** A shard hears its coordinator's diff: the tick to show its sockets, or null when one was missed (a copy is asked for). */
  heard(diff: MirrorDiff): TickDiff | null {
    if (!this.mirror || !this.reporter) return null;
    if (this.mirror.apply(diff)) return tickDiffOf(diff);
    this.reporter.requestFull();
    return null;
  }

  /**
   * A call came back: a shard's answer to a kick passed on (the kick's answer goes once every
   * shard's is back; a shard that cannot be reached closes nothing, and its clients go when its
   * lease lapses), or a shard's report's answer, with the copy it carried, if any, taken into
   * the mirror. True when the mirror was replaced.
   */
  replied(ticket: number, result: { reply: unknown } | { error: string }): boolean {
    const kick = this.#kickCalls.get(ticket);
    if (kick !== undefined) {
      this.#kickCalls.delete(ticket);
      const pending = this.#kicks.get(kick)!;
      pending.waiting.delete(ticket);
      if ("reply" in result) pending.clients.push(...(result.reply as { clients: KickedClient[] }).clients);
      if (pending.waiting.size === 0) {
        this.#kicks.delete(kick);
        this.#out.answer(kick, { clients: pending.clients });
      }
      return false;
    }
    const reply = this.reporter?.replied(ticket, "reply" in result ? (result.reply as ChannelShardReply) : null);
    if (!reply?.copy || !this.mirror) return false;
    this.mirror.reset(reply.copy);
    return true;
  }

  /** The channel's objects and the clients each counts, for `?stats`: this room's own are what the shards' do not account for. */
  objects(clientAmount: number): Array<{ shard: number; clientAmount: number }> {
    const shards = (this.#clients?.shards() ?? []).map(({ shard, clients }) => ({ shard, clientAmount: clients }));
    const elsewhere = shards.reduce((sum, entry) => sum + entry.clientAmount, 0);
    return [{ shard: 0, clientAmount: Math.max(0, clientAmount - elsewhere) }, ...shards];
  }

  /** Whether a connection id is a client this coordinator holds for one of its shards (the shard closes it, not this room). */
  heldForShard(connectionId: string): boolean {
    return this.#clients?.holds(connectionId) ?? false;
  }

  /**
   * The coordinator disconnects a user: `own` are the clients it closed itself; the kick goes on
   * to every shard, and the answer (`ticket`, from `answerTicket`) waits for theirs. Null when
   * there is no shard: answer at once.
   */
  passKick(kick: Kick, own: KickedClient[], answerTicket: () => number): { ticket: number } | null {
    const shards = this.#clients?.numbers() ?? [];
    if (shards.length === 0) return null;
    const ticket = answerTicket();
    const waiting = new Set<number>();
    for (const shard of shards) {
      const call = this.#out.call({ party: CHANNEL_PARTY, room: shardRoom(this.#channel, shard), name: "kick", args: { userId: kick.userId, reason: kick.reason } });
      waiting.add(call);
      this.#kickCalls.set(call, ticket);
    }
    this.#kicks.set(ticket, { waiting, clients: [...own] });
    return { ticket };
  }

  /** A restart: the shards' live clients from storage, as live clients for the presence state (none in a shard). */
  restore(rows: readonly ShardClientRow[], now: number): LiveClient[] {
    return this.reporter || rows.length === 0 ? [] : this.#shards.restore(rows, now);
  }

  /** The coordinator's rows of its shards' clients to write with the tick. */
  takeRows(): { put: Array<readonly [string, unknown]>; delete: string[] } {
    return this.#clients?.takeRows() ?? { put: [], delete: [] };
  }

  /** The coordinator drops into grace the clients of shards whose lease lapsed. */
  lapse(now: number): void {
    this.#clients?.lapse(now);
  }

  /** When the coordinator next has a lease to check. */
  nextDeadline(): number | null {
    return this.#clients?.nextDeadline() ?? null;
  }

  /** What hangs off the tick: a shard reports its clients; the coordinator sends each shard the tick's diff. */
  hooks(own: TickHook[], stamping: Stamping): TickHook[] {
    if (this.reporter) return [shardHook(this.reporter), ...own];
    return [...own, this.#diffsHook(stamping)];
  }

  /** Each tick's diff to every shard that reported, one call each. */
  #diffsHook(stamping: Stamping): TickHook {
    return {
      published: ({ diff }) => {
        const shards = this.#clients?.numbers() ?? [];
        if (!diff || shards.length === 0) return;
        const args = mirrorDiffOf(diff, { epoch: stamping.epoch(), seq: ++this.#seq, mode: stamping.mode(), size: this.#members().size });
        for (const shard of shards) this.#out.call({ party: CHANNEL_PARTY, room: shardRoom(this.#channel, shard), name: "shard-diff", args });
      },
      nextDeadline: () => null,
    };
  }
}
