/**
 * What the service's own parties send each other (never accepted from outside): the
 * arguments and replies of the calls in calls.ts. (Part of the protocol: import it from
 * protocol/index.ts.)
 */
import { z } from "zod";
import { ChannelName, ClientType, ClientTypeCounts, ConnectionId, JsonValue, UserId } from "./basics.ts";
import { KickedClient, PushId, PushMiss, PushTarget, UserIds, UserStatus } from "./users.ts";
import { ChannelMode, Counts, Member, PresenceEvent } from "./members.ts";

/** One user's presence in a channel, as a room reports it to the directory. */
export const PresenceReport = z.discriminatedUnion("present", [
  z.object({
    present: z.literal(true),
    userId: UserId,
    clients: z.number().int().positive(),
    clientTypes: ClientTypeCounts,
    data: JsonValue,
  }),
  z.object({
    present: z.literal(false),
    userId: UserId,
    /** When its last client in the channel was last seen. */
    lastSeen: z.number(),
  }),
]);
export type PresenceReport = z.infer<typeof PresenceReport>;

/**
 * What a channel room tells one directory part in one tick: presence changes and lease
 * renewals of its users there, and which of that part's users its sockets watch.
 */
export const DirectoryReport = z.object({
  channel: ChannelName,
  /** Changed or renewed presences; each `present` one holds the lease for PRESENCE_LEASE_MS from now. */
  presence: z.array(PresenceReport),
  /** `all`: these are every user the channel has online in this part (a start or a renewal): any other lease of the channel here is gone. */
  all: z.boolean(),
  /** Users of this part the room's sockets watch now (replaces the room's earlier list here), or null for no change. */
  watch: z.array(UserId).nullable(),
});
export type DirectoryReport = z.infer<typeof DirectoryReport>;

/** A user's status with the version its part gave it: a room keeps only the newest it hears of. */
export const VersionedStatus = z.object({ version: z.number(), status: UserStatus });
export type VersionedStatus = z.infer<typeof VersionedStatus>;

/** The status of some of a part's users (the edge's /users, a room's new watchers). */
export const StatusQuery = z.object({ userIds: UserIds });
export const StatusReply = z.object({ users: z.array(VersionedStatus) });
export type StatusReply = z.infer<typeof StatusReply>;

/** How users were spread over the directory parts: a count, and `mod` (fnv1a % parts, before jump hashing) or `jump`. */
export const PartLayout = z.object({ parts: z.number().int().min(0), hash: z.enum(["mod", "jump"]) });

/** A part's layout now, and the one before it (where users not handed over yet still are), or null. */
export const PartLayouts = z.object({ current: PartLayout, previous: PartLayout.nullable() });

/**
 * A user handed from its old directory part to its new one after PRESENCE_DIRECTORY_PARTS grew:
 * its row as stored, the leases of its channels there, and the rooms that watched it there.
 */
export const HandedUser = z.object({
  id: UserId,
  data: JsonValue,
  online: z.boolean(),
  since: z.number(),
  lastSeen: z.number(),
  offlineAt: z.number().nullable(),
  channels: z.record(ChannelName, z.object({ clients: z.number().int().positive(), clientTypes: ClientTypeCounts })),
  version: z.number(),
  leases: z.record(ChannelName, z.object({ expiresAt: z.number(), renewedAt: z.number() })),
  watchers: z.array(z.object({ room: ChannelName, expiresAt: z.number() })),
});
export type HandedUser = z.infer<typeof HandedUser>;

/** A new part asking an old one for some users now placed at `to`. */
export const HandOverQuery = z.object({ userIds: UserIds, to: z.string().min(1).max(200) });
/** The users the old part had (it keeps them until `handed`), and whether it has no user left to hand over at all. */
export const HandOverReply = z.object({ users: z.array(HandedUser), drained: z.boolean() });

/** Users handed over (the new part stored them): the old part forgets them. */
export const HandedBack = z.object({ userIds: UserIds });

/** An old part's users for this part, sent as it drains: the new part stores those it does not know yet. */
export const Adoption = z.object({ users: z.array(HandedUser).max(1000) });

/** From a part to a channel room: the users it watches whose status changed in the part's last tick. */
export const WatchedChanges = z.object({ users: z.array(VersionedStatus) });
export type WatchedChanges = z.infer<typeof WatchedChanges>;

/** The edge's note to a room of a connect or request it refused there (counted in the room's stats). */
export const RefusalCount = z.object({
  group: z.enum(["refusedConnections", "refusedRequests"]),
  reason: z.string().min(1).max(32),
});
export type RefusalCount = z.infer<typeof RefusalCount>;

/**
 * A push on its way: the edge (or a member's room) makes it from a `PushRequest`, with its id
 * and deadline fixed, and the same object travels to the coordinator (`push`), on to each room
 * (`deliver`), and to each client as the `push` frame's `id`, `data` and `from`.
 */
export const Push = z.object({
  id: PushId,
  userId: UserId,
  data: JsonValue,
  /** Only the user's clients in this channel. */
  channel: ChannelName.optional(),
  /** Only the user's clients of this type. */
  clientType: ClientType.optional(),
  /** Epoch ms: when to stop waiting for acks. */
  deadline: z.number(),
  /** The sending member (a member's push), or null for the app server. */
  from: UserId.nullable(),
});
export type Push = z.infer<typeof Push>;

/** One room's delivery of a push: each client it sent the push to, and how that went. */
export const PushDelivery = z.object({ acked: z.array(PushTarget), unacked: z.array(PushMiss) });
export type PushDelivery = z.infer<typeof PushDelivery>;

/** A disconnect on its way: to the user's directory part, and on to each channel room (`kick`). */
export const Kick = z.object({ userId: UserId, reason: z.string().max(200), channel: ChannelName.optional() });
export type Kick = z.infer<typeof Kick>;

/** What one room closed or removed of the user's clients. */
export const KickedClients = z.object({ clients: z.array(KickedClient) });
export type KickedClients = z.infer<typeof KickedClients>;

/** herenow for one room, as the edge's fan-out asks it (the query already resolved). */
export const HereNowArgs = z.object({
  includeUsers: z.boolean(),
  distinct: z.boolean(),
  limit: z.number().int().min(1),
  cursor: UserId.optional(),
});
export type HereNowArgs = z.infer<typeof HereNowArgs>;

/**
 * An accepted connect, as the edge hands it to the channel room (in a header only the edge
 * sets; server/hand-off.ts): who it is and what its token allows. The room checks it where it
 * reads it, once.
 */
export const AcceptedHandshake = z.object({
  /** null: an observer. */
  userId: UserId.nullable(),
  userData: JsonValue,
  clientType: ClientType.optional(),
  /** Interval mode: how many members, first by userId, it follows. */
  window: z.number().int().nonnegative(),
  /** The token fixed the userData and does not allow `update`. */
  dataLocked: z.boolean(),
  /** When the socket's token expires (epoch ms); null without one. */
  expiresAt: z.number().nullable(),
});
export type AcceptedHandshake = z.infer<typeof AcceptedHandshake>;

/** The most shards one channel spreads over (shard 0, its coordinator, included). */
export const MAX_CHANNEL_SHARDS = 4096;

/**
 * What a channel's shard tells its coordinator about one of its clients (members only: an
 * observer is no one's presence). `connect`: a client joined or came back (or, in a full
 * report, is there); `update`: its user changed its data; `drop`: it was lost without a leave
 * (closed, silent, refused its token), so it is still counted for the grace period; `leave`: it
 * left; `end`: it is gone without grace (kicked, replaced, an HTTP client whose time ran out).
 * `lastSeen`: when the shard last heard from it.
 */
export const ShardClientChange = z.discriminatedUnion("op", [
  z.object({ op: z.literal("connect"), connectionId: ConnectionId, userId: UserId, clientType: ClientType.optional(), data: JsonValue }),
  z.object({ op: z.literal("update"), connectionId: ConnectionId, data: JsonValue }),
  z.object({ op: z.literal("drop"), connectionId: ConnectionId, lastSeen: z.number() }),
  z.object({ op: z.literal("leave"), connectionId: ConnectionId }),
  z.object({ op: z.literal("end"), connectionId: ConnectionId, lastSeen: z.number() }),
]);
export type ShardClientChange = z.infer<typeof ShardClientChange>;

/**
 * From a channel's shard (`main/CHANNEL~k`) to its coordinator (`main/CHANNEL`), once a tick
 * while its clients change and every third of the lease at rest: the changes in order. Each
 * report renews the shard's lease. `full`: `changes` are a `connect` for every client the shard
 * has, and whatever else the coordinator held for the shard is dropped (a shard's first report
 * after its start, or when the coordinator asked for it).
 */
export const ChannelShardReport = z.object({
  shard: z.number().int().min(1).max(MAX_CHANNEL_SHARDS - 1),
  full: z.boolean(),
  changes: z.array(ShardClientChange),
});
export type ChannelShardReport = z.infer<typeof ChannelShardReport>;

/** What a coordinator tells a shard of its channel with each diff or copy: the counts, the mode, the channel's size, and the number of its diff. */
const MirrorHead = Counts.extend({
  /** Which run of the coordinator numbered it (its count of starts): numbers from another run do not follow on. */
  epoch: z.number().int().nonnegative(),
  /** The coordinator's diff number: each diff to a shard is the last one plus one. */
  seq: z.number().int().nonnegative(),
  mode: ChannelMode,
  /** How many members the channel has (online and offline). */
  size: z.number().int().nonnegative(),
});

/**
 * From a channel's coordinator to each of its shards, once a tick with a diff: its changes,
 * for the shard's mirror of what its sockets may see. A shard that finds a diff missing asks for
 * a copy (its next report is full, and the answer carries one).
 */
export const MirrorDiff = MirrorHead.extend({
  /** The diff's events, in order. */
  events: z.array(PresenceEvent),
  /** Members that changed without an event, or came into what the shard may show. */
  quiet: z.array(Member),
  /** Members the shard no longer shows (they left its view, not the channel). */
  out: z.array(UserId),
});
export type MirrorDiff = z.infer<typeof MirrorDiff>;

/** A whole copy of what a shard may show: what it starts from, and takes again after a missed diff. */
export const MirrorCopy = MirrorHead.extend({ members: z.array(Member) });
export type MirrorCopy = z.infer<typeof MirrorCopy>;

/** The coordinator's answer to a shard's report: `full` asks for every client next; `copy`, with the answer to a full report, is the mirror to start from. */
export const ChannelShardReply = z.object({ full: z.boolean(), copy: MirrorCopy.optional() });
export type ChannelShardReply = z.infer<typeof ChannelShardReply>;
