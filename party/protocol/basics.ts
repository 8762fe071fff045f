/** Names, ids and the connect query; client types; the claims of a client token. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import type { JsonValue as Json } from "../wire/json.ts";
import type * as wire from "../wire/types.ts";
import type { Exactly } from "./exactly.ts";


/** Channel (room) names: 1–128 letters, digits and `_-.:@`. */
export const ChannelName = z
  .string()
  .min(1, "channel name is empty")
  .max(128, "channel name is longer than 128 characters")
  .regex(/^[A-Za-z0-9_\-.:@]+$/, "channel name may only hold letters, digits and _-.:@")
  .meta({ id: "ChannelName" });

/**
 * What a userId may not hold, in words (the pattern's message, and the docs'): the characters
 * that break the places a userId is shown or stored. C0 controls, DEL and C1 controls (NUL ends
 * C strings, ESC drives terminals, CR/LF/NEL forge log lines); U+2028/U+2029, which end a line
 * in JavaScript, log viewers and editors; the bidi embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), which reorder what is shown after them (a dashboard or a log
 * showing another id than the one stored); and a surrogate without its pair, which is no
 * character at all: UTF-8 cannot encode it (storage, webhooks and logs replace or refuse it).
 * Everything else is allowed: userIds are the app's own (names, emails, UUIDs, any script,
 * spaces, emoji with their joiners), so the rule refuses only what no honest id needs.
 */
export const USER_ID_RULE =
  "userId may not hold control characters (U+0000–U+001F, U+007F–U+009F), line or paragraph separators (U+2028, U+2029), bidi embedding, override or isolate controls (U+202A–U+202E, U+2066–U+2069) or a surrogate without its pair";

/**
 * The pattern of USER_ID_RULE. Without the `u` flag on purpose: it reads UTF-16 code units, as
 * the client's checker (wire/check.ts) compiles the JSON Schema's `pattern`, so a high surrogate
 * passes only with a low one right after it, and a low one never alone.
 */
const USER_ID_PATTERN = /^(?:[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** A user id: 1–128 characters (code points), any but those USER_ID_RULE names. */
export const UserId = z
  .string()
  .min(1, "userId is empty")
  .max(128, "userId is longer than 128 characters")
  .regex(USER_ID_PATTERN, USER_ID_RULE)
  .meta({ id: "UserId" });

/**
 * Whether `id` is a userId under today's rule. Storage may hold ids from before the rule
 * (members, HTTP clients, watch lists, bans, directory users, history): each loader drops
 * those, since every reply and message naming one would fail its own schema (the client's
 * snapshot, a directory report, the edge's read of the ban list).
 */
export function isUserId(id: unknown): id is string {
  return UserId.safeParse(id).success;
}

/** An id quoted for a log line, every character the userId rule refuses escaped (JSON escapes only C0 and lone surrogates). */
export function quotedId(id: string): string {
  return JSON.stringify(id).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

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
export type JsonValue = Exactly<z.output<typeof JsonValue>, Json>;

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
  /** Interval mode: how many members, first by userId, this client follows (0 to 100, default 0). */
  window: z.string().regex(/^\d{1,3}$/, "window must be a whole number of members").optional(),
});
export type ConnectQuery = z.infer<typeof ConnectQuery>;

/** Client counts by `clientType`: `{"web": 2, "app": 1}`. Types with no client are left out. */
export const ClientTypeCounts = z.record(ClientType, z.number().int().positive()).meta({ id: "ClientTypeCounts" });
export type ClientTypeCounts = Exactly<z.output<typeof ClientTypeCounts>, wire.ClientTypeCounts>;

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
