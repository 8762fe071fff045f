/**
 * The tick and alarm loop of a room: a change after a quiet spell runs at once; changes that
 * follow within a tick of the end of a run that sent something arm one timer for the tick's end,
 * and a change during a run waits for that run to end, so a burst costs one run per tick, ticks
 * counted between runs as they were before the rule. Each run is followed by moving the room's
 * single storage alarm to the earliest deadline any part has (grace, idle, retention; later
 * leases and retries). Runs never overlap. Used by every party's room.
 */
import type { HostStorage } from "./host.ts";

/** What the loop drives. */
export type TickWork = {
  /** How long changes are gathered before a run (asked each time: a channel in interval mode gathers longer). */
  tickMs: () => number;
  storage: HostStorage;
  /**
   * One run: apply deadlines, send, persist. True when it sent something (a diff): only such a
   * run holds the changes after it for a tick; one that only swept deadlines does not.
   * `sendFrom`: a run before this time (one the alarm ran for a deadline, within the tick after
   * a send) should keep its changes until then, and leave that time as a deadline (null: it may send).
   */
  run: (now: number, sendFrom: number | null) => Promise<boolean>;
  /** The earliest time a run has work to do, or null. */
  nextDeadline: () => number | null;
  /** The room's clock. */
  now: () => number;
};

/**
 * How long a change waits for its run: not at all after a quiet spell (nothing sent for a whole
 * tick, or nothing yet), so a lone change is seen at once; otherwise until a tick after the end
 * of the last run that sent something, so the changes of a burst are coalesced into one run per
 * tick, and runs are never closer than a tick.
 */
export function waitForRun(lastSentAt: number | null, tickMs: number, now: number): number {
  if (lastSentAt === null) return 0;
  return Math.max(0, lastSentAt + tickMs - now);
}

/** One timer per tick, one storage alarm per room. */
export class TickLoop {
  readonly #work: TickWork;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #alarmAt: number | null = null;
  /** When the last run that sent something ended (null: none yet). */
  #lastSentAt: number | null = null;
  /** A run is under way: a change now waits for its end (it is not in the run's diff). */
  #running = false;
  /** A change came during the run under way. */
  #changedDuringRun = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(work: TickWork) {
    this.#work = work;
  }

  /** Reads the alarm already set (after a restart or wake), so it is not set again needlessly. */
  async load(): Promise<void> {
    this.#alarmAt = await this.#work.storage.getAlarm();
  }

  /**
   * Something changed: run at once after a quiet spell, else at the tick's end (a no-op when a
   * run is already armed); during a run, once it has ended.
   */
  schedule(): void {
    if (this.#running) {
      this.#changedDuringRun = true;
      return;
    }
    if (this.#timer !== null) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.flush().catch((error) => console.error("presence: tick failed", error));
      },
      waitForRun(this.#lastSentAt, this.#work.tickMs(), this.#work.now()),
    );
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
    // This run takes every change made so far (the alarm's run too): a timer armed for them is not needed.
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#running = true;
    try {
      const sendFrom = this.#lastSentAt === null ? null : this.#lastSentAt + this.#work.tickMs();
      if (await this.#work.run(now, sendFrom !== null && now < sendFrom ? sendFrom : null)) this.#lastSentAt = this.#work.now();
    } finally {
      this.#running = false;
      if (this.#changedDuringRun) {
        this.#changedDuringRun = false;
        this.schedule();
      }
    }
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
