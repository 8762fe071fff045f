/**
 * A channel room's cumulative counters (`RoomCounters`) as numbers to add up: the room
 * subtracts what the index already retired before it reports, the index adds the reports up
 * for `GET /metrics` and keeps each channel's highest so its totals never decrease. Pure.
 */
import type { RoomCounters } from "../protocol/index.ts";

/** The groups counted by key (all but `starts`). */
export const COUNTER_GROUPS = ["refusedConnections", "refusedRequests", "rejectedMessages", "replacedClients", "closes", "events", "pushes", "webhookDeliveries"] as const;
export type CounterGroup = (typeof COUNTER_GROUPS)[number];

/**
 * How long the index keeps the counters of a channel whose lease lapsed (its room went quiet
 * without a word) apart from its retired total: a room that comes back within this time takes
 * them up again, and a room that was silent longer knows the index retired them.
 */
export const LAPSED_KEEP_MS = 7 * 24 * 3600_000;

/** Every counter zero. */
export function zeroCounters(): RoomCounters {
  return { starts: 0, refusedConnections: {}, refusedRequests: {}, rejectedMessages: {}, replacedClients: {}, closes: {}, events: {}, pushes: {}, webhookDeliveries: {} };
}

/** Combines two sets of counters key by key (a key missing on one side counts 0); zeros are left out. */
function combine(a: RoomCounters, b: RoomCounters, op: (x: number, y: number) => number): RoomCounters {
  const out = zeroCounters();
  out.starts = op(a.starts, b.starts);
  for (const group of COUNTER_GROUPS) {
    const left = a[group] ?? {};
    const right = b[group] ?? {};
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      const value = op(left[key] ?? 0, right[key] ?? 0);
      if (value > 0) out[group][key] = value;
    }
  }
  return out;
}

/** A copy (the room's counters go on counting after a report is made of them). */
export function copyCounters(counters: RoomCounters): RoomCounters {
  return combine(counters, zeroCounters(), (x) => x);
}

/** a + b. */
export function addCounters(a: RoomCounters, b: RoomCounters): RoomCounters {
  return combine(a, b, (x, y) => x + y);
}

/** a − b, never below zero (a counter the room lost in a crash does not count back). */
export function subtractCounters(a: RoomCounters, b: RoomCounters): RoomCounters {
  return combine(a, b, (x, y) => Math.max(0, x - y));
}

/** The higher of each counter. */
export function maxCounters(a: RoomCounters, b: RoomCounters): RoomCounters {
  return combine(a, b, Math.max);
}

/** Whether every counter is zero. */
export function isZero(counters: RoomCounters): boolean {
  return counters.starts === 0 && COUNTER_GROUPS.every((group) => Object.values(counters[group] ?? {}).every((n) => n === 0));
}
