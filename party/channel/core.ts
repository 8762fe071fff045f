/**
 * The channel room as a state machine: its inputs are a restart, a connect, a frame, a close,
 * HTTP clients' heartbeats, calls from other parties (and the replies to its own), webhook
 * attempts, and `tick(now)`; its outputs are returned as data (effects.ts): frames, closes,
 * sockets' states, storage rows, calls, webhook batches, answers. It never touches an engine or
 * a clock; the time is a parameter. service.ts applies its effects over the host port. A shard
 * of a sharded channel runs this same core.
 */
import type { Config } from "../server/config.ts";
import { copyCounters } from "../server/counters.ts";
import type { Attempt } from "../server/webhook-outbox.ts";
import type { AcceptedHandshake, ChannelHereNow, ChannelMode, ChannelShardReport, HereNowOptions, MirrorDiff, KickedClient, MembersPage, Push, RoomStats, VersionedStatus, WebhookReport } from "../protocol/index.ts";
import { CloseCode } from "../protocol/index.ts";
import { Admission } from "./admission.ts";
import { Broadcaster, type PreparedDiff } from "./broadcaster.ts";
import { type Channel, closeSocket } from "./channel.ts";
import { Departures } from "./departures.ts";
import { DirectoryReporter } from "./directory-reporter.ts";
import type { Effect } from "./effects.ts";
import { Outbox } from "./effects.ts";
import { Heartbeats } from "./heartbeats.ts";
import { HistoryLog } from "./history.ts";
import { httpConnectionId, HttpClientRows } from "./http-client-rows.ts";
import { Inbox } from "./inbox.ts";
import { IndexReporter, type IndexSnapshot } from "./index-reporter.ts";
import { type LiveClient, PresenceState, type TickDiff } from "./presence.ts";
import { ChannelPushes } from "./pushes.ts";
import { ChannelSharding, type Stamping } from "./sharding.ts";
import { SocketBook, type SocketView } from "./sockets.ts";
import { StatsCounters } from "./stats.ts";
import { type Meta, memberRows, metaRow, type StoredChannel } from "./store.ts";
import { directoryHook, historyHook, indexHook, type Tick, type TickHook, watchersHook, webhookHook } from "./tick-hooks.ts";
import { WatchRegistry } from "./watchers.ts";
import { Watching } from "./watching.ts";
import { WebhookQueue } from "./webhook-queue.ts";

/** When each socket last pinged without waking the room (the engine answered it), or null. */
export type PingedAt = (connectionId: string) => number | null;

/** What a call from another party comes to: its reply now, or a ticket it is answered under later (an `answer` effect). */
export type CallOutcome = { reply: unknown } | { ticket: number };

/** A call the channel takes (protocol/calls.ts, party `main`). */
export type ChannelCall =
  | { name: "count-refusal"; args: { group: "refusedConnections" | "refusedRequests"; reason: string } }
  | { name: "herenow"; args: HereNowOptions }
  | { name: "watched"; args: { users: VersionedStatus[] } }
  | { name: "push"; args: Push }
  | { name: "deliver"; args: Push }
  | { name: "kick"; args: { userId: string; reason: string } }
  | { name: "shard-report"; args: ChannelShardReport }
  | { name: "shard-diff"; args: MirrorDiff };

/** One channel's presence, as a state machine. */
export class ChannelCore {
  readonly #channel: Channel;
  readonly #broadcaster: Broadcaster;
  readonly #pushes: ChannelPushes;
  readonly #watching: Watching;
  readonly #reporter: DirectoryReporter;
  readonly #index: IndexReporter;
  readonly #webhooks: WebhookQueue;
  readonly #departures: Departures;
  readonly #admission: Admission;
  readonly #inbox: Inbox;
  readonly #hooks: TickHook[];
  /** The channel's history (its rows are the tick's; the service reads and sweeps them). */
  readonly history: HistoryLog;
  /** The channel's HTTP clients (members kept alive by heartbeats). */
  readonly heartbeats: Heartbeats;
  readonly #httpClients: HttpClientRows;
  /** The room's part in a channel spread over several objects: its coordinator, or one of its shards. */
  readonly #sharding: ChannelSharding;
  /** How many times this room has started (first load, restarts, wakes after eviction). */
  #starts = 0;
  /** The meta row is to be written with the next tick, diff or not (a room's first start). */
  #metaDue = false;
  /** Interval mode: a tick came before the interval's end, and its changes wait until then (null: none wait). */
  #waitingUntil: number | null = null;
  /** The tick being stored: its diff goes out on `publish`. */
  #storing: { diff: TickDiff | null; prepared: PreparedDiff | null; tick: Tick } | null = null;

  constructor(config: Config, name: string) {
    const out = new Outbox();
    const sharding = (this.#sharding = new ChannelSharding(name, config, out, () => members));
    const members: PresenceState = new PresenceState(config, sharding.reporter);
    const channel: Channel = (this.#channel = { name, config, members, sockets: new SocketBook(config, out), out, stats: new StatsCounters() });
    const watchers = new WatchRegistry();
    // A shard's sockets are shown its mirror of the channel; a room's, its own presence.
    this.#broadcaster = new Broadcaster(channel, watchers, sharding.mirror ?? members);
    this.#pushes = new ChannelPushes(channel);
    this.#reporter = new DirectoryReporter({ enabled: config.directory, parts: config.directoryParts, leaseMs: config.leaseMs, channel: name, out });
    this.#index = new IndexReporter({ channel: name, leaseMs: config.leaseMs, shards: config.indexShards, out });
    this.#webhooks = new WebhookQueue(config.webhook, name, out);
    this.#watching = new Watching(channel, watchers, this.#reporter, this.#broadcaster);
    this.#httpClients = new HttpClientRows(out);
    this.#departures = new Departures(channel, this.#pushes, this.#watching, this.#httpClients);
    this.#admission = new Admission(channel, this.#broadcaster, this.#pushes, this.#departures);
    this.#inbox = new Inbox(channel, this.#broadcaster, this.#pushes, this.#watching, this.#departures);
    this.heartbeats = new Heartbeats(channel, this.#httpClients, this.#departures, this.#pushes);
    this.history = new HistoryLog(config);
    // A shard leaves history, webhooks, the directory and the index to its coordinator, which speaks for the channel.
    const own = sharding.reporter
      ? [watchersHook(this.#watching)]
      : [historyHook(this.history, out), webhookHook(this.#webhooks), directoryHook(this.#reporter, members), indexHook(this.#index, (mode) => this.#indexSnapshot(mode)), watchersHook(this.#watching)];
    this.#hooks = sharding.hooks(own, this.#stamping);
  }

  /** The channel's name. */
  get name(): string {
    return this.#channel.name;
  }

  /** The channel's settings. */
  get config(): Config {
    return this.#channel.config;
  }

  /**
   * Rebuilds the channel from what storage held and the sockets that survived (a restart, or a
   * wake from hibernation). The service runs a tick right after, which settles what came due.
   */
  restore(stored: StoredChannel, sockets: Iterable<SocketView>, now: number): Effect[] {
    const { members, stats, out } = this.#channel;
    const { meta } = stored;
    stats.restore(meta?.stats);
    this.#starts = (meta?.starts ?? 0) + 1;
    this.#index.restore(meta?.index, now);
    const { owners, stale } = this.#channel.sockets.adopt(sockets);
    for (const { id, instance } of stale) closeSocket(this.#channel, id, CloseCode.replaced, "replaced by a newer connection with the same id", instance);
    const live: LiveClient[] = owners.map(({ id, state }) => ({ connectionId: id, userId: state.userId, clientType: state.clientType, lastActive: state.active ?? state.at }));
    for (const row of this.#httpClients.restore(stored.httpClients)) {
      live.push({ connectionId: httpConnectionId(row.clientId), userId: row.userId, clientType: row.clientType, lastActive: row.renewedAt, expiresAt: row.expiresAt });
    }
    live.push(...this.#sharding.restore(stored.shardClients, now));
    members.restore(stored.members, live, now);
    this.#broadcaster.restore(meta?.seq ?? 0, meta?.mode);
    this.history.restore(meta?.history, stored.historyEnds);
    // A room that never stored anything writes its meta row with its first tick (run right after, with the join that woke it).
    if (meta === undefined) this.#metaDue = true;
    else if (this.name) out.write([metaRow(this.#meta())]);
    this.#watching.restore(stored.watches, new Set(owners.map((owner) => owner.id)));
    this.#pushes.restore(stored.pushLog);
    this.#webhooks.restore(stored.webhooks);
    return this.#done(now);
  }

  /** A socket the edge admitted with this handshake; `instance` names it from now on. */
  connect(connectionId: string, instance: string, handshake: AcceptedHandshake, now: number): Effect[] {
    this.#admission.admit(connectionId, instance, handshake, now);
    return this.#done(now);
  }

  /** A frame from a socket. */
  frame(socket: SocketView, frame: string | ArrayBuffer | ArrayBufferView, now: number): Effect[] {
    this.#inbox.receive(socket, frame, now);
    return this.#done(now);
  }

  /** A socket closed or failed. */
  closed(socket: SocketView, now: number): Effect[] {
    this.#departures.closed(socket, now);
    return this.#done(now);
  }

  /** Work on the HTTP clients (`heartbeats`): its answer, with the effects it had (rows first, then the answer may go). */
  httpClients<T>(now: number, work: (heartbeats: Heartbeats) => T): { answer: T; effects: Effect[] } {
    this.heartbeats.settle(now);
    const answer = work(this.heartbeats);
    return { answer, effects: this.#done(now) };
  }

  /** A call from another party. */
  call(call: ChannelCall, now: number): { outcome: CallOutcome; effects: Effect[] } {
    const { members, stats, out } = this.#channel;
    let outcome: CallOutcome;
    switch (call.name) {
      case "count-refusal":
        stats.count(call.args.group, call.args.reason);
        outcome = { reply: {} };
        break;
      case "herenow":
        outcome = { reply: members.hereNow(this.name, call.args) };
        break;
      case "watched":
        this.#watching.heard(call.args.users);
        outcome = { reply: {} };
        break;
      case "push": {
        const ticket = out.ticket();
        this.#pushes.run(call.args, { ticket }, now);
        outcome = { ticket };
        break;
      }
      case "deliver": {
        const ticket = out.ticket();
        this.#pushes.deliver(call.args, ticket, now);
        outcome = { ticket };
        break;
      }
      case "kick": {
        // A coordinator's shards close their own clients: the kick goes on to them, and the answer waits for theirs.
        const clients: KickedClient[] = this.#departures.kick(call.args.userId, call.args.reason, now, (id) => this.#sharding.heldForShard(id));
        outcome = this.#sharding.passKick(call.args, clients, () => out.ticket()) ?? { reply: { clients } };
        break;
      }
      case "shard-report":
        outcome = { reply: this.#sharding.report(call.args, now, this.#stamping) };
        out.tick();
        break;
      case "shard-diff": {
        // Nothing to store here (the coordinator stored it): it goes out at once.
        const diff = this.#sharding.heard(call.args);
        if (diff) this.#broadcaster.prepare(diff, now).send(now);
        outcome = { reply: {} };
        break;
      }
    }
    return { outcome, effects: this.#done(now) };
  }

  /** A call the channel made came back (`reply`) or failed (`error`). */
  replied(ticket: number, result: { reply: unknown } | { error: string }, now: number, reachable: boolean): Effect[] {
    if (this.#sharding.replied(ticket, result)) this.#broadcaster.resync(now);
    const heard = this.#reporter.replied(ticket, result, now, reachable);
    if (heard.length > 0) this.#watching.heard(heard);
    // The index's answer may move what the room counts from (IndexMemory), kept in the meta row.
    if (this.#index.replied(ticket, "reply" in result, now)) this.#channel.out.write([metaRow(this.#meta())]);
    return this.#done(now);
  }

  /** A webhook attempt came back. */
  webhookSettled(n: number, attempt: Attempt, now: number): Effect[] {
    const before = this.#webhooks.stats();
    this.#webhooks.settled(n, attempt, now);
    const after = this.#webhooks.stats();
    const { stats } = this.#channel;
    stats.count("webhookDeliveries", "delivered", after.delivered - before.delivered);
    stats.count("webhookDeliveries", "failed", after.failedAttempts - before.failedAttempts);
    // Resends take dead letters back, so only growth here is a batch that just ran out of attempts.
    stats.count("webhookDeliveries", "deadLettered", after.deadLetters - before.deadLetters);
    return this.#done(now);
  }

  /** The operator puts the dead letters back in the queue: how many, and the effects. */
  resendWebhooks(now: number): { resent: number; effects: Effect[] } {
    const resent = this.#webhooks.resend(now);
    return { resent, effects: this.#done(now) };
  }

  /** The other parties became reachable (PartyKit: a request or message after an alarm woke the room): what waited may go. */
  reachable(now: number): Effect[] {
    this.#reporter.flush(now, true);
    this.#index.flush(now, true);
    return this.#done(now);
  }

  /**
   * A tick, first half: deadlines (HTTP clients past their TTL, idle sockets, expired tokens,
   * pushes, replaced clients' markers), then the diff, numbered, with its rows (members, history,
   * the webhook batch, meta) and a `sync`: storage has all of it before `publish` sends it.
   */
  tick(now: number, pingedAt: PingedAt, reachable: boolean, sendFrom: number | null = null): Effect[] {
    const { members, sockets, stats, out } = this.#channel;
    this.#sharding.lapse(now);
    for (const connectionId of members.lapse(now)) this.#departures.lapsed(connectionId, now);
    this.#httpClients.sweep(now);
    for (const connectionId of members.expire(now, pingedAt)) this.#departures.idle(connectionId, now);
    for (const connectionId of sockets.expired(now)) this.#departures.expired(connectionId, now);
    this.#pushes.expire(now);
    // Changes gather for a whole tick after a diff (in interval mode, an interval), whatever woke
    // the loop: a run that may not publish yet (the alarm's, for a deadline; the tick loop says
    // until when, `sendFrom`) leaves a deadline at the tick's end (nextDeadline).
    const dueAt = sendFrom ?? 0;
    const due = now >= dueAt;
    this.#waitingUntil = due ? null : dueAt;
    // Occupied as clients last heard it (after a restart: as stored, members and webhook batches being written together).
    const wasOccupied = due && this.#broadcaster.committedCounts().userAmount > 0;
    const diff = due ? members.takeDiff() : null;
    // A shard's sockets hear the coordinator's diffs (`shard-diff`), not their own room's.
    const prepared = diff && !this.#sharding.mirror ? this.#broadcaster.prepare(diff, now) : null;
    const tick: Tick = { now, diff, seq: prepared?.seq ?? this.#broadcaster.seq, wasOccupied, mode: this.#broadcaster.mode, reachable };
    // Counted with the tick that announces them, so the meta row below stores them with it.
    for (const event of diff?.events ?? []) stats.count("events", event.action);
    // The shards' clients as the reports left them, stored with the tick that announces them.
    const shardRows = this.#sharding.takeRows();
    if (shardRows.put.length > 0 || shardRows.delete.length > 0) out.write(shardRows.put, shardRows.delete);
    if (diff) {
      const rows = memberRows(diff.upserts, diff.deletes, { rows: [], drops: [] });
      out.write(rows.put, rows.delete);
      for (const hook of this.#hooks) hook.storing?.(tick);
    }
    if (diff || stats.dirty || this.#metaDue) {
      out.write([metaRow(this.#meta())]);
      this.#metaDue = false;
    }
    // Durable, not only written: where the engine confirms writes later, no socket must hear first.
    if (diff) out.sync();
    this.#storing = { diff, prepared, tick };
    return this.#done(now);
  }

  /** The tick being stored has a diff (publish sends it). */
  get diffPending(): boolean {
    return this.#storing?.diff != null;
  }

  /** A tick, second half (its rows are stored): the diff to every socket, then what hangs off the tick. */
  publish(now: number): Effect[] {
    const storing = this.#storing;
    this.#storing = null;
    if (storing) {
      storing.prepared?.send(now);
      for (const hook of this.#hooks) hook.published?.({ ...storing.tick, now });
    }
    return this.#done(now);
  }

  /** The tick's rows could not be stored: its diff does not go out; the snapshots that waited do. */
  abandon(now: number): Effect[] {
    this.#storing?.prepared?.abandon(now);
    this.#storing = null;
    return this.#done(now);
  }

  /** How long a tick gathers changes now (longer in a busy room, an interval in interval mode). */
  tickMs(): number {
    return this.#broadcaster.tickMs();
  }

  /** The earliest time a tick has work to do, or null. */
  nextDeadline(): number | null {
    let next = this.#channel.members.nextDeadline() ?? Infinity;
    for (const at of [this.#waitingUntil, this.#sharding.nextDeadline(), this.#channel.sockets.nextExpiry(), this.#pushes.nextDeadline(), this.#httpClients.nextDeadline(), ...this.#hooks.map((hook) => hook.nextDeadline())]) {
      if (at !== null) next = Math.min(next, at);
    }
    return Number.isFinite(next) ? next : null;
  }

  /** Whether reports wait for the other parties to become reachable. */
  get reportsWaiting(): boolean {
    return this.#reporter.pending || this.#index.pending;
  }

  /** The channel's herenow answer. */
  hereNow(options: HereNowOptions): ChannelHereNow {
    return this.#channel.members.hereNow(this.name, options);
  }

  /** A page of the channel's members in full, online and offline, by userId (`?members`, the admin listing). */
  membersPage(options: { limit: number; cursor?: string | undefined }): MembersPage {
    return this.#channel.members.membersPage(this.name, options);
  }

  /** The channel's counters (`?stats`): `sockets` is what the engine holds open. */
  stats(sockets: number): RoomStats {
    const { members, stats } = this.#channel;
    const counts = members.counts();
    return {
      channel: this.name,
      ...counts,
      shards: this.#sharding.objects(counts.clientAmount),
      members: members.size,
      mode: this.mode,
      sockets,
      httpClients: this.#httpClients.liveCount,
      starts: this.#starts,
      historyEvents: this.history.size,
      webhooks: this.#webhooks.stats(),
      ...stats.counters,
    };
  }

  /** The webhook delivery's stats and dead letters (`?webhooks`). */
  webhookReport(): WebhookReport {
    return this.#webhooks.report();
  }

  /** Counts a refused request (a bad query the service answered). */
  refusedRequest(reason: string, now: number): Effect[] {
    this.#channel.stats.count("refusedRequests", reason);
    return this.#done(now);
  }

  /** Full or interval mode. */
  get mode(): ChannelMode {
    return this.#broadcaster.mode;
  }

  /** History rows the service swept: the meta row records the new range. */
  historySwept(drops: readonly string[], now: number): Effect[] {
    if (drops.length > 0) this.#channel.out.write([metaRow(this.#meta())], drops);
    return this.#done(now);
  }

  /** What the coordinator stamps its shards' diffs and copies with: its run, and its mode. */
  readonly #stamping: Stamping = { epoch: () => this.#starts, mode: () => this.#broadcaster.mode };

  #meta(): Meta {
    return { seq: this.#broadcaster.seq, mode: this.#broadcaster.mode, starts: this.#starts, stats: this.#channel.stats.saved(), history: this.history.range, index: this.#index.memory() };
  }

  /** What the index hears at the end of a tick: the counts, and the cumulative counters for GET /metrics. */
  #indexSnapshot(mode: ChannelMode): IndexSnapshot {
    const { members, stats } = this.#channel;
    return { ...members.counts(), members: members.size, mode, httpClients: this.#httpClients.liveCount, counters: copyCounters({ starts: this.#starts, ...stats.counters }) };
  }

  /** Answers the pushes that finished, and hands over the effects of this input. */
  #done(now: number): Effect[] {
    this.#pushes.answerSettled(now);
    // A count changed outside a tick (a refusal, a push's answers, a webhook attempt): a tick stores it and tells the index.
    if (this.#channel.stats.dirty && this.#storing === null) this.#channel.out.tick();
    return this.#channel.out.take();
  }
}
