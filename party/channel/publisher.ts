/**
 * One tick of a channel room: deadlines first (HTTP clients past their TTL, idle sockets,
 * expired tokens, push ids, expired history), then
 * the diff, stored before anyone hears of it (members with the tick's history rows, the tick's
 * webhook batch and the meta row), then sent; after the clients, off their path, the webhooks, the directory's and the
 * index's reports, and the watchers' news.
 */
import type { TickLoop } from "../server/tick-loop.ts";
import type { WebhookChannelEvent, WebhookOccupancyEvent } from "../protocol/index.ts";
import type { WebhookDispatch } from "../server/webhooks.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { Departures } from "./departures.ts";
import type { DirectoryReporter } from "./directory-reporter.ts";
import type { HistoryRows } from "./history-rows.ts";
import type { HttpClientRows } from "./http-client-rows.ts";
import type { IndexReporter } from "./index-reporter.ts";
import type { PresenceState, TickDiff } from "./presence.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketRegistry } from "./registry.ts";
import type { StatsCounters } from "./stats.ts";
import type { ChannelStore, Meta } from "./store.ts";
import type { Watching } from "./watching.ts";

/** The parts a tick touches. */
export type PublisherParts = {
  /** The channel's name. */
  channel: () => string;
  /** The meta row as it is now. */
  meta: () => Meta;
  /** When each socket last pinged without waking the room (the Workers engine's auto-response), read once per tick that asks. */
  lastPings: () => (connectionId: string) => number | null;
  state: PresenceState;
  registry: SocketRegistry;
  stats: StatsCounters;
  store: ChannelStore;
  httpClients: HttpClientRows;
  history: HistoryRows;
  broadcaster: Broadcaster;
  webhooks: WebhookDispatch;
  reporter: DirectoryReporter;
  index: IndexReporter;
  watching: Watching;
  pushes: ChannelPushes;
  departures: Departures;
  ticks: TickLoop;
};

/** The room's ticks. */
export class Publisher {
  readonly #parts: PublisherParts;

  constructor(parts: PublisherParts) {
    this.#parts = parts;
  }

  /** One tick: deadlines, then the diff to storage and then to every socket, then the rest. */
  async tick(now: number): Promise<void> {
    const { state, registry, stats, store, httpClients, history, broadcaster, webhooks, reporter, index, watching, pushes, departures, ticks, meta, lastPings } = this.#parts;
    for (const connectionId of state.lapse(now)) departures.lapsed(connectionId);
    httpClients.sweep(now);
    for (const connectionId of state.expire(now, lastPings())) departures.idle(connectionId);
    for (const connectionId of registry.expired(now)) departures.expired(connectionId, now);
    await pushes.sweep(now);
    const swept = await history.sweep(now);
    // In interval mode changes gather for a whole interval, whatever woke the loop.
    const due = broadcaster.due(now);
    if (!due) ticks.schedule();
    // Occupied as clients last heard it (after a restart: as stored, members and webhook batches being written together).
    const occupied = due && broadcaster.committedCounts().userAmount > 0;
    const diff = due ? state.takeDiff() : null;
    if (diff) await this.#publish(diff, occupied, now);
    else if (stats.dirty || swept) await store.saveMeta(meta());
    // HTTP clients' rows go after their members' (an expired client's row outlives its member's offline row, never the reverse).
    await httpClients.flush();
    // Webhooks and the directory hear of the tick after the clients, off their path.
    webhooks.dispatch();
    if (diff) reporter.changes(diff, now);
    if (reporter.renewalDue(now)) reporter.renew(state.online(), now);
    reporter.flush();
    index.note({ ...state.counts(), members: state.size, mode: broadcaster.mode }, now);
    index.flush(now);
    watching.send();
  }

  /** A diff to storage, then to the sockets. */
  async #publish(diff: TickDiff, wasOccupied: boolean, now: number): Promise<void> {
    const { store, history, broadcaster, webhooks, meta } = this.#parts;
    // From here a snapshot shows the new state at the new number; the diff, sent below,
    // is then old news to a socket that got that snapshot meanwhile.
    const prepared = broadcaster.prepare(diff, now);
    this.#queueWebhook(diff, prepared.seq, wasOccupied);
    // Stored before anyone hears of it: no client ever saw a change that a crash could lose,
    // and no webhook batch or history event is lost either (they are in the same tick's writes;
    // the history's rows in the members' own puts). Every member's event, whatever the mode.
    try {
      await store.saveMembers(diff.upserts, diff.deletes, history.append(diff.events, prepared.seq, now));
      await webhooks.save();
      await store.saveMeta(meta());
      // Durable, not only written: where the engine confirms writes later, no socket must hear first.
      await store.sync();
    } catch (error) {
      prepared.abandon();
      throw error;
    }
    prepared.send();
  }

  /**
   * One tick's events (those the settings want) as one webhook batch, in order, numbered by the
   * tick's diff; a change of occupancy goes first (occupied) or last (vacated).
   */
  #queueWebhook(diff: TickDiff, seq: number, wasOccupied: boolean): void {
    const { webhooks, channel } = this.#parts;
    const occupied = diff.userAmount > 0;
    const change: WebhookOccupancyEvent["type"] | null = occupied === wasOccupied ? null : occupied ? "channel.occupied" : "channel.vacated";
    if (!webhooks.enabled) return;
    const name = channel();
    const counts = { clientAmount: diff.clientAmount, userAmount: diff.userAmount };
    const events: Array<WebhookChannelEvent | WebhookOccupancyEvent> = diff.events
      .filter((event) => webhooks.wants(event.action))
      .map((event) => ({ type: event.action, channel: name, seq, member: event.member, clientAmount: event.clientAmount, userAmount: event.userAmount }));
    if (change !== null && webhooks.wants(change)) {
      const occupancy: WebhookOccupancyEvent = { type: change, channel: name, seq, ...counts };
      if (change === "channel.occupied") events.unshift(occupancy);
      else events.push(occupancy);
    }
    if (events.length === 0) return;
    webhooks.enqueue({ type: "presence.events", timestamp: new Date().toISOString(), data: { channel: name, events } }, Date.now());
  }
}
