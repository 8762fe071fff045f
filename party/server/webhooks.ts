/**
 * A room's webhook delivery: batches queued in the tick that makes them (stored with that
 * tick, before anyone hears of it), sent one after another to PRESENCE_WEBHOOK_URL, signed
 * per Standard Webhooks with the `standardwebhooks` package, each attempt bounded by a
 * timeout, retried on the room's alarm as the outbox says. Never on the path of presence:
 * the room does not wait for it. Used by the channel room and the directory.
 */
import { Webhook } from "standardwebhooks";
import type { WebhookSettings } from "./config.ts";
import type { WebhookPayload, WebhookReport, WebhookStats } from "../protocol/index.ts";
import type { HostStorage } from "./host.ts";
import { deleteAll, putAll } from "./storage.ts";
import { type Attempt, type OutboxChanges, type WebhookBatch, WebhookOutbox } from "./webhook-outbox.ts";

const QUEUE = "wq:";
const DEAD = "wd:";
const GONE = "wgone";

/** Storage keys sort as numbers do. */
const key = (prefix: string, n: number) => `${prefix}${String(n).padStart(12, "0")}`;

/** An outbox as stored: its queue, its dead letters, and whether its URL answered 410 before. */
export type StoredOutbox = { queue: WebhookBatch[]; dead: WebhookBatch[]; gone: boolean };

/**
 * A room's outbox from its rows (any map of the room's rows that holds all of the outbox's:
 * the channel reads them in the same list as its other rows); null when no webhook URL is set.
 */
export function outboxFromRows(rows: ReadonlyMap<string, unknown>, settings: WebhookSettings | null): StoredOutbox | null {
  if (!settings) return null;
  const queue: WebhookBatch[] = [];
  const dead: WebhookBatch[] = [];
  for (const [rowKey, value] of rows) {
    if (rowKey.startsWith(QUEUE)) queue.push(value as WebhookBatch);
    else if (rowKey.startsWith(DEAD)) dead.push(value as WebhookBatch);
  }
  return { queue, dead, gone: rows.get(GONE) === settings.url };
}

/** Reads a room's outbox on its own, in one list (its rows sort together: `wd:`, `wgone`, `wq:`); null when no webhook URL is set. */
export async function loadOutbox(storage: HostStorage, settings: WebhookSettings | null): Promise<StoredOutbox | null> {
  if (!settings) return null;
  return outboxFromRows(await storage.list({ prefix: "w", start: DEAD, end: "wq;" }), settings);
}

/** The rows an outbox's changes write: batches put and deleted, and the URL marked gone once it answered 410. */
export function outboxRows(changes: OutboxChanges, goneUrl: string | null): { put: Array<readonly [string, unknown]>; delete: string[] } {
  const put: Array<readonly [string, unknown]> = [...changes.put.map((b) => [key(QUEUE, b.n), b] as const), ...changes.deadPut.map((b) => [key(DEAD, b.n), b] as const)];
  if (goneUrl !== null) put.push([GONE, goneUrl]);
  return { put, delete: [...changes.delete.map((n) => key(QUEUE, n)), ...changes.deadDelete.map((n) => key(DEAD, n))] };
}

/** A room's outbox with its settings: what the channel core keeps (the delivery itself is the service's). */
export function newOutbox(settings: WebhookSettings | null): WebhookOutbox {
  return new WebhookOutbox({ retryMs: settings?.retryMs ?? 1000, maxAttempts: settings?.maxAttempts ?? 8, random: Math.random });
}

/** A room's webhooks: its outbox in storage, sent one batch at a time. */
export class WebhookDispatch {
  readonly #settings: WebhookSettings | null;
  readonly #storage: HostStorage;
  readonly #outbox: WebhookOutbox;
  readonly #wake: (at: number) => void;
  readonly #now: () => number;
  #pumping = false;

  /**
   * `wake(at)` is called when a retry is due later: the room's alarm must fire by then. (Not a
   * tick: a tick would dispatch again, find nothing due and wake again, every tick until the
   * retry, and the room would never sleep while a batch waits.)
   */
  constructor(settings: WebhookSettings | null, storage: HostStorage, wake: (at: number) => void, now: () => number) {
    this.#now = now;
    this.#settings = settings;
    this.#storage = storage;
    this.#wake = wake;
    this.#outbox = newOutbox(settings);
  }

  /** Whether a webhook URL is set. */
  get enabled(): boolean {
    return this.#settings !== null;
  }

  /** Restores the queue, the dead letters, and whether this URL answered 410 before. */
  async load(): Promise<void> {
    const stored = await loadOutbox(this.#storage, this.#settings);
    if (stored) this.#outbox.restore(stored.queue, stored.dead, stored.gone);
  }

  /** Whether the settings want events of this type. */
  wants(type: string): boolean {
    return this.#settings?.events.has(type as never) ?? false;
  }

  /** Queues one batch (one tick's events of one room); `save` writes it. */
  enqueue(payload: WebhookPayload, now: number): void {
    if (!this.#settings) return;
    this.#outbox.add(`msg_${crypto.randomUUID()}`, JSON.stringify(payload), now);
  }

  /** Writes what changed in the outbox. */
  async save(): Promise<void> {
    const changes = this.#outbox.take();
    if (!changes) return;
    const rows = outboxRows(changes, this.#outbox.disabled && this.#settings ? this.#settings.url : null);
    await putAll(this.#storage, rows.put);
    await deleteAll(this.#storage, rows.delete);
  }

  /** Sends what is due, one batch after another, without the caller waiting. */
  dispatch(): void {
    if (!this.#settings || this.#pumping) return;
    this.#pumping = true;
    this.#pump()
      .catch((error) => console.error("presence: webhook delivery failed", error))
      .finally(() => {
        this.#pumping = false;
        const next = this.#outbox.nextDeadline();
        if (next === null) return;
        // A batch queued while the last one was out is due now; a retry waits for the alarm.
        if (next <= this.#now()) this.dispatch();
        else this.#wake(next);
      });
  }

  /** When the next batch is due, or null. */
  nextDeadline(): number | null {
    return this.#settings ? this.#outbox.nextDeadline() : null;
  }

  /** Puts the dead letters back in the queue; returns how many. */
  async resend(): Promise<number> {
    const n = this.#outbox.resend(this.#now());
    await this.save();
    this.dispatch();
    return n;
  }

  /** The dead letters: which batches, how many attempts, and the last error (their bodies stay in storage). */
  deadLetters(): Array<{ id: string; createdAt: number; attempts: number; lastError?: string }> {
    return this.#outbox.deadLetters.map(({ id, createdAt, attempts, lastError }) => (lastError === undefined ? { id, createdAt, attempts } : { id, createdAt, attempts, lastError }));
  }

  /** What the stats show. */
  stats(): WebhookStats {
    return { enabled: this.#settings !== null, ...this.#outbox.stats() };
  }

  /** The stats with the dead letters (`?webhooks` of a room, the directory's `webhooks` call). */
  report(): WebhookReport {
    return { ...this.stats(), deadLetterBatches: this.deadLetters() };
  }

  async #pump(): Promise<void> {
    for (;;) {
      const batch = this.#outbox.due(this.#now());
      if (!batch) return;
      const attempt = await sendWebhook(this.#settings!, batch);
      this.#outbox.settle(batch.n, attempt, this.#now());
      await this.save();
    }
  }
}

/**
 * One attempt (exported for the channel service, which delivers its core's batches): the
 * batch, signed now, POSTed with a timeout. 2xx delivers it; 410 is gone;
 * anything else is retried. The timeout's timer is cleared as soon as the attempt ends: a
 * timer left pending (as `AbortSignal.timeout` leaves one) keeps a Durable Object from
 * hibernating for the whole timeout after every delivery.
 */
export async function sendWebhook(settings: WebhookSettings, batch: WebhookBatch): Promise<Attempt> {
  const now = new Date();
  const signature = new Webhook(settings.secret).sign(batch.id, now, batch.body);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException(`no answer within ${settings.timeoutMs} ms`, "TimeoutError")), settings.timeoutMs);
  try {
    const response = await fetch(settings.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": batch.id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: batch.body,
      signal: abort.signal,
    });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    if (response.status === 410) return { ok: false, gone: true, error: "the endpoint answered 410 Gone" };
    return { ok: false, gone: false, error: `the endpoint answered ${response.status}`, retryAfterMs: retryAfter(response.headers.get("retry-after")) };
  } catch (error) {
    const timedOut = abort.signal.aborted || (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"));
    return { ok: false, gone: false, error: timedOut ? `no answer within ${settings.timeoutMs} ms` : `the request failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Retry-After in seconds or as an HTTP date, in ms from now. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
