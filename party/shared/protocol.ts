/**
 * The wire protocol: every message, query and response of the presence service, defined
 * once with zod. The room, the client, the HTTP helper, the tests and docs/protocol.md all
 * use these schemas. No `partykit` import here, so browsers and Deno can load it alone.
 */
import { z } from "zod";

import type { JsonValue as Json } from "./json.ts";
import { MAX_USERS_PER_REQUEST } from "./limits.ts";

/** Channel (room) names: 1–128 letters, digits and `_-.:@`. */
export const ChannelName = z
  .string()
  .min(1, "channel name is empty")
  .max(128, "channel name is longer than 128 characters")
  .regex(/^[A-Za-z0-9_\-.:@]+$/, "channel name may only hold letters, digits and _-.:@")
  .meta({ id: "ChannelName" });

/** A user id: any non-empty string of at most 128 characters. */
export const UserId = z
  .string()
  .min(1, "userId is empty")
  .max(128, "userId is longer than 128 characters")
  .meta({ id: "UserId" });

/** A client type tag ("web", "ios", "pc", …): 1–32 letters, digits and `_-.`. */
export const ClientType = z
  .string()
  .min(1, "clientType is empty")
  .max(32, "clientType is longer than 32 characters")
  .regex(/^[A-Za-z0-9_\-.]+$/, "clientType may only hold letters, digits and _-.")
  .meta({ id: "ClientType" });

/** A connection id (partysocket's `_pk`, reused across reconnects): 1–64 letters, digits and `_-.:`. */
export const ConnectionId = z
  .string()
  .min(1, "connection id (_pk) is empty")
  .max(64, "connection id (_pk) is longer than 64 characters")
  .regex(/^[A-Za-z0-9_\-.:]+$/, "connection id (_pk) may only hold letters, digits and _-.:");

/** Any JSON value (the type is `JsonValue` from json.ts; this is its schema). */
export const JsonValue = z.json().meta({ id: "JsonValue" });
/** A JSON value. */
export type JsonValue = Json;

/** The query string of a WebSocket connect: `?userId=…&userData=…&clientType=…`. */
export const ConnectQuery = z.object({
  /** Absent: the socket is an observer (sees presence, is not a member, is not counted). */
  userId: UserId.optional(),
  /** URL-encoded JSON text. */
  userData: z.string().optional(),
  /** What kind of client this is ("web", "app", "pc"…). */
  clientType: ClientType.optional(),
  /** The connection id; partysocket sets it. Absent: the room makes one. */
  _pk: ConnectionId.optional(),
});
export type ConnectQuery = z.infer<typeof ConnectQuery>;

/** Client counts by `clientType`: `{"web": 2, "app": 1}`. Types with no client are left out. */
export const ClientTypeCounts = z.record(ClientType, z.number().int().positive()).meta({ id: "ClientTypeCounts" });
export type ClientTypeCounts = z.infer<typeof ClientTypeCounts>;

/** A channel a token opens: a name, or a prefix followed by `*` (`team-1:*`; `*` alone opens every channel). */
export const ChannelPattern = z
  .string()
  .min(1, "a channel pattern is empty")
  .max(129, "a channel pattern is longer than 129 characters")
  .regex(/^[A-Za-z0-9_\-.:@]*\*?$/, "a channel pattern is a channel name, or a prefix followed by *")
  .meta({ id: "ChannelPattern" });

/**
 * The claims of a client token (a JWT the app server signs; `exp`, `nbf`, `iss` and `aud` are
 * checked as JWT claims). `sub` is the userId; an observer token has `observer: true` and no `sub`.
 */
export const TokenClaims = z
  .object({
    /** The userId this token speaks for. */
    sub: UserId.optional(),
    /** The userData the app vouches for: the client cannot change it unless `dataWritable`. */
    data: JsonValue.optional(),
    /** With `data`: the client may still send `update`. */
    dataWritable: z.boolean().optional(),
    /** The channels (names or `prefix*` patterns) the token opens; absent: every channel. */
    channels: z.array(ChannelPattern).max(1000, "a token names at most 1000 channels").optional(),
    /** Pins the client's type: a different `clientType` in the connect is refused. */
    clientType: ClientType.optional(),
    /** An observer token (no `sub`): sees presence, is no member. */
    observer: z.boolean().optional(),
  })
  .meta({ id: "TokenClaims" });
export type TokenClaims = z.infer<typeof TokenClaims>;

/** Whether a token's `channels` claim opens `channel` (absent: every channel). */
export function channelAllowed(patterns: readonly string[] | undefined, channel: string): boolean {
  if (patterns === undefined) return true;
  return patterns.some((pattern) => (pattern.endsWith("*") ? channel.startsWith(pattern.slice(0, -1)) : pattern === channel));
}

/** Whether a member has at least one live client. */
export const MemberStatus = z.enum(["online", "offline"]).meta({ id: "MemberStatus" });
export type MemberStatus = z.infer<typeof MemberStatus>;

/** A user known to a channel, as clients see it. Times are epoch milliseconds. */
export const Member = z.object({
  /** The userId. */
  id: UserId,
  /** The userData of the member's most recent connect or update. */
  data: JsonValue,
  /** online while at least one client is live (or within grace after the last drop). */
  status: MemberStatus,
  /** How many of the member's clients the channel counts now. */
  clients: z.number().int().nonnegative(),
  /** Those clients by `clientType` (`{"web": 2, "app": 1}`); clients without a type are in `clients` only. */
  clientTypes: ClientTypeCounts,
  /** When the member entered its current status. */
  since: z.number(),
  /** Offline: when its last client was last seen. Online: when it came online (it is seen now). */
  lastSeen: z.number(),
}).meta({ id: "Member" });
export type Member = z.infer<typeof Member>;

/** The presence actions, as GoEasy names them, plus `update`. */
export const PresenceAction = z.enum(["join", "online", "offline", "leave", "update"]).meta({ id: "PresenceAction" });
export type PresenceAction = z.infer<typeof PresenceAction>;

/** Channel counts: live clients of members, and online members. Observers are not counted. */
export const Counts = z.object({
  clientAmount: z.number().int().nonnegative(),
  userAmount: z.number().int().nonnegative(),
});
export type Counts = z.infer<typeof Counts>;

/** One presence event, with the channel's counts after it. */
export const PresenceEvent = Counts.extend({
  action: PresenceAction,
  /** The member after the event (for `leave`, as it was when it left). */
  member: Member,
}).meta({ id: "PresenceEvent" });
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/**
 * One entry of herenow's `users` list: once per client (with that client's `clientType`), or
 * with `distinct` once per user (with its `clientTypes`).
 */
export const HereNowUser = z.object({
  id: UserId,
  data: JsonValue,
  /** Without `distinct`: this client's type, when it has one. */
  clientType: ClientType.optional(),
  /** With `distinct`: the user's clients here by type, when any has a type. */
  clientTypes: ClientTypeCounts.optional(),
}).meta({ id: "HereNowUser" });
export type HereNowUser = z.infer<typeof HereNowUser>;

/** herenow for one channel: GoEasy's fields, plus `clientTypes`; `users` only with includeUsers. */
export const ChannelHereNow = Counts.extend({
  channel: ChannelName,
  /** The counted clients by type. */
  clientTypes: ClientTypeCounts,
  users: z.array(HereNowUser).optional(),
}).meta({ id: "ChannelHereNow" });
export type ChannelHereNow = z.infer<typeof ChannelHereNow>;

/** The options of a herenow request, wherever it comes from (socket, query string, helper). */
export const HereNowOptions = z.object({
  /** List the users (default false). */
  includeUsers: z.boolean().default(false),
  /** List a user once however many clients it has (default false: once per client). */
  distinct: z.boolean().default(false),
});
/** herenow options as a caller gives them (each may be left out). */
export type HereNowOptions = z.input<typeof HereNowOptions>;

/** `true`/`false` (or 1/0) in a query string. */
const QueryBoolean = z.enum(["true", "false", "1", "0", ""]).transform((value) => value === "true" || value === "1");

/** herenow's options in a query string (`?includeUsers=true&distinct=true`), resolved to `HereNowOptions`. */
export const HereNowQuery = z
  .object({ includeUsers: QueryBoolean.optional(), distinct: QueryBoolean.optional() })
  .pipe(HereNowOptions);

/** Most channels one `/herenow` request may name. */
export const MAX_HERENOW_CHANNELS = 100;

/** `/herenow?channel=A&channel=B&…`: the channels, 1 to 100, each a valid name. */
export const HereNowChannels = z
  .array(ChannelName)
  .min(1, "name at least one channel: /herenow?channel=NAME")
  .max(MAX_HERENOW_CHANNELS, `at most ${MAX_HERENOW_CHANNELS} channels per request`);

/** The success envelope of every HTTP answer (GoEasy's shape). */
export const HereNowResponse = z.object({
  code: z.literal(200),
  content: z.object({ channels: z.record(z.string(), ChannelHereNow) }),
});
export type HereNowResponse = z.infer<typeof HereNowResponse>;

/** The error envelope of every HTTP answer: `code` equals the HTTP status. */
export const ErrorResponse = z.object({
  code: z.number().int().min(400).max(599),
  error: z.string(),
  message: z.string(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** Error codes in `error` messages and HTTP error envelopes, with what each means. */
export const ERROR_CODES = {
  bad_request: "HTTP: a bad channel name, query parameter or handshake (400).",
  bad_message: "The frame is not valid JSON, nests too deep, or a field has the wrong type.",
  unknown_message: "The frame's `type` is not one the room knows.",
  too_large: "The frame or the userData is over its size cap.",
  binary_not_supported: "The frame is binary; the protocol is JSON text.",
  rate_limited: "The socket sent more than its token bucket allows.",
  not_a_member: "`update` or `leave` from an observer or a client that left.",
  room_full: "The room is at PRESENCE_MAX_CLIENTS: the socket is closed with 1013 right after.",
  user_full: "The user is at PRESENCE_MAX_CLIENTS_PER_USER in this room: the socket is closed with 1013 right after.",
  unauthorized:
    "HTTP 401: the token is missing, malformed, wrongly signed, of an algorithm not allowed, expired, not yet valid, or from the wrong issuer or audience; or the server key is missing or wrong. The message says which.",
  forbidden:
    "HTTP 403: a valid token that does not open this channel, or names another userId or clientType; an origin not in PRESENCE_ALLOWED_ORIGINS; a server route while no server key is set. As an error frame: an `update` from a client whose token fixes its userData.",
  disabled: "The feature asked for is switched off in the service's settings (the user directory with PRESENCE_DIRECTORY=off; pushes from clients without PRESENCE_CLIENT_PUSH=true).",
  unavailable: "HTTP 503: the service could not check a token because the keys of PRESENCE_AUTH_JWKS_URL could not be fetched; try again.",
  replaced: "A newer client of this user took this socket's place (PRESENCE_CLIENT_POLICY): the socket is closed with 4002 right after.",
  not_found: "HTTP: no such route (404).",
  method_not_allowed: "HTTP: the route does not take this method (405).",
  misconfigured: "The room's environment variables are invalid (500); the message names them.",
  internal: "The room failed to handle a message (a bug; it is logged and counted), or HTTP: a room behind a multi-channel request failed (502).",
} as const;
export const ErrorCode = z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]).meta({ id: "ErrorCode" });
export type ErrorCode = z.infer<typeof ErrorCode>;

/** A room's (or a directory part's) webhook delivery, as its stats show it. */
export const WebhookStats = z.object({
  enabled: z.boolean(),
  /** Batches waiting to be delivered, oldest first. */
  pending: z.number().int().nonnegative(),
  /** Batches that failed every attempt: re-send them with `POST ?webhooks=resend`. */
  deadLetters: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  failedAttempts: z.number().int().nonnegative(),
  /** The endpoint answered 410 Gone: nothing is sent until PRESENCE_WEBHOOK_URL changes. */
  disabled: z.boolean(),
  /** The last failure, if any. */
  lastError: z.string().optional(),
}).meta({ id: "WebhookStats" });
export type WebhookStats = z.infer<typeof WebhookStats>;

/** Counters a room keeps of what it refused, rejected and closed. */
export const RoomStats = z.object({
  channel: ChannelName,
  clientAmount: z.number().int(),
  userAmount: z.number().int(),
  members: z.number().int(),
  sockets: z.number().int(),
  /** How many times the room has started: its first load, and every restart or wake after an eviction. */
  starts: z.number().int(),
  /** Connects refused, by reason: at the edge (bad_handshake, unauthorized, forbidden, origin, unavailable) or in the room (room_full, user_full). */
  refusedConnections: z.record(z.string(), z.number().int()),
  /** HTTP requests to the room refused at the edge, by reason (unauthorized, forbidden, unavailable). */
  refusedRequests: z.record(z.string(), z.number().int()),
  /** Sockets replaced by a newer client of their user, by PRESENCE_CLIENT_POLICY. */
  replacedClients: z.record(z.string(), z.number().int()),
  /** Webhook delivery from this room. */
  webhooks: WebhookStats,
  /** Messages rejected by error code. */
  rejectedMessages: z.record(z.string(), z.number().int()),
  /** Sockets the room closed, by reason. */
  closes: z.record(z.string(), z.number().int()),
}).meta({ id: "RoomStats" });
export type RoomStats = z.infer<typeof RoomStats>;

/** `GET /parties/main/CHANNEL?stats`. */
export const StatsResponse = z.object({ code: z.literal(200), content: RoomStats });

// ---------------------------------------------------------------------------------------
// Users across channels (the user directory)

export { MAX_USERS_PER_REQUEST } from "./limits.ts";

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
 * events of one channel, or of one directory part, in order. The `webhook-id` header stays
 * the same across retries.
 */
export const WebhookPayload = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("presence.events"),
    timestamp: z.string(),
    data: z.object({ channel: ChannelName, events: z.array(WebhookChannelEvent) }),
  }),
  z.object({
    type: z.literal("user.events"),
    timestamp: z.string(),
    data: z.object({ part: z.string(), events: z.array(WebhookUserEvent) }),
  }),
]);
export type WebhookPayload = z.infer<typeof WebhookPayload>;


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

// ---------------------------------------------------------------------------------------
// Client → server

/** Every message a client may send; one JSON text frame each. (`.describe` texts feed docs/protocol.md.) */
export const ClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ping") }).describe("Liveness: the room answers `pong`. Any message counts as activity."),
  z
    .object({ type: z.literal("update"), data: JsonValue })
    .describe("Replace this client's userData, and so the member's: others see `update` (none if it is unchanged)."),
  z
    .object({ type: z.literal("leave") })
    .describe("Unsubscribe: the member leaves at once (others see `leave`) unless the user has other clients here; the room answers `left` and the socket stays as an observer."),
  z
    .object({
      type: z.literal("herenow"),
      /** Echoed in the answer. */
      id: z.string().min(1).max(64),
      ...HereNowOptions.shape,
    })
    .describe("Ask for this channel's herenow; answered by a `herenow` message with the same id."),
  z.object({ type: z.literal("sync") }).describe("Ask for a fresh snapshot (after a sequence gap)."),
  z
    .object({
      type: z.literal("ack"),
      /** The push's id. */
      id: PushId,
      /** false: the app's handler failed (a negative ack). */
      ok: z.boolean(),
      error: z.string().max(200).optional(),
    })
    .describe("Acknowledges a `push`: `ok: true` once the app handled it, `ok: false` (with `error`) when its handler threw."),
  z
    .object({
      type: z.literal("push"),
      /** Echoed in the answer; also makes the push idempotent. */
      id: PushId,
      userId: UserId,
      data: JsonValue,
      timeoutMs: z.number().int().min(1).optional(),
    })
    .describe(
      "Push to another member's clients in this channel (only with PRESENCE_CLIENT_PUSH=true): the room attaches the sender's userId and answers `pushed` once they acknowledged or the time ran out.",
    ),
  z
    .object({ type: z.literal("watch"), userIds: z.array(UserId).max(MAX_USERS_PER_REQUEST, `watch at most ${MAX_USERS_PER_REQUEST} users`) })
    .describe(
      "Watch these users' status across all channels (replaces this socket's list; an empty list stops). Answered by `users` with `full: true`, then `users` with each change.",
    ),
]);
/** A client message as sent (fields with defaults may be left out). */
export type ClientMessage = z.input<typeof ClientMessage>;
/** A client message as the room reads it, defaults applied. */
export type ParsedClientMessage = z.output<typeof ClientMessage>;

// ---------------------------------------------------------------------------------------
// Server → client

/** Settings the room tells each client in its snapshot. */
export const ClientSettings = z.object({
  heartbeatIntervalMs: z.number().int().positive(),
  heartbeatTimeoutMs: z.number().int().positive(),
}).meta({ id: "ClientSettings" });
export type ClientSettings = z.infer<typeof ClientSettings>;

/** Every message the room sends. (`.describe` texts feed docs/protocol.md.) */
export const ServerMessage = z.discriminatedUnion("type", [
  Counts.extend({
    type: z.literal("sync"),
    channel: ChannelName,
    /** The sequence number this snapshot is current at; the next diff has seq + 1. */
    seq: z.number().int().nonnegative(),
    /** True on every part of a large snapshot but the last. */
    more: z.boolean(),
    /** This socket's connection id and userId (null for an observer). */
    self: z.object({ connectionId: z.string(), userId: UserId.nullable() }),
    members: z.array(Member),
    settings: ClientSettings,
    /** The room's clock, for judging `since` and `lastSeen`. */
    now: z.number(),
  }).describe(
    "A full snapshot of the channel as of the last diff: every member (online and offline), the counts and that diff's sequence number. The open tick's changes (a joiner's own join among them) come in the next diff. Sent on connect and on `sync`; a large one comes in several parts in a row, each with `more: true` but the last.",
  ),
  Counts.extend({
    type: z.literal("diff"),
    seq: z.number().int().positive(),
    events: z.array(PresenceEvent),
    quiet: z.array(Member),
  }).describe(
    "The coalesced events of one tick (a large tick takes several messages), `seq` the previous one plus one. Events are net per user: a join and a leave in one tick cancel. `quiet` holds members whose record changed without a presence event (a second tab opened, or one tab's grace ran out while another stayed). Counts are those after the whole tick.",
  ),
  z
    .object({ type: z.literal("herenow"), id: z.string(), result: ChannelHereNow })
    .describe("The answer to a `herenow` request."),
  z.object({ type: z.literal("pong"), now: z.number() }).describe("The answer to `ping`."),
  z.object({ type: z.literal("left") }).describe("The answer to `leave`: this socket is now an observer."),
  z
    .object({ type: z.literal("error"), code: ErrorCode, message: z.string() })
    .describe("A message was refused; nothing changed. `code` says why, `message` says what to fix."),
  z
    .object({
      type: z.literal("push"),
      id: PushId,
      data: JsonValue,
      /** The channel it came through. */
      channel: ChannelName,
      /** The sending member, or null when the app server pushed it. */
      from: UserId.nullable(),
    })
    .describe("A push for this client's user: answer with `ack` (the client does it when its handler returns). A push id seen before is acknowledged again without calling the handler."),
  z
    .object({ type: z.literal("pushed"), result: PushResult })
    .describe("The answer to this client's `push`: which of the other member's clients acknowledged."),
  z
    .object({
      type: z.literal("users"),
      /** Numbers this socket's `users` messages: the next is seq + 1; `full` ones restart the count. */
      seq: z.number().int().positive(),
      /** true: the status of every watched user (replaces the list); false: only those that changed. */
      full: z.boolean(),
      users: z.array(UserStatus),
    })
    .describe(
      "Watched users' status across channels: all of them (`full`), then the changes of each tick. A `users` whose seq is not the last + 1 means one was missed: send `watch` again.",
    ),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type SyncMessage = Extract<ServerMessage, { type: "sync" }>;
export type DiffMessage = Extract<ServerMessage, { type: "diff" }>;

/** WebSocket close codes the room sends, and what each means. */
export const CLOSE_CODES = {
  policyViolation: {
    code: 1008,
    meaning: "Sustained abuse: PRESENCE_ABUSE_CLOSE_AFTER rejected messages in a row (rate, size, garbage).",
  },
  internalError: {
    code: 1011,
    meaning: "The room's settings are invalid. The edge refuses every connect with 500 before that, so a client sees this only if a socket reached such a room another way.",
  },
  tryAgainLater: { code: 1013, meaning: "The room (PRESENCE_MAX_CLIENTS) or the user (PRESENCE_MAX_CLIENTS_PER_USER) is at its cap; an `error` frame says which first." },
  replaced: { code: 4000, meaning: "A newer socket with the same connection id took this one's place." },
  heartbeatTimeout: { code: 4001, meaning: "No message, not even a ping, within PRESENCE_HEARTBEAT_TIMEOUT_MS." },
  replacedByPolicy: {
    code: 4002,
    meaning: "A newer client of the same user (newest-per-user) or of the same user and clientType (newest-per-type) took this one's place; an `error` frame (`replaced`) says so first. The client does not reconnect.",
  },
  tokenExpired: {
    code: 4003,
    meaning: "The socket's token expired. The client reconnects with a fresh token from its provider, within grace nobody sees an event.",
  },
} as const;

/** The close codes by name: `CloseCode.heartbeatTimeout === 4001`. */
export const CloseCode = Object.fromEntries(Object.entries(CLOSE_CODES).map(([name, { code }]) => [name, code])) as {
  [K in keyof typeof CLOSE_CODES]: (typeof CLOSE_CODES)[K]["code"];
};
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
