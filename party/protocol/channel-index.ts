/** The channel index and the dashboard's access: what rooms report, what dashboards hear. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import type * as wire from "../wire/types.ts";
import { ChannelName } from "./basics.ts";
import type { Exactly } from "./exactly.ts";
import { ChannelMode } from "./members.ts";

/** One active channel as the index knows it. */
export const ChannelEntry = z
  .object({
    channel: ChannelName,
    clientAmount: z.number().int().nonnegative(),
    userAmount: z.number().int().nonnegative(),
    /** Members online and offline. */
    members: z.number().int().nonnegative(),
    mode: ChannelMode,
    /** When the room last reported (epoch ms). */
    updatedAt: z.number(),
  })
  .meta({ id: "ChannelEntry" });
export type ChannelEntry = Exactly<z.output<typeof ChannelEntry>, wire.ChannelEntry>;

const Count = z.number().int().nonnegative();
const ByKey = z.record(z.string(), Count);

/**
 * A channel room's cumulative counters (its `?stats` groups, and its starts), as it reports
 * them to the index for `GET /metrics`: counted since the part the index already folded into
 * its retired total (see docs/architecture.md, "Metrics").
 */
export const RoomCounters = z.object({
  /** How many times the room started (first load, restarts, wakes after eviction). */
  starts: Count,
  refusedConnections: ByKey,
  refusedRequests: ByKey,
  rejectedMessages: ByKey,
  replacedClients: ByKey,
  closes: ByKey,
  /** Presence events announced, by type. */
  events: ByKey,
  /** Pushes delivered, and the clients' outcomes (acked, rejected, timeout, closed). */
  pushes: ByKey,
  /** Webhook batches delivered, attempts failed, batches dead-lettered. */
  webhookDeliveries: ByKey,
});
export type RoomCounters = z.infer<typeof RoomCounters>;

/**
 * From a channel room to the index (internal): its counts now, at most once a second
 * while they change and every third of the lease while it is active. A room with no online
 * member and no client reports `active: false`, and the index drops it. `httpClients` and
 * `counters` feed `GET /metrics` (a room whose counters change reports them even while
 * inactive, as `active: false`).
 */
export const IndexReport = z.object({
  active: z.boolean(),
  entry: ChannelEntry,
  httpClients: Count.optional(),
  counters: RoomCounters.optional(),
  /** How many times the index retired this room's counters (the room counts from them after each): a report of the same generation continues what the index holds or retired last, a later one starts anew. */
  gen: Count.optional(),
});
export type IndexReport = z.infer<typeof IndexReport>;

/**
 * From an index shard (`index/s0`…) to the root (`index/all`, internal): the shard's channel
 * entries that changed and the channels it dropped since its last report the root answered,
 * at most once a second while something changes and every third of the lease at rest (a
 * renewal of the shard's lease at the root, possibly empty). `full`: `channels` is the shard's
 * whole table, and the root drops what it held of the shard beyond it (a shard's first report
 * after its start, or when the root asked for it).
 */
export const ShardReport = z.object({
  shard: z.string().regex(/^s\d{1,4}$/, "must be an index shard's room name, s0…"),
  full: z.boolean(),
  channels: z.array(ChannelEntry),
  removed: z.array(ChannelName),
});
export type ShardReport = z.infer<typeof ShardReport>;

/** The root's answer to a shard: `full` asks for the shard's whole table next (the root did not hold the shard: it started anew, or the shard's lease lapsed). */
export const ShardReportReply = z.object({ full: z.boolean() });
export type ShardReportReply = z.infer<typeof ShardReportReply>;

/**
 * The index's answer for `GET /metrics`: the sums over active channels (gauges), and the
 * counters of every channel, those that dropped out of the index included (never decreasing).
 */
export const MetricsTotals = z.object({
  /** Active channels. */
  channels: Count,
  /** Clients, summed over active channels (a user's client in two channels counts twice). */
  clientAmount: Count,
  /** Online users, summed over active channels. */
  userAmount: Count,
  httpClients: Count,
  /** Members (online and offline) of active channels, by the channel's mode. */
  members: z.object({ full: Count, interval: Count }),
  counters: RoomCounters,
});
export type MetricsTotals = z.infer<typeof MetricsTotals>;

/** Index → dashboard socket: the whole list first (`full`), then what changed and which channels went away. */
export const ChannelsMessage = z
  .object({
    type: z.literal("channels"),
    full: z.boolean(),
    channels: z.array(ChannelEntry),
    removed: z.array(ChannelName),
  })
  .meta({ id: "ChannelsMessage" });
export type ChannelsMessage = z.infer<typeof ChannelsMessage>;

/** Active channels, most members first: `total` of them match, `channels` the first `limit`. */
export const ChannelList = z.object({ total: z.number().int(), channels: z.array(ChannelEntry) }).meta({ id: "ChannelList" });
export type ChannelList = z.infer<typeof ChannelList>;

/** `GET /channels?q=&limit=`: the channel list. */
export const ChannelsResponse = z.object({ code: z.literal(200), content: ChannelList });

/** What `GET /channels` asks the index: names containing `q`, at most `limit` of them. */
export const ChannelListQuery = z.object({ q: z.string().max(128), limit: z.number().int().min(1).max(10_000) });
export type ChannelListQuery = z.infer<typeof ChannelListQuery>;
export type ChannelsResponse = z.infer<typeof ChannelsResponse>;

/**
 * `POST /admin/token` (server key, or a still-valid admin token): a short-lived admin token
 * for the dashboard's sockets and calls. `open`: no server key is set and client auth is off
 * (development): no token is needed.
 */
export const AdminSession = z.object({
  open: z.boolean(),
  /** Whether client auth (PRESENCE_AUTH_*) is on. */
  auth: z.boolean(),
  /** The admin token (null when the dashboard is open). */
  token: z.string().nullable(),
  /** When the token expires (epoch ms). */
  expiresAt: z.number().nullable(),
}).meta({ id: "AdminSession" });
export type AdminSession = z.infer<typeof AdminSession>;

/** `POST /admin/token`'s answer. */
export const AdminSessionResponse = z.object({ code: z.literal(200), content: AdminSession });

/** `GET /admin` (no credentials): whether the dashboard is open, and whether a server key can open it. */
export const AdminInfo = z.object({
  open: z.boolean(),
  auth: z.boolean(),
  /** Whether PRESENCE_SERVER_KEY is set (without it, and with client auth on, the dashboard cannot open). */
  serverKey: z.boolean(),
}).meta({ id: "AdminInfo" });
export type AdminInfo = z.infer<typeof AdminInfo>;

/** `GET /admin`'s answer. */
export const AdminInfoResponse = z.object({ code: z.literal(200), content: AdminInfo });
