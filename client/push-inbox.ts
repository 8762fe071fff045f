/**
 * A client's incoming pushes, as pure bookkeeping (the time is a parameter): which push ids it
 * has answered and how, so that a push id seen in the last 10 minutes is answered the same way
 * again without calling the app's handlers; a push delivered twice (a reconnect mid-push, a
 * retry with the same id) reaches the app once. The `ClientCore` keeps one; the
 * `PresenceClient` runs the handlers (push-handlers.ts) and reports their answer.
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

/** What a push's arrival calls for: `new`, hand it to the handlers; `waiting`, they still run (it is answered with theirs); or the answer given before. */
export type PushArrival = "new" | "waiting" | PushAnswer;

const REMEMBER_MS = 10 * 60 * 1000;
const REMEMBER_MAX = 1000;

/** The push ids seen, each with its answer once given and the arrivals still owed one. */
export class PushInbox {
  readonly #seen = new Map<string, { at: number; answer?: PushAnswer; owed: number }>();

  /** A push arrived at `now`: says whether to run the handlers, wait for them, or answer again. */
  receive(id: string, now: number): PushArrival {
    this.#forget(now);
    const seen = this.#seen.get(id);
    if (seen?.answer) return seen.answer;
    if (seen) {
      seen.owed++;
      return "waiting";
    }
    this.#seen.set(id, { at: now, owed: 1 });
    return "new";
  }

  /** The handlers answered push `id`: how many times to send the answer (once per arrival while they ran). */
  answered(id: string, answer: PushAnswer): number {
    const seen = this.#seen.get(id);
    // Forgotten while the handlers ran (10 minutes, or 1,000 newer pushes): the arrival is still owed its answer.
    if (!seen) return 1;
    const owed = seen.owed;
    seen.answer = answer;
    seen.owed = 0;
    return owed;
  }

  #forget(now: number): void {
    for (const [id, { at }] of this.#seen) {
      if (at + REMEMBER_MS > now && this.#seen.size <= REMEMBER_MAX) break;
      this.#seen.delete(id);
    }
  }
}
