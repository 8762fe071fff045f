/**
 * The tick and alarm loop of a room: changes arm one short timer, so a burst costs one run
 * per tick; each run is followed by moving the room's single storage alarm to the earliest
 * deadline any part has (grace, idle, retention; later leases and retries). Runs never overlap.
 * Used by every party's room.
 */
import type { HostStorage } from "./host.ts";

/** What the loop drives. */
export type TickWork = {
  /** How long changes are gathered before a run (asked each time: a channel in interval mode gathers longer). */
  tickMs: () => number;
  storage: HostStorage;
  /** One run: apply deadlines, send, persist. */
  run: (now: number) => Promise<void>;
  /** The earliest time a run has work to do, or null. */
  nextDeadline: () => number | null;
  /** The room's clock. */
  now: () => number;
};

/** One timer per tick, one storage alarm per room. */
export class TickLoop {
  readonly #work: TickWork;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #alarmAt: number | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(work: TickWork) {
    this.#work = work;
  }

  /** Reads the alarm already set (after a restart or wake), so it is not set again needlessly. */
  async load(): Promise<void> {
    this.#alarmAt = await this.#work.storage.getAlarm();
  }

  /** Something changed: run within one tick (a no-op when a run is already armed). */
  schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch((error) => console.error("presence: tick failed", error));
    }, this.#work.tickMs());
  }

  /**
   * Work found a deadline of its own after the last run (a webhook retry): the alarm is moved
   * to fire by `at`, with no run now.
   */
  cover(at: number): Promise<void> {
    const next = this.#chain.then(() => this.#armBy(at, this.#work.now()));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** The storage alarm fired. */
  alarm(): Promise<void> {
    this.#alarmAt = null;
    return this.flush();
  }

  /** Runs now (after any run in progress), then sets the alarm for the next deadline. */
  flush(): Promise<void> {
    const next = this.#chain.then(() => this.#runOnce());
    // A failed run must not block the ones after it; the caller still sees the failure.
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #runOnce(): Promise<void> {
    const now = this.#work.now();
    await this.#work.run(now);
    const next = this.#work.nextDeadline();
    if (next !== null) await this.#armBy(next, now);
  }

  /** Sets the alarm to `at` unless one is set earlier (and still ahead). */
  async #armBy(at: number, now: number): Promise<void> {
    if (this.#alarmAt !== null && this.#alarmAt <= at && this.#alarmAt > now) return;
    this.#alarmAt = at;
    await this.#work.storage.setAlarm(at);
  }
}
