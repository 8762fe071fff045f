/**
 * What the fan-in simulation asks of a design: how a channel room reports (the hooks its ticks
 * run, and where its calls' replies go) and how an edge isolate checks a connect against the ban
 * list (read from the root, or from a ban replica that reads the root, each played here by the
 * real `BanCache`). The objects a request goes into are the ones the real code names in its calls (its
 * `party` and `room`), so a design that shards the index or the directory plugs in here with
 * its own reporters and is counted the same way.
 */
import type { Parties } from "../../party/server/calls.ts";
import { BAN_REPLICA_REFRESH_MS, BanCache } from "../../party/server/ban-cache.ts";
import { type Config, DEFAULT_CONFIG } from "../../party/server/config.ts";
import { DirectoryReporter } from "../../party/channel/directory-reporter.ts";
import type { Outbox } from "../../party/channel/effects.ts";
import { IndexReporter } from "../../party/channel/index-reporter.ts";
import type { PresenceState } from "../../party/channel/presence.ts";
import { directoryHook, indexHook, type TickHook } from "../../party/channel/tick-hooks.ts";
import { copyCounters, zeroCounters } from "../../party/server/counters.ts";
import type { ChannelMode } from "../../party/protocol/index.ts";
import { banReplicaNumber, INDEX_PARTY, INDEX_ROOM } from "../../party/wire/parties.ts";

/** A channel room's reporting, as the design wires it. */
export type ChannelReporting = {
  /** What runs once a tick is out (the room's `published` hooks that call other parties). */
  hooks: TickHook[];
  /** A call of the room's came back (what `ChannelCore.replied` does with it). */
  replied(ticket: number, result: { reply: unknown } | { error: string }, now: number): void;
};

/** An edge isolate: what a connect or an HTTP client's heartbeat costs it before it reaches the room. */
export type Isolate = {
  /** The user's ban check (its copy of the list, read from wherever the design keeps it). */
  check(userId: string, parties: Parties): Promise<unknown>;
};

/** A design under test. */
export type Design = {
  name: string;
  /** The settings every room runs with (lease, directory parts, tick). */
  config: Config;
  /** The reporting of one channel room; its calls go through `out`, its counts come from `members`. */
  channel(name: string, out: Outbox, members: PresenceState): ChannelReporting;
  /** The edge's isolates of one run, on the simulation's clock, `random` drawing each one's replica (a run's own state: the replicas too). */
  isolates(count: number, now: () => number, random: () => number): Isolate[];
};

/** Where the isolates read the ban list: `root` (`index/all`, every isolate every 5 s: the design before replicas), or `replicas` (PRESENCE_BAN_REPLICAS rooms `index/bans-N`, each reading the root at most once a second). */
export type BanReads = "root" | "replicas";

/**
 * The design as the code stands: channel rooms report to `PRESENCE_INDEX_SHARDS` index shards (`index/sN`; with 1, one hot
 * object as before the shards; their forwarding to the root `index/all` is played by the simulation when asked), and to
 * `PRESENCE_DIRECTORY_PARTS` directory rooms; the isolates read the bans from the root, or (`banReads: "replicas"`) from
 * `PRESENCE_BAN_REPLICAS` ban replicas.
 */
export function todayDesign(settings: Partial<Config> = {}, options: { banReads?: BanReads } = {}): Design {
  const config: Config = { ...DEFAULT_CONFIG, ...settings };
  const banReads = options.banReads ?? "root";
  return {
    name: banReads === "root" ? "today" : `today, ${config.banReplicas} ban replicas`,
    config,
    channel(name, out, members) {
      // As ChannelCore wires them (core.ts): the same constructors, the same hooks, the same replies.
      const reporter = new DirectoryReporter({ enabled: config.directory, parts: config.directoryParts, leaseMs: config.leaseMs, channel: name, out });
      const index = new IndexReporter({ channel: name, leaseMs: config.leaseMs, shards: config.indexShards, out });
      // The room's cumulative counters travel with its index reports (GET /metrics): its start, and its events by type, counted with the tick that announces them.
      const counters = zeroCounters();
      counters.starts = 1;
      const countEvents: TickHook = {
        published: ({ diff }) => {
          for (const event of diff?.events ?? []) counters.events[event.action] = (counters.events[event.action] ?? 0) + 1;
        },
        nextDeadline: () => null,
      };
      const snapshot = (mode: ChannelMode) => ({ ...members.counts(), members: members.size, mode, httpClients: 0, counters: copyCounters(counters) });
      return {
        hooks: [countEvents, directoryHook(reporter, members), indexHook(index, snapshot)],
        replied(ticket, result, now) {
          reporter.replied(ticket, result, now, true);
          index.replied(ticket, "reply" in result, now);
        },
      };
    },
    isolates(count, now, random) {
      if (banReads === "root") {
        return Array.from({ length: count }, () => {
          const bans = new BanCache({ now });
          return { check: (userId, parties) => bans.banOf(userId, { parties, room: INDEX_ROOM }) };
        });
      }
      const replicas = Array.from({ length: config.banReplicas }, () => new BanCache({ refreshMs: BAN_REPLICA_REFRESH_MS, now }));
      return Array.from({ length: count }, () => {
        const bans = new BanCache({ now, pick: random() });
        const room = bans.replicaOf(config.banReplicas);
        return { check: (userId, parties) => bans.banOf(userId, { parties: throughReplicas(parties, replicas), room }) };
      });
    },
  };
}

/**
 * The parties as an isolate reaches its ban replica: the call into `index/bans-N` is counted
 * and takes its latency, then the replica answers from its copy (as index/ban-replica.ts does),
 * reading the root through the same counted parties when its copy is over a second old.
 */
function throughReplicas(parties: Parties, replicas: BanCache[]): Parties {
  return {
    reachable: true,
    call: (async (party: typeof INDEX_PARTY, room: string, name: "bans", args: Record<string, never>) => {
      await parties.call(party, room, name, args);
      const replica = replicas[banReplicaNumber(room) ?? -1];
      if (!replica) throw new Error(`no ban replica ${room}`);
      return { bans: await replica.active({ parties, room: INDEX_ROOM }) };
    }) as Parties["call"],
  };
}
