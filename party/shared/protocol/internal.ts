/** Requests between the service's own parts (never accepted from outside). (Part of the protocol: import it from protocol.ts.) */
import { z } from "zod";
import { ChannelName, ClientType, ClientTypeCounts, JsonValue, UserId } from "./basics.ts";
import { PushId, PushMiss, PushRequest, PushTarget, UserIds, UserStatus } from "./users.ts";

// ---------------------------------------------------------------------------------------
// Between the service's own parts (internal requests; never accepted from outside)

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
 * What a channel room sends one directory part in one tick: presence changes and lease
 * renewals of its users there, and which of that part's users its sockets watch.
 */
export const DirectoryReport = z.object({
  kind: z.literal("report"),
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

/** `POST` to a part: the status of some of its users (the edge's /users, a room's new watchers). Answered by `StatusReply`. */
export const StatusQuery = z.object({ kind: z.literal("status"), userIds: UserIds });
export const StatusReply = z.object({ users: z.array(VersionedStatus) });

/** `POST` from a part to a channel room: the users it watches whose status changed in the part's last tick. */
export const WatchedChanges = z.object({ kind: z.literal("watched"), users: z.array(VersionedStatus) });
export type WatchedChanges = z.infer<typeof WatchedChanges>;

/** The edge's note to a room of a connect or request it refused there (counted in the room's stats). */
export const RefusalCount = z.object({
  kind: z.literal("count-refusal"),
  group: z.enum(["refusedConnections", "refusedRequests"]),
  reason: z.string().min(1).max(32),
});

/** What a room is asked to deliver: a push to one user's clients there, sent and acknowledged by `deadline`. */
export const RoomPush = z.object({
  kind: z.literal("deliver"),
  id: PushId,
  userId: UserId,
  data: JsonValue,
  clientType: ClientType.optional(),
  /** Epoch ms: when to stop waiting for acks. */
  deadline: z.number(),
  /** The sending member (a client push), or null for the app server. */
  from: UserId.nullable(),
});
export type RoomPush = z.infer<typeof RoomPush>;

/** A room's answer: each client it sent the push to, and how that went. */
export const RoomPushReply = z.object({ acked: z.array(PushTarget), unacked: z.array(PushMiss) });
export type RoomPushReply = z.infer<typeof RoomPushReply>;

/** What the edge asks of the user's directory part: run a push (it knows the user's channels). */
export const PartPush = z.object({ kind: z.literal("push"), userId: UserId, request: PushRequest, timeoutMs: z.number().int().positive() });

/** Every request a directory part takes. */
export const DirectoryRequest = z.discriminatedUnion("kind", [DirectoryReport, StatusQuery, PartPush]);
