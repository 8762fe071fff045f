/**
 * A room's webhook batches waiting for delivery, as pure logic: strictly in order (one at a
 * time, the head first), each retried with backoff and jitter or as Retry-After says, moved to
 * the dead letters after the last attempt, and none sent while the endpoint said 410 Gone.
 * The channel room and the directory keep one each; the caller persists what `take` reports.
 */

/** One batch: its webhook-id (the same on every attempt) and its body, as signed. */
export type WebhookBatch = {
  /** Orders the queue (and names its storage row). */
  n: number;
  id: string;
  body: string;
  createdAt: number;
  attempts: number;
  /** Not before this time (epoch ms). */
  nextAt: number;
  lastError?: string;
};

/** How deliveries are retried. */
export type RetryPolicy = {
  retryMs: number;
  maxAttempts: number;
  /** A number in [0, 1): jitter. */
  random: () => number;
};

/** What a delivery attempt came to. */
export type Attempt = { ok: true } | { ok: false; gone: true; error: string } | { ok: false; gone: false; error: string; retryAfterMs?: number | undefined };

/** What to write after changes: rows to put and to delete, and the disabled URL. */
export type OutboxChanges = { put: WebhookBatch[]; delete: number[]; deadPut: WebhookBatch[]; deadDelete: number[] };

const MAX_DELAY_MS = 3600_000;

/** The queue and the dead letters of one room. */
export class WebhookOutbox {
  readonly #policy: RetryPolicy;
  #queue: WebhookBatch[] = [];
  #dead: WebhookBatch[] = [];
  #next = 1;
  #sending: number | null = null;
  #disabled = false;
  #delivered = 0;
  #failedAttempts = 0;
  #lastError: string | undefined;
  #changes: OutboxChanges = { put: [], delete: [], deadPut: [], deadDelete: [] };

  constructor(policy: RetryPolicy) {
    this.#policy = policy;
  }

  /** Restores the queue and dead letters from storage, and whether the endpoint was found gone. */
  restore(queue: WebhookBatch[], dead: WebhookBatch[], disabled: boolean): void {
    this.#queue = [...queue].sort((a, b) => a.n - b.n);
    this.#dead = [...dead].sort((a, b) => a.n - b.n);
    this.#next = Math.max(0, ...this.#queue.map((b) => b.n), ...this.#dead.map((b) => b.n)) + 1;
    this.#disabled = disabled;
  }

  /** Queues a batch behind the others. */
  add(id: string, body: string, now: number): WebhookBatch {
    const batch: WebhookBatch = { n: this.#next++, id, body, createdAt: now, attempts: 0, nextAt: now };
    this.#queue.push(batch);
    this.#changes.put.push(batch);
    return batch;
  }

  /** The batch to try now: the head of the queue, if it is due, none is being sent, and the endpoint is not gone. */
  due(now: number): WebhookBatch | null {
    const head = this.#queue[0];
    if (!head || this.#disabled || this.#sending !== null || head.nextAt > now) return null;
    this.#sending = head.n;
    return head;
  }

  /** The result of trying batch `n`. */
  settle(n: number, attempt: Attempt, now: number): void {
    this.#sending = null;
    const head = this.#queue[0];
    if (!head || head.n !== n) return;
    if (attempt.ok) {
      this.#queue.shift();
      this.#changes.delete.push(n);
      this.#delivered++;
      return;
    }
    this.#failedAttempts++;
    this.#lastError = attempt.error;
    head.lastError = attempt.error;
    if (attempt.gone) {
      // 410: nothing goes out until the URL changes; the batch waits at the head, not counted as an attempt.
      this.#disabled = true;
      this.#changes.put.push(head);
      return;
    }
    head.attempts++;
    if (head.attempts >= this.#policy.maxAttempts) {
      this.#queue.shift();
      this.#dead.push(head);
      this.#changes.delete.push(n);
      this.#changes.deadPut.push(head);
      return;
    }
    const backoff = Math.min(MAX_DELAY_MS, this.#policy.retryMs * 4 ** (head.attempts - 1)) * (0.8 + 0.4 * this.#policy.random());
    head.nextAt = now + Math.min(MAX_DELAY_MS, Math.max(attempt.retryAfterMs ?? 0, Math.round(backoff)));
    this.#changes.put.push(head);
  }

  /** Puts every dead letter back at the end of the queue with fresh attempts; returns how many. */
  resend(now: number): number {
    const dead = this.#dead;
    this.#dead = [];
    for (const batch of dead) {
      this.#changes.deadDelete.push(batch.n);
      const again: WebhookBatch = { ...batch, n: this.#next++, attempts: 0, nextAt: now };
      this.#queue.push(again);
      this.#changes.put.push(again);
    }
    return dead.length;
  }

  /** When the head is next due, or null (empty, being sent, or the endpoint is gone). */
  nextDeadline(): number | null {
    const head = this.#queue[0];
    return head && !this.#disabled && this.#sending === null ? head.nextAt : null;
  }

  /** Whether the endpoint answered 410 Gone. */
  get disabled(): boolean {
    return this.#disabled;
  }

  /** The rows to write since the last call. */
  take(): OutboxChanges | null {
    const changes = this.#changes;
    if (changes.put.length + changes.delete.length + changes.deadPut.length + changes.deadDelete.length === 0) return null;
    this.#changes = { put: [], delete: [], deadPut: [], deadDelete: [] };
    return changes;
  }

  /** The dead letters, oldest first. */
  get deadLetters(): readonly WebhookBatch[] {
    return this.#dead;
  }

  /** What the stats show. */
  stats(): { pending: number; deadLetters: number; delivered: number; failedAttempts: number; disabled: boolean; lastError?: string } {
    const stats = { pending: this.#queue.length, deadLetters: this.#dead.length, delivered: this.#delivered, failedAttempts: this.#failedAttempts, disabled: this.#disabled };
    return this.#lastError === undefined ? stats : { ...stats, lastError: this.#lastError };
  }
}
