/** Users across channels (the directory), pushes to a user's clients, and webhooks. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import { MAX_USERS_PER_REQUEST } from "../wire/limits.ts";
import { ChannelName, ClientType, ClientTypeCounts, JsonValue, UserId } from "./basics.ts";
import { Member, PresenceAction } from "./members.ts";

// ---------------------------------------------------------------------------------------
// Users across channels (the user directory)

export { MAX_USERS_PER_REQUEST } from "../wire/limits.ts";

/** One channel a user is online in, with its clients there. */
export const UserChannel = z.object({
  channel: ChannelName,
  clientAmount: z.number().int().positive(),
  clientTypes: ClientTypeCounts,
}).meta({ id: "UserChannel" });
export type UserChannel = z.infer<typeof UserChannel>;

/**
 * A user's status across every channel, from the user directory. A user the directory does
 * not know (never seen, or forgotten after retention) is `{id, online: false, lastSeen: null}`.
 */
export const UserStatus = z.object({
  id: UserId,
  /** Online while at least one channel has a live (or in-grace) client of the user. */
  online: z.boolean(),
  /** When the user entered its current status (absent for an unknown user). */
  since: z.number().optional(),
  /** Offline: when its last client anywhere was last seen. Online: when it came online. null: never seen. */
  lastSeen: z.number().nullable(),
  /** The userData of its most recent connect or update, in any channel. */
  data: JsonValue.optional(),
  /** The channels it is online in now. */
  channels: z.array(UserChannel).optional(),
}).meta({ id: "UserStatus" });
export type UserStatus = z.infer<typeof UserStatus>;

/** The user ids of a status request or a watch list: 1 to 1,000 userIds. */
export const UserIds = z
  .array(UserId)
  .min(1, "name at least one user: ?userId=ID")
  .max(MAX_USERS_PER_REQUEST, `at most ${MAX_USERS_PER_REQUEST} users per request`);

/** `POST /users` body: `{userIds: [...]}` (for lists too long for a query string). */
export const UsersRequest = z.object({ userIds: UserIds });

/** The answer of `/users`: each user asked for, by id. */
export const UsersResponse = z.object({
  code: z.literal(200),
  content: z.object({ users: z.record(z.string(), UserStatus) }),
});
export type UsersResponse = z.infer<typeof UsersResponse>;

// ---------------------------------------------------------------------------------------
// Push to a user's clients

/** A push id: 1–128 letters, digits and `_-.:` (the service makes one when the caller gives none). */
export const PushId = z
  .string()
  .min(1, "a push id is empty")
  .max(128, "a push id is longer than 128 characters")
  .regex(/^[A-Za-z0-9_\-.:]+$/, "a push id may only hold letters, digits and _-.:")
  .meta({ id: "PushId" });

/** `POST /users/USERID/push`: what to deliver to the user's live clients, and which. */
export const PushRequest = z.object({
  /** Any JSON, at most PRESENCE_MAX_PUSH_BYTES of it. */
  data: JsonValue,
  /** Makes the push idempotent for 10 minutes: the same id again delivers nothing new and answers as the first time. */
  id: PushId.optional(),
  /** Only the user's clients in this channel. */
  channel: ChannelName.optional(),
  /** Only the user's clients of this type. */
  clientType: ClientType.optional(),
  /** How long to wait for acknowledgements (default 5000, at most PRESENCE_MAX_PUSH_TIMEOUT_MS). */
  timeoutMs: z.number().int().min(1).optional(),
});
export type PushRequest = z.infer<typeof PushRequest>;

/** A client a push was sent to. */
export const PushTarget = z.object({
  channel: ChannelName,
  connectionId: z.string(),
  clientType: ClientType.optional(),
}).meta({ id: "PushTarget" });
export type PushTarget = z.infer<typeof PushTarget>;

/** Why a targeted client did not acknowledge: no answer in time, gone, or its handler failed (a negative ack). */
export const PushMissReason = z.enum(["timeout", "closed", "rejected"]);

/** A client that did not acknowledge, and why. */
export const PushMiss = PushTarget.extend({
  reason: PushMissReason,
  /** With `rejected`: what the client's handler threw. */
  error: z.string().optional(),
}).meta({ id: "PushMiss" });
export type PushMiss = z.infer<typeof PushMiss>;

/** The answer to a push, once every targeted client acknowledged or the time ran out. */
export const PushResult = z.object({
  id: PushId,
  /** How many clients it was sent to (0 at once for a user with no live client). */
  clients: z.number().int().nonnegative(),
  acked: z.array(PushTarget),
  unacked: z.array(PushMiss),
  /** Channels whose room could not be asked (their clients are not counted above). */
  failedChannels: z.array(z.object({ channel: ChannelName, error: z.string() })).optional(),
}).meta({ id: "PushResult" });
export type PushResult = z.infer<typeof PushResult>;

/** The envelope of a push's answer. */
export const PushResponse = z.object({ code: z.literal(200), content: PushResult });

// ---------------------------------------------------------------------------------------
// Disconnecting a user

/** The longest ban: a year, in seconds. */
export const MAX_BAN_SECONDS = 365 * 24 * 3600;

/** `POST /users/USERID/disconnect`: close every client of a user (or those in `channel`), and with `banSeconds` keep the user out. */
export const DisconnectRequest = z.strictObject({
  /** Told to each socket in its `kicked` error frame, and kept with a ban (at most 200 characters). */
  reason: z.string().max(200, "reason is longer than 200 characters").optional(),
  /** Only the user's clients in this channel (required with PRESENCE_DIRECTORY=off). */
  channel: ChannelName.optional(),
  /** Also ban the user, everywhere, for this many seconds (1 to a year): its connects, HTTP clients and tokens are refused with 403 `banned`. */
  banSeconds: z
    .number()
    .int("banSeconds is a whole number of seconds")
    .min(1, "banSeconds is at least 1")
    .max(MAX_BAN_SECONDS, `banSeconds is at most ${MAX_BAN_SECONDS} (a year)`)
    .optional(),
}).meta({ id: "DisconnectRequest" });
export type DisconnectRequest = z.infer<typeof DisconnectRequest>;

/** One client a disconnect closed (a socket) or removed (an HTTP client). */
export const KickedClient = z.object({ connectionId: z.string(), clientType: ClientType.optional() }).meta({ id: "KickedClient" });
export type KickedClient = z.infer<typeof KickedClient>;

/** The answer to a disconnect: what was closed, per channel. */
export const DisconnectResult = z.object({
  userId: UserId,
  /** How many clients were closed or removed, in all. */
  clients: z.number().int().nonnegative(),
  channels: z.array(z.object({ channel: ChannelName, clients: z.array(KickedClient) })),
  /** Channels whose room could not be asked. */
  failedChannels: z.array(z.object({ channel: ChannelName, error: z.string() })).optional(),
  /** With `banSeconds`: when the ban ends (epoch ms). */
  bannedUntil: z.number().int().optional(),
}).meta({ id: "DisconnectResult" });
export type DisconnectResult = z.infer<typeof DisconnectResult>;

/** The envelope of a disconnect's answer. */
export const DisconnectResponse = z.object({ code: z.literal(200), content: DisconnectResult });

// ---------------------------------------------------------------------------------------
// Bans

/** The most bans in force at once: the list travels whole to each edge isolate. */
export const MAX_BANS = 10_000;

/** A user kept out of the service until `until` (epoch ms). */
export const Ban = z.object({
  userId: UserId,
  until: z.number().int(),
  /** The disconnect's reason. */
  reason: z.string().max(200),
  bannedAt: z.number().int(),
}).meta({ id: "Ban" });
export type Ban = z.infer<typeof Ban>;

/** `GET /users/USERID/ban`: the user's ban, if one is in force. */
export const BanStatus = z.object({ userId: UserId, banned: z.boolean(), ban: Ban.optional() }).meta({ id: "BanStatus" });
export type BanStatus = z.infer<typeof BanStatus>;

/** The envelope of a ban's status. */
export const BanStatusResponse = z.object({ code: z.literal(200), content: BanStatus });

/** `DELETE /users/USERID/ban`: whether a ban was in force and is now lifted. */
export const BanLifted = z.object({ userId: UserId, lifted: z.boolean() }).meta({ id: "BanLifted" });
export type BanLifted = z.infer<typeof BanLifted>;

/** The envelope of a lifted ban. */
export const BanLiftedResponse = z.object({ code: z.literal(200), content: BanLifted });

// ---------------------------------------------------------------------------------------
// Webhooks

/** One channel event, as a webhook carries it: the action, the member after it, the channel's counts, and the diff's sequence number. */
export const WebhookChannelEvent = z.object({
  type: PresenceAction,
  channel: ChannelName,
  /** The channel's diff sequence number: events of one channel arrive in this order. */
  seq: z.number().int().positive(),
  member: Member,
  clientAmount: z.number().int().nonnegative(),
  userAmount: z.number().int().nonnegative(),
}).meta({ id: "WebhookChannelEvent" });
export type WebhookChannelEvent = z.infer<typeof WebhookChannelEvent>;

/**
 * A channel's occupancy changed, in the same batch as the tick's presence events (first, for
 * `channel.occupied`; last, for `channel.vacated`): its first member came online, or its last
 * went offline or left. Grace applies, so a reload sends neither.
 */
export const WebhookOccupancyEvent = z.object({
  type: z.enum(["channel.occupied", "channel.vacated"]),
  channel: ChannelName,
  /** The diff sequence number of the tick that changed it. */
  seq: z.number().int().positive(),
  clientAmount: z.number().int().nonnegative(),
  userAmount: z.number().int().nonnegative(),
}).meta({ id: "WebhookOccupancyEvent" });
export type WebhookOccupancyEvent = z.infer<typeof WebhookOccupancyEvent>;

/** One user-level event from the user directory: online somewhere, or offline everywhere (after grace). */
export const WebhookUserEvent = z.object({
  type: z.enum(["user.online", "user.offline"]),
  userId: UserId,
  /** When it happened (epoch ms). */
  at: z.number(),
  status: UserStatus,
}).meta({ id: "WebhookUserEvent" });
export type WebhookUserEvent = z.infer<typeof WebhookUserEvent>;

/**
 * The body of a webhook request (Standard Webhooks: `{type, timestamp, data}`): one tick's
 * events of one channel (its presence events and occupancy changes), or of one directory
 * part, in order. The `webhook-id` header stays
 * the same across retries.
 */
export const WebhookPayload = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("presence.events"),
    /** When the batch was made (ISO 8601). */
    timestamp: z.string(),
    /** The channel's events of one tick, in order. */
    data: z.object({ channel: ChannelName, events: z.array(z.union([WebhookChannelEvent, WebhookOccupancyEvent])) }),
  }),
  z.object({
    type: z.literal("user.events"),
    /** When the batch was made (ISO 8601). */
    timestamp: z.string(),
    /** One directory part's (`p0`, `p1`, …) user events of one tick, in order. */
    data: z.object({ part: z.string(), events: z.array(WebhookUserEvent) }),
  }),
]);
export type WebhookPayload = z.infer<typeof WebhookPayload>;
