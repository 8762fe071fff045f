/**
 * The wire protocol: every message, query and response of the presence service, defined
 * once with zod. The room, the client, the HTTP helper, the tests and docs/protocol.md all
 * use these schemas. No `partykit` import here, so browsers and Deno can load it alone.
 */
import { z } from "zod";

/** Channel (room) names: 1–128 letters, digits and `_-.:@`. */
export const ChannelName = z
  .string()
  .min(1, "channel name is empty")
  .max(128, "channel name is longer than 128 characters")
  .regex(/^[A-Za-z0-9_\-.:@]+$/, "channel name may only hold letters, digits and _-.:@");

/** A user id: any non-empty string of at most 128 characters. */
export const UserId = z
  .string()
  .min(1, "userId is empty")
  .max(128, "userId is longer than 128 characters");

/** A client type tag ("web", "ios", "pc", …): 1–32 letters, digits and `_-.`. */
export const ClientType = z
  .string()
  .min(1, "clientType is empty")
  .max(32, "clientType is longer than 32 characters")
  .regex(/^[A-Za-z0-9_\-.]+$/, "clientType may only hold letters, digits and _-.");

/** Default cap on the JSON text of one user's userData, in bytes (UTF-8). */
export const DEFAULT_MAX_USER_DATA_BYTES = 4096;

/** Any JSON value. */
export const JsonValue = z.json();
/** A JSON value as carried in userData. */
export type JsonValue = z.infer<typeof JsonValue>;

/** Deepest nesting of arrays and objects accepted in any message or userData. */
export const MAX_JSON_DEPTH = 32;

/** True if a parsed JSON value nests deeper than `max` (checked without recursion). */
export function exceedsDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The UTF-8 size of a string, in bytes. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/**
 * userData: any JSON value whose JSON text is at most `maxBytes` bytes. Check
 * `exceedsDepth` first: zod walks nested values recursively.
 */
export function userDataSchema(maxBytes: number = DEFAULT_MAX_USER_DATA_BYTES) {
  return JsonValue.refine((value) => utf8Bytes(JSON.stringify(value)) <= maxBytes, {
    message: `userData is larger than ${maxBytes} bytes of JSON`,
  });
}

/** The query string of a WebSocket connect: `?userId=…&userData=…&clientType=…`. */
export const ConnectQuery = z.object({
  /** Absent: the socket is an observer (sees presence, is not a member, is not counted). */
  userId: UserId.optional(),
  /** URL-encoded JSON text. */
  userData: z.string().optional(),
  /** What kind of client this is ("web", "app", "pc"…). */
  clientType: ClientType.optional(),
});
export type ConnectQuery = z.infer<typeof ConnectQuery>;

/** Whether a member has at least one live client. */
export const MemberStatus = z.enum(["online", "offline"]);
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
  /** When the member entered its current status. */
  since: z.number(),
  /** Offline: when its last client was last seen. Online: when it came online (it is seen now). */
  lastSeen: z.number(),
});
export type Member = z.infer<typeof Member>;

/** The presence actions, as GoEasy names them, plus `update`. */
export const PresenceAction = z.enum(["join", "online", "offline", "leave", "update"]);
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
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/** One entry of herenow's `users` list. */
export const HereNowUser = z.object({ id: UserId, data: JsonValue });
export type HereNowUser = z.infer<typeof HereNowUser>;

/** herenow for one channel; `users` only with includeUsers. */
export const ChannelHereNow = Counts.extend({
  channel: ChannelName,
  users: z.array(HereNowUser).optional(),
});
export type ChannelHereNow = z.infer<typeof ChannelHereNow>;

/** `true`/`false` (or 1/0) in a query string; absent means false. */
const QueryBoolean = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => value === "true" || value === "1");

/** The options of a herenow request. */
export const HereNowOptions = z.object({
  /** List the users (default false). */
  includeUsers: z.boolean().default(false),
  /** List a user once however many clients it has (default false: once per client). */
  distinct: z.boolean().default(false),
});
export type HereNowOptions = z.input<typeof HereNowOptions>;

/** herenow's query string on a room: `?includeUsers=true&distinct=true`. */
export const HereNowQuery = z.object({ includeUsers: QueryBoolean, distinct: QueryBoolean });

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

/** Error codes in `error` messages and HTTP error envelopes. */
export const ErrorCode = z.enum([
  "bad_request",
  "bad_message",
  "unknown_message",
  "too_large",
  "binary_not_supported",
  "rate_limited",
  "not_a_member",
  "not_found",
  "method_not_allowed",
  "misconfigured",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Counters a room keeps of what it refused, rejected and closed. */
export const RoomStats = z.object({
  channel: ChannelName,
  clientAmount: z.number().int(),
  userAmount: z.number().int(),
  members: z.number().int(),
  sockets: z.number().int(),
  /** Connections refused by reason (room_full, user_full). */
  refusedConnections: z.record(z.string(), z.number().int()),
  /** Messages rejected by error code. */
  rejectedMessages: z.record(z.string(), z.number().int()),
  /** Sockets the room closed, by reason. */
  closes: z.record(z.string(), z.number().int()),
});
export type RoomStats = z.infer<typeof RoomStats>;

/** `GET /parties/main/CHANNEL?stats`. */
export const StatsResponse = z.object({ code: z.literal(200), content: RoomStats });

// ---------------------------------------------------------------------------------------
// Client → server

/** Every message a client may send; one JSON text frame each. */
export const ClientMessage = z.discriminatedUnion("type", [
  /** Liveness: the room answers `pong`. Any message counts as activity. */
  z.object({ type: z.literal("ping") }),
  /** Replace this client's userData (and so the member's). */
  z.object({ type: z.literal("update"), data: JsonValue }),
  /** Unsubscribe: the member leaves (others see `leave`); the socket stays as an observer. */
  z.object({ type: z.literal("leave") }),
  /** Ask for this channel's herenow; answered by a `herenow` message with the same id. */
  z.object({
    type: z.literal("herenow"),
    id: z.string().min(1).max(64),
    includeUsers: z.boolean().optional(),
    distinct: z.boolean().optional(),
  }),
  /** Ask for a fresh snapshot (after a sequence gap). */
  z.object({ type: z.literal("sync") }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---------------------------------------------------------------------------------------
// Server → client

/** Settings the room tells each client in its snapshot. */
export const ClientSettings = z.object({
  heartbeatIntervalMs: z.number().int().positive(),
  heartbeatTimeoutMs: z.number().int().positive(),
});
export type ClientSettings = z.infer<typeof ClientSettings>;

/** Every message the room sends. */
export const ServerMessage = z.discriminatedUnion("type", [
  /**
   * A full snapshot: the members, the counts and the sequence number it is current at. A
   * large one comes in several parts in a row, each with `more: true` but the last.
   */
  Counts.extend({
    type: z.literal("sync"),
    channel: ChannelName,
    seq: z.number().int().nonnegative(),
    more: z.boolean(),
    /** This socket's connection id and userId (null for an observer). */
    self: z.object({ connectionId: z.string(), userId: UserId.nullable() }),
    members: z.array(Member),
    settings: ClientSettings,
    /** The room's clock, for judging `since` and `lastSeen`. */
    now: z.number(),
  }),
  /**
   * The coalesced events of one tick (a large tick takes several), `seq` the previous one
   * plus one. `quiet` holds members whose record changed without a presence event (a tab
   * opened or its grace ran out while another stayed).
   */
  Counts.extend({
    type: z.literal("diff"),
    seq: z.number().int().positive(),
    events: z.array(PresenceEvent),
    quiet: z.array(Member),
  }),
  /** The answer to a `herenow` request. */
  z.object({ type: z.literal("herenow"), id: z.string(), result: ChannelHereNow }),
  /** The answer to `ping`. */
  z.object({ type: z.literal("pong"), now: z.number() }),
  /** The answer to `leave`: this socket is now an observer. */
  z.object({ type: z.literal("left") }),
  /** A message was refused; nothing changed. */
  z.object({ type: z.literal("error"), code: ErrorCode, message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type SyncMessage = Extract<ServerMessage, { type: "sync" }>;
export type DiffMessage = Extract<ServerMessage, { type: "diff" }>;

/** WebSocket close codes the room uses, and what each means. */
export const CloseCode = {
  /** The client closed, or the room shut a socket down normally. */
  normal: 1000,
  /** Sustained abuse: too many rejected messages in a row (rate, size, garbage). */
  policyViolation: 1008,
  /** Internal error (e.g. the room's configuration is invalid). */
  internalError: 1011,
  /** The room or the user is at its client cap; try again later. */
  tryAgainLater: 1013,
  /** A newer socket with the same connection id took this one's place. */
  replaced: 4000,
  /** No message (not even a ping) within the heartbeat timeout. */
  heartbeatTimeout: 4001,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which the client should not reconnect by itself. */
export const FINAL_CLOSE_CODES: readonly number[] = [CloseCode.replaced];
