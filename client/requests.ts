/** Requests a `PresenceClient` sends and waits for (herenow, leave), each settled by its answer or rejected at its timeout. */
type Pending = { resolve: (value: never) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> };

/** Requests waiting for their answer, by id. */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>();

  /** Waits for the answer to request `id`, which `send` sends; rejects after `timeoutMs`. */
  wait<T>(id: string, what: string, timeoutMs: number, send: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`presence: no answer to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject, timer });
      send();
    });
  }

  /** The answer to request `id` arrived (an answer to nothing pending is ignored). */
  settle(id: string, value: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    pending.resolve(value as never);
  }

  /** Fails every request still waiting. */
  rejectAll(error: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }
}
