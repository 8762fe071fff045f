/**
 * Interval mode's event log, pure: the channel's history read on from where the log stands.
 * The observer socket hears events of its window only, so the log reads every member's from
 * `?history` instead: on from the cursor of the last page while it had one (a tick's events
 * may straddle two pages), else from the time of the newest event read (`since`, which reads
 * that time's events again: only ticks newer than the newest read are new). Events of ticks the
 * log already shows otherwise (the socket's, up to a snapshot) are left out.
 */
import type { HistoryEvent, HistoryPage } from "../party/protocol/index.ts";

export class HistoryTail {
  /** The log shows every event up to this tick by other means (the socket's). */
  #shown: number;
  /** The newest tick read from the history. */
  #read = -1;
  /** The time of the newest event read. */
  #at = 0;
  /** Where the next page starts, while the last one said more follow. */
  #cursor: string | undefined;
  /** Whether the page asked for last starts at a cursor (it goes on exactly where the page before ended). */
  #fromCursor = false;

  constructor(shown = -1) {
    this.#shown = shown;
  }

  /** Whether the last page said more follow: read on now. */
  get more(): boolean {
    return this.#cursor !== undefined;
  }

  /** The log shows every event up to tick `seq` by other means (a snapshot, or what the socket heard); `at`: the newest such event's time, when known. */
  seen(seq: number, at?: number): void {
    this.#shown = Math.max(this.#shown, seq);
    if (at !== undefined) this.#at = Math.max(this.#at, at);
  }

  /** The next page's query (`?history&…`), `limit` events at most. */
  query(limit: number): URLSearchParams {
    const query = new URLSearchParams({ history: "", limit: String(limit) });
    this.#fromCursor = this.#cursor !== undefined;
    if (this.#cursor !== undefined) query.set("cursor", this.#cursor);
    else query.set("since", String(this.#at));
    return query;
  }

  /** Takes the page read with the last `query()`; answers its events the log does not show yet, oldest first. */
  take(page: Pick<HistoryPage, "events" | "cursor">): HistoryEvent[] {
    const read = this.#read;
    const fresh = page.events.filter((event) => event.seq > this.#shown && (this.#fromCursor || event.seq > read));
    for (const event of page.events) {
      this.#at = Math.max(this.#at, event.at);
      this.#read = Math.max(this.#read, event.seq);
    }
    this.#cursor = page.cursor;
    return fresh;
  }
}
