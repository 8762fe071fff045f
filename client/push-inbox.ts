/**
 * A client's incoming pushes: each runs the app's handlers once, and its answer (an ack, or a
 * negative ack with the handler's error) is sent back; a push id seen in the last 10 minutes
 * is answered the same way again without calling the handlers, so a push delivered twice (a
 * reconnect mid-push, a retry with the same id) reaches the app once.
 */
import type { JsonValue } from "../party/wire/json.ts";

/** Where a push came from. */
export type PushInfo = {
  /** The push's id (the same on a repeat). */
  id: string;
  /** The channel it came through. */
  channel: string;
  /** The member who pushed it, or null when the app server did. */
  from: string | null;
};

/** A push handler: the push is acknowledged when it returns (or its promise resolves); a throw or rejection is a negative ack. */
export type PushHandler = (data: JsonValue, info: PushInfo) => unknown;

/** What to answer a push with. */
export type PushAnswer = { ok: true } | { ok: false; error: string };

const REMEMBER_MS = 10 * 60 * 1000;
const REMEMBER_MAX = 1000;

/** Runs push handlers and remembers their answers. */
export class PushInbox {
  readonly #handlers = new Set<PushHandler>();
  readonly #answered = new Map<string, { answer: Promise<PushAnswer>; at: number }>();

  /** Adds a handler; returns the function that removes it. */
  on(handler: PushHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** The answer to a push: the one given before for this id, or the handlers' now. */
  receive(data: JsonValue, info: PushInfo, now = Date.now()): Promise<PushAnswer> {
    this.#forget(now);
    const known = this.#answered.get(info.id);
    if (known) return known.answer;
    const answer = this.#run(data, info);
    this.#answered.set(info.id, { answer, at: now });
    return answer;
  }

  async #run(data: JsonValue, info: PushInfo): Promise<PushAnswer> {
    if (this.#handlers.size === 0) return { ok: false, error: "no push handler on this client" };
    try {
      await Promise.all([...this.#handlers].map((handler) => handler(data, info)));
      return { ok: true };
    } catch (error) {
      return { ok: false, error: String(error instanceof Error ? error.message : error).slice(0, 200) };
    }
  }

  #forget(now: number): void {
    for (const [id, { at }] of this.#answered) {
      if (at + REMEMBER_MS > now && this.#answered.size <= REMEMBER_MAX) break;
      this.#answered.delete(id);
    }
  }
}
