/**
 * The channel's webhooks, as the core keeps them: one batch per tick of the events the settings
 * want (the occupancy change first or last), written with that tick (before anyone hears of
 * it), handed out one at a time as a `webhook` effect, and settled by the attempt that comes
 * back; retries wait for the room's alarm (`nextDeadline`). Pure: the outbox is
 * server/webhook-outbox.ts, the delivery is the service's (server/webhooks.ts `sendWebhook`).
 */
import type { WebhookSettings } from "../server/config.ts";
import { newOutbox, outboxRows } from "../server/webhooks.ts";
import type { Attempt, WebhookOutbox } from "../server/webhook-outbox.ts";
import type { WebhookChannelEvent, WebhookOccupancyEvent, WebhookReport, WebhookStats } from "../protocol/index.ts";
import type { StoredOutbox } from "../server/webhooks.ts";
import type { Outbox } from "./effects.ts";
import type { TickDiff } from "./presence.ts";

/** A channel's webhook batches. */
export class WebhookQueue {
  readonly #settings: WebhookSettings | null;
  readonly #channel: string;
  readonly #out: Outbox;
  readonly #outbox: WebhookOutbox;

  constructor(settings: WebhookSettings | null, channel: string, out: Outbox) {
    this.#settings = settings;
    this.#channel = channel;
    this.#out = out;
    this.#outbox = newOutbox(settings);
  }

  /** Takes up what storage held (the caller read it). */
  restore(stored: StoredOutbox | null): void {
    if (stored) this.#outbox.restore(stored.queue, stored.dead, stored.gone);
  }

  /**
   * One tick's events (those the settings want) as one batch, numbered by the tick's diff; a
   * change of occupancy goes first (occupied) or last (vacated). Written with the tick.
   */
  enqueue(diff: TickDiff, seq: number, wasOccupied: boolean, now: number): void {
    const settings = this.#settings;
    if (!settings) return;
    const occupied = diff.userAmount > 0;
    const change: WebhookOccupancyEvent["type"] | null = occupied === wasOccupied ? null : occupied ? "channel.occupied" : "channel.vacated";
    const channel = this.#channel;
    const events: Array<WebhookChannelEvent | WebhookOccupancyEvent> = diff.events
      .filter((event) => settings.events.has(event.action))
      .map((event) => ({ type: event.action, channel, seq, member: event.member, clientAmount: event.clientAmount, userAmount: event.userAmount }));
    if (change !== null && settings.events.has(change)) {
      const occupancy: WebhookOccupancyEvent = { type: change, channel, seq, clientAmount: diff.clientAmount, userAmount: diff.userAmount };
      if (change === "channel.occupied") events.unshift(occupancy);
      else events.push(occupancy);
    }
    if (events.length === 0) return;
    const payload = { type: "presence.events", timestamp: new Date(now).toISOString(), data: { channel, events } };
    this.#outbox.add(`msg_${crypto.randomUUID()}`, JSON.stringify(payload), now);
    this.#write();
  }

  /** Hands out the next batch due, unless one is out already (the outbox sends one at a time). */
  dispatch(now: number): void {
    if (!this.#settings) return;
    const batch = this.#outbox.due(now);
    if (batch) this.#out.webhook(batch);
  }

  /** The attempt at batch `n` came back: settled in the outbox and written; the next one goes when due. */
  settled(n: number, attempt: Attempt, now: number): void {
    this.#outbox.settle(n, attempt, now);
    this.#write();
    this.dispatch(now);
    // A retry waits: one tick sets the room's alarm for it (and finds nothing else to do).
    if (!attempt.ok) this.#out.tick();
  }

  /** Puts the dead letters back in the queue; returns how many. */
  resend(now: number): number {
    const n = this.#outbox.resend(now);
    this.#write();
    this.dispatch(now);
    return n;
  }

  /** When the next batch is due, or null (none waits, one is out, or the endpoint is gone). */
  nextDeadline(): number | null {
    return this.#settings ? this.#outbox.nextDeadline() : null;
  }

  /** What the stats show. */
  stats(): WebhookStats {
    return { enabled: this.#settings !== null, ...this.#outbox.stats() };
  }

  /** The stats with the dead letters (`?webhooks`). */
  report(): WebhookReport {
    const deadLetterBatches = this.#outbox.deadLetters.map(({ id, createdAt, attempts, lastError }) => (lastError === undefined ? { id, createdAt, attempts } : { id, createdAt, attempts, lastError }));
    return { ...this.stats(), deadLetterBatches };
  }

  #write(): void {
    const changes = this.#outbox.take();
    if (!changes) return;
    const rows = outboxRows(changes, this.#outbox.disabled && this.#settings ? this.#settings.url : null);
    this.#out.write(rows.put, rows.delete);
  }
}
