/**
 * What hangs off the channel's tick: each part that does something with every tick says so
 * through one interface, instead of the tick knowing each. History and webhooks add rows to the
 * tick's writes (stored before anyone hears of the tick); the directory's and the index's
 * reports and the watchers' news go once the tick is out.
 */
import type { PresenceState, TickDiff } from "./presence.ts";
import type { ChannelMode } from "../protocol/index.ts";
import type { DirectoryReporter } from "./directory-reporter.ts";
import type { HistoryLog } from "./history.ts";
import type { IndexReporter, IndexSnapshot } from "./index-reporter.ts";
import type { Outbox } from "./effects.ts";
import type { Watching } from "./watching.ts";
import type { WebhookQueue } from "./webhook-queue.ts";

/** One tick, as its hooks see it. */
export type Tick = {
  now: number;
  /** The tick's changes (null: nothing to publish this time). */
  diff: TickDiff | null;
  /** The diff's number. */
  seq: number;
  /** Whether the channel was occupied as clients last heard it, before this tick. */
  wasOccupied: boolean;
  /** The mode after the tick. */
  mode: ChannelMode;
  /** Whether other parties can be called now (PartyKit: not from a room its alarm woke, until a request or message). */
  reachable: boolean;
};

/** A part that works with every tick. */
export type TickHook = {
  /** Before the tick is stored: its own rows, written with the tick's. */
  storing?(tick: Tick): void;
  /** The tick is out (clients have it): reports, deliveries, news. */
  published?(tick: Tick): void;
  /** When the part next has work of its own, or null. */
  nextDeadline(): number | null;
};

/** The tick's events as history rows, written with the tick's members. */
export function historyHook(history: HistoryLog, out: Outbox): TickHook {
  return {
    storing: ({ diff, seq, now }) => {
      if (!diff) return;
      const { rows, drops } = history.append(diff.events, seq, now);
      out.write(rows, drops);
    },
    nextDeadline: () => history.nextSweep(),
  };
}

/** The tick's events as one webhook batch (stored with the tick), and the next batch handed out once it is out. */
export function webhookHook(webhooks: WebhookQueue): TickHook {
  return {
    storing: ({ diff, seq, wasOccupied, now }) => diff && webhooks.enqueue(diff, seq, wasOccupied, now),
    published: ({ now }) => webhooks.dispatch(now),
    nextDeadline: () => webhooks.nextDeadline(),
  };
}

/** The directory hears of the tick's changes, and of every online member when a lease renewal is due. */
export function directoryHook(reporter: DirectoryReporter, members: PresenceState): TickHook {
  return {
    published: ({ diff, now, reachable }) => {
      if (diff) reporter.changes(diff, now);
      if (reporter.renewalDue(now)) reporter.renew(members.online(), now);
      reporter.flush(now, reachable);
    },
    nextDeadline: () => reporter.nextRenewal(),
  };
}

/** The index hears of the channel's counts and counters (at most once a second, and renewed). */
export function indexHook(index: IndexReporter, snapshot: (mode: ChannelMode) => IndexSnapshot): TickHook {
  return {
    published: ({ now, mode, reachable }) => {
      index.note(snapshot(mode), now);
      index.flush(now, reachable);
    },
    nextDeadline: () => index.nextDeadline(),
  };
}

/** Watching sockets get the statuses they are owed. */
export function watchersHook(watching: Watching): TickHook {
  return { published: () => watching.send(), nextDeadline: () => null };
}
