/**
 * The channel room's counters of what it refused, rejected and closed, by reason, and of its
 * events, push deliveries and webhook deliveries; persisted with the room's meta row, so they
 * survive a restart (and travel to the index, for GET /metrics).
 */
import { CloseCode, type RoomStats } from "../protocol/index.ts";

/** The counters as stored and reported. */
export type Counters = Pick<RoomStats, "refusedConnections" | "refusedRequests" | "rejectedMessages" | "replacedClients" | "closes" | "events" | "pushes" | "webhookDeliveries">;

/** Every group, empty. */
export function emptyCounters(): Counters {
  return { refusedConnections: {}, refusedRequests: {}, rejectedMessages: {}, replacedClients: {}, closes: {}, events: {}, pushes: {}, webhookDeliveries: {} };
}

/** Counters by group and reason, with a flag for "changed since last saved". */
export class StatsCounters {
  #counters: Counters = emptyCounters();
  #dirty = false;

  /** Restores the counters saved before a restart. */
  restore(saved: Partial<Counters> | undefined): void {
    if (saved) this.#counters = { ...this.#counters, ...saved };
  }

  /** Counts one event (or `n`) of `group` for `reason`. */
  count(group: keyof Counters, reason: string, n = 1): void {
    if (n <= 0) return;
    const counters = this.#counters[group];
    counters[reason] = (counters[reason] ?? 0) + n;
    this.#dirty = true;
  }

  /** Counts a close the room made, by the close code's name. */
  countClose(code: number): void {
    this.count("closes", closeName(code));
  }

  /** Whether a count changed since the last `saved()`. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** The counters to persist; clears the dirty flag. */
  saved(): Counters {
    this.#dirty = false;
    return this.#counters;
  }

  /** The counters to report. */
  get counters(): Counters {
    return this.#counters;
  }
}

function closeName(code: number): string {
  const entry = Object.entries(CloseCode).find(([, value]) => value === code);
  return entry ? entry[0] : String(code);
}
