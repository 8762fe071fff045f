/**
 * What every push coordinator shares (the user's directory part, or a channel room when the
 * directory is off or a client pushes): idempotency by id for 10 minutes, and merging the
 * rooms' answers into one. Pure apart from the storage it is given.
 */
import type { Push, PushDelivery, PushRequest, PushResult } from "../protocol/index.ts";

/** How long a push id is remembered: the same id again within it delivers nothing new. */
export const PUSH_ID_TTL_MS = 10 * 60 * 1000;

/** How long a push waits for acknowledgements unless it says otherwise. */
export const DEFAULT_PUSH_TIMEOUT_MS = 5000;

/** A remembered push. */
export type LoggedPush = { result: PushResult; expiresAt: number };

/** Where a coordinator keeps its remembered pushes. */
export type PushLogStore = {
  get(id: string): Promise<LoggedPush | undefined>;
  put(id: string, entry: LoggedPush): Promise<void>;
  delete(ids: string[]): Promise<void>;
  list(): Promise<Map<string, LoggedPush>>;
};

/** Runs each push id once: a repeat within the TTL, or while the first is still running, gets the first's answer. */
export class PushLog {
  readonly #store: PushLogStore;
  readonly #now: () => number;
  readonly #running = new Map<string, Promise<PushResult>>();
  /** When each remembered id may be forgotten (its row deleted). */
  readonly #expiries = new Map<string, number>();

  /** `now`: the room's clock (an answer is remembered from when it was made). */
  constructor(store: PushLogStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** Learns the ids remembered before a restart, so their rows are swept in time. */
  async load(): Promise<void> {
    for (const [id, entry] of await this.#store.list()) this.#expiries.set(id, entry.expiresAt);
  }

  /** When the earliest remembered id expires, or null. */
  nextExpiry(): number | null {
    let next = Infinity;
    for (const at of this.#expiries.values()) next = Math.min(next, at);
    return Number.isFinite(next) ? next : null;
  }

  /** Forgets the ids whose 10 minutes are over. */
  async sweep(now: number): Promise<void> {
    const expired = [...this.#expiries].filter(([, at]) => at <= now).map(([id]) => id);
    if (expired.length === 0) return;
    for (const id of expired) this.#expiries.delete(id);
    for (let i = 0; i < expired.length; i += 128) await this.#store.delete(expired.slice(i, i + 128));
  }

  /** The push's answer: the remembered one, the one being made, or a new one from `run`. */
  run(id: string, now: number, run: () => Promise<PushResult>): Promise<PushResult> {
    const running = this.#running.get(id);
    if (running) return running;
    const answer = (async () => {
      const logged = await this.#store.get(id);
      if (logged && logged.expiresAt > now) return logged.result;
      const result = await run();
      const expiresAt = this.#now() + PUSH_ID_TTL_MS;
      await this.#store.put(id, { result, expiresAt });
      this.#expiries.set(id, expiresAt);
      return result;
    })().finally(() => this.#running.delete(id));
    this.#running.set(id, answer);
    return answer;
  }
}

/** A push log kept in a room's storage under `prefix` + id. */
export function storagePushLog(storage: {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(keys: string[]): Promise<number>;
  list<T>(options: { prefix: string }): Promise<Map<string, T>>;
}, now: () => number, prefix = "x:"): PushLog {
  return new PushLog({
    get: (id) => storage.get<LoggedPush>(prefix + id),
    put: (id, entry) => storage.put(prefix + id, entry),
    delete: async (ids) => void (await storage.delete(ids.map((id) => prefix + id))),
    list: async () => new Map([...(await storage.list<LoggedPush>({ prefix }))].map(([key, entry]) => [key.slice(prefix.length), entry])),
  }, now);
}

/** A fresh push id. */
export function newPushId(): string {
  return `p-${crypto.randomUUID()}`;
}

/**
 * A push on its way, from what its sender asked: the id it gave (or a fresh one) and the
 * deadline fixed now, so every hop after this one waits for the same moment.
 */
export function pushOf(userId: string, request: PushRequest, from: string | null, timeoutMs: number, now: number): Push {
  const push: Push = { id: request.id ?? newPushId(), userId, data: request.data, deadline: now + timeoutMs, from };
  if (request.channel !== undefined) push.channel = request.channel;
  if (request.clientType !== undefined) push.clientType = request.clientType;
  return push;
}

/** One push's answer from the deliveries of the rooms it went through (a room that failed is named, not counted). */
export function mergeDeliveries(id: string, deliveries: Array<{ channel: string; delivery: PushDelivery | { error: string } }>): PushResult {
  const result: PushResult = { id, clients: 0, acked: [], unacked: [] };
  const failed: Array<{ channel: string; error: string }> = [];
  for (const { channel, delivery } of deliveries) {
    if ("error" in delivery) {
      failed.push({ channel, error: delivery.error });
      continue;
    }
    result.acked.push(...delivery.acked);
    result.unacked.push(...delivery.unacked);
  }
  result.clients = result.acked.length + result.unacked.length;
  if (failed.length > 0) result.failedChannels = failed;
  return result;
}
