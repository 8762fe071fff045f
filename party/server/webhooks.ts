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
import { type Attempt, type WebhookBatch, WebhookOutbox } from "./webhook-outbox.ts";

const QUEUE = "wq:";
const DEAD = "wd:";
const GONE = "wgone";

/** Storage keys sort as numbers do. */
const key = (prefix: string, n: number) => `${prefix}${String(n).padStart(12, "0")}`;

/** A room's webhooks: its outbox in storage, sent one batch at a time. */
export class WebhookDispatch {
  readonly #settings: WebhookSettings | null;
  readonly #storage: HostStorage;
  readonly #outbox: WebhookOutbox;
  readonly #wake: (at: number) => void;
  #pumping = false;

  /**
   * `wake(at)` is called when a retry is due later: the room's alarm must fire by then. (Not a
   * tick: a tick would dispatch again, find nothing due and wake again, every tick until the
   * retry, and the room would never sleep while a batch waits.)
   */
  constructor(settings: WebhookSettings | null, storage: HostStorage, wake: (at: number) => void) {
    this.#settings = settings;
    this.#storage = storage;
    this.#wake = wake;
    this.#outbox = new WebhookOutbox({ retryMs: settings?.retryMs ?? 1000, maxAttempts: settings?.maxAttempts ?? 8, random: Math.random });
  }

  /** Whether a webhook URL is set. */
  get enabled(): boolean {
    return this.#settings !== null;
  }

  /** Restores the queue, the dead letters, and whether this URL answered 410 before. */
  async load(): Promise<void> {
    if (!this.#settings) return;
    const [queue, dead, gone] = await Promise.all([
      this.#storage.list<WebhookBatch>({ prefix: QUEUE }),
      this.#storage.list<WebhookBatch>({ prefix: DEAD }),
      this.#storage.get<string>(GONE),
    ]);
    this.#outbox.restore([...queue.values()], [...dead.values()], gone === this.#settings.url);
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
    await putAll(this.#storage, [...changes.put.map((b) => [key(QUEUE, b.n), b] as const), ...changes.deadPut.map((b) => [key(DEAD, b.n), b] as const)]);
    await deleteAll(this.#storage, [...changes.delete.map((n) => key(QUEUE, n)), ...changes.deadDelete.map((n) => key(DEAD, n))]);
    if (this.#outbox.disabled && this.#settings) await this.#storage.put(GONE, this.#settings.url);
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
        if (next <= Date.now()) this.dispatch();
        else this.#wake(next);
      });
  }

  /** When the next batch is due, or null. */
  nextDeadline(): number | null {
    return this.#settings ? this.#outbox.nextDeadline() : null;
  }

  /** Puts the dead letters back in the queue; returns how many. */
  async resend(): Promise<number> {
    const n = this.#outbox.resend(Date.now());
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
      const batch = this.#outbox.due(Date.now());
      if (!batch) return;
      const attempt = await send(this.#settings!, batch);
      this.#outbox.settle(batch.n, attempt, Date.now());
      await this.save();
    }
  }
}

/**
 * One attempt: the batch, signed now, POSTed with a timeout. 2xx delivers it; 410 is gone;
 * anything else is retried. The timeout's timer is cleared as soon as the attempt ends: a
 * timer left pending (as `AbortSignal.timeout` leaves one) keeps a Durable Object from
 * hibernating for the whole timeout after every delivery.
 */
async function send(settings: WebhookSettings, batch: WebhookBatch): Promise<Attempt> {
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
