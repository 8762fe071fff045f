/** herenow, the admin member listing, the HTTP envelopes, the error codes, and a room's stats. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import { ChannelName, ClientType, ClientTypeCounts, JsonValue, UserId } from "./basics.ts";
import { ChannelMode, Counts, Member } from "./members.ts";

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
  /** The online members, by userId, at most `limit` of them. */
  users: z.array(HereNowUser).optional(),
  /** More members follow: pass this as `cursor` for the next page. Absent on the last page. */
  cursor: UserId.optional(),
}).meta({ id: "ChannelHereNow" });
export type ChannelHereNow = z.infer<typeof ChannelHereNow>;

/** Most members one herenow page lists (and the default page size). */
export const MAX_HERENOW_PAGE = 1000;

/** The options of a herenow request, wherever it comes from (socket, query string, helper). */
export const HereNowOptions = z.object({
  /** List the users (default false). */
  includeUsers: z.boolean().default(false),
  /** List a user once however many clients it has (default false: once per client). */
  distinct: z.boolean().default(false),
  /** With includeUsers: list at most this many members (all clients of each), in userId order (default and most 1000). */
  limit: z.number().int().min(1, "limit is at least 1").max(MAX_HERENOW_PAGE, `limit is at most ${MAX_HERENOW_PAGE}`).default(MAX_HERENOW_PAGE),
  /** With includeUsers: start after this userId (the `cursor` of the page before). */
  cursor: UserId.optional(),
});
/** herenow options as a caller gives them (each may be left out). */
export type HereNowOptions = z.input<typeof HereNowOptions>;

/** `true`/`false` (or 1/0) in a query string. */
const QueryBoolean = z.enum(["true", "false", "1", "0", ""]).transform((value) => value === "true" || value === "1");

/** herenow's options in a query string (`?includeUsers=true&distinct=true&limit=100&cursor=u42`), resolved to `HereNowOptions`. */
export const HereNowQuery = z
  .object({
    includeUsers: QueryBoolean.optional(),
    distinct: QueryBoolean.optional(),
    limit: z.string().regex(/^\d{1,6}$/, "limit must be a whole number").transform(Number).optional(),
    cursor: z.string().optional(),
  })
  .pipe(HereNowOptions);

/** Most channels one `/herenow` request may name. */
export const MAX_HERENOW_CHANNELS = 100;

/** `/herenow?channel=A&channel=B&…`: the channels, 1 to 100, each a valid name. */
export const HereNowChannels = z
  .array(ChannelName)
  .min(1, "name at least one channel: /herenow?channel=NAME")
  .max(MAX_HERENOW_CHANNELS, `at most ${MAX_HERENOW_CHANNELS} channels per request`);

/** herenow's answer, in GoEasy's shape: each channel asked, by name. (Every HTTP answer has this envelope: `code` 200 and the answer in `content`.) */
export const HereNowResponse = z.object({
  code: z.literal(200),
  content: z.object({ channels: z.record(z.string(), ChannelHereNow) }),
});
export type HereNowResponse = z.infer<typeof HereNowResponse>;

/** Most members one page of the admin member listing holds. */
export const MAX_MEMBERS_PAGE = 1000;
/** Members in a page of the admin member listing when `limit` is left out. */
export const DEFAULT_MEMBERS_PAGE = 100;

/** What a page of the admin member listing asks for: herenow's paging, every member (online and offline) in full. */
export const MembersOptions = z.object({
  /** At most this many members, in userId order (default 100, at most 1000). */
  limit: z.number().int().min(1, "limit is at least 1").max(MAX_MEMBERS_PAGE, `limit is at most ${MAX_MEMBERS_PAGE}`).default(DEFAULT_MEMBERS_PAGE),
  /** Start after this userId (the `cursor` of the page before). */
  cursor: UserId.optional(),
});
/** The member listing's options as a caller gives them (each may be left out). */
export type MembersOptions = z.input<typeof MembersOptions>;

/** `GET /parties/main/CHANNEL?members&limit=N&cursor=U`, resolved to `MembersOptions`. */
export const MembersQuery = z
  .object({
    limit: z.string().regex(/^\d{1,6}$/, "limit must be a whole number").transform(Number).optional(),
    cursor: z.string().optional(),
  })
  .pipe(MembersOptions);

/** One page of a channel's members (online and offline) as the room holds them, by userId, with the channel's counts. */
export const MembersPage = Counts.extend({
  channel: ChannelName,
  /** The members after the cursor, in userId order, each in full: userData, clients by type, since, last seen. */
  members: z.array(Member),
  /** More members follow: pass this as `cursor` for the next page. Absent on the last page. */
  cursor: UserId.optional(),
}).meta({ id: "MembersPage" });
export type MembersPage = z.infer<typeof MembersPage>;

/** `GET ?members`'s answer. */
export const MembersResponse = z.object({ code: z.literal(200), content: MembersPage });
export type MembersResponse = z.infer<typeof MembersResponse>;

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
  replaced:
    "A newer client of this user took this socket's place (PRESENCE_CLIENT_POLICY): the socket is closed with 4002 right after. HTTP 409 for an HTTP client's heartbeat until its TTL from the replacement has passed.",
  not_found: "HTTP: no such route (404).",
  kicked: "The operator disconnected this user (`POST /users/USERID/disconnect`): the socket is closed with 4004 right after, and the client does not reconnect.",
  banned:
    "HTTP 403: the operator banned this user (`banSeconds` of `POST /users/USERID/disconnect`) until the time the message gives: its connects, HTTP clients and tokens are refused until then or until the ban is lifted (`DELETE /users/USERID/ban`).",
  conflict: "HTTP 409: the HTTP client id belongs to another user, or a renewal names another clientType; nothing changed.",
  method_not_allowed: "HTTP: the route does not take this method (405).",
  misconfigured: "The room's environment variables are invalid (500); the message names them.",
  internal: "The room failed to handle a message (a bug; it is logged and counted), or HTTP: a room behind a multi-channel request failed (502).",
} as const;
/** Why a message or a request was refused: one of the error codes in the table of error codes. */
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

/** A room's or part's webhook delivery, with its dead letters (their bodies stay in storage). */
export const WebhookReport = WebhookStats.extend({
  /** The batches that failed every attempt, oldest first. */
  deadLetterBatches: z.array(
    z.object({
      /** The batch's `webhook-id`. */
      id: z.string(),
      /** When the batch was made (epoch ms). */
      createdAt: z.number(),
      attempts: z.number().int(),
      lastError: z.string().optional(),
    }),
  ),
}).meta({ id: "WebhookReport" });
export type WebhookReport = z.infer<typeof WebhookReport>;

/** `GET /parties/main/CHANNEL?webhooks`: the channel's webhook delivery and dead letters. */
export const WebhookReportResponse = z.object({ code: z.literal(200), content: WebhookReport });

/** `POST /parties/main/CHANNEL?webhooks=resend`: how many dead batches went back into the channel's queue. */
export const WebhookResendResponse = z.object({
  code: z.literal(200),
  content: z.object({ resent: z.number().int().nonnegative() }),
});

/** `POST /webhooks/resend`: each directory part's count of dead batches put back in its queue. */
export const DirectoryWebhookResendResponse = z.object({
  code: z.literal(200),
  content: z.object({ parts: z.record(z.string(), z.object({ resent: z.number().int().nonnegative() })) }),
});

/** `GET /webhooks`: the user directory's own webhook delivery (user.online / user.offline), by part (`p0`, `p1`, …). */
export const DirectoryWebhooksResponse = z.object({
  code: z.literal(200),
  content: z.object({ parts: z.record(z.string(), WebhookReport) }),
});

/** Counters a room keeps of what it refused, rejected and closed. */
export const RoomStats = z.object({
  channel: ChannelName,
  clientAmount: z.number().int(),
  userAmount: z.number().int(),
  members: z.number().int(),
  /** full: every client gets every member; interval: past PRESENCE_ANNOUNCE_MAX, counts and each client's view. */
  mode: ChannelMode,
  sockets: z.number().int(),
  /** HTTP clients (members kept alive by heartbeats, without a socket). */
  httpClients: z.number().int(),
  /** How many times the room has started: its first load, and every restart or wake after an eviction. */
  starts: z.number().int(),
  /** Presence events the channel keeps in its storage for `GET ?history` (some may be past PRESENCE_HISTORY_MS until the next sweep; the route never shows those). */
  historyEvents: z.number().int().nonnegative(),
  /** Connects refused, by reason: at the edge (bad_handshake, unauthorized, forbidden, origin, unavailable) or in the room (room_full, user_full). */
  refusedConnections: z.record(z.string(), z.number().int()),
  /** HTTP requests to the room refused, by reason: at the edge (unauthorized, forbidden, unavailable) or in the room (bad_request (a bad herenow, history or members query too), too_large, conflict, replaced, room_full, user_full). */
  refusedRequests: z.record(z.string(), z.number().int()),
  /** Sockets replaced by a newer client of their user, by PRESENCE_CLIENT_POLICY. */
  replacedClients: z.record(z.string(), z.number().int()),
  /**
   * The channel's objects: one entry for a channel in one object; for a channel spread over
   * several, one per object (0: this room, its coordinator; k: `CHANNEL~k`), each with the
   * clients it counts (live, or in grace).
   */
  shards: z.array(z.object({ shard: z.number().int().nonnegative(), clientAmount: z.number().int().nonnegative() })),
  /** Webhook delivery from this room. */
  webhooks: WebhookStats,
  /** Messages rejected by error code. */
  rejectedMessages: z.record(z.string(), z.number().int()),
  /** Sockets the room closed, by reason. */
  closes: z.record(z.string(), z.number().int()),
  /** Presence events the room announced, by type (join, online, offline, leave, update). */
  events: z.record(z.string(), z.number().int()),
  /** Pushes this room delivered (`delivered`: one per push, however many clients), and its clients' answers: `acked`, `rejected`, `timeout`, `closed`. */
  pushes: z.record(z.string(), z.number().int()),
  /** This room's webhook attempts: `delivered` batches, `failed` attempts, batches `deadLettered` after their last attempt. Unlike `webhooks`, these survive a restart. */
  webhookDeliveries: z.record(z.string(), z.number().int()),
}).meta({ id: "RoomStats" });
export type RoomStats = z.infer<typeof RoomStats>;

/** `GET /parties/main/CHANNEL?stats`. */
export const StatsResponse = z.object({ code: z.literal(200), content: RoomStats });
