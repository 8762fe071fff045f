/** The WebSocket messages: client to room, room to client, and the close codes. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import { MAX_USERS_PER_REQUEST, MAX_WINDOW } from "../wire/limits.ts";
import type * as wire from "../wire/types.ts";
import type { Exactly } from "./exactly.ts";
import { ChannelName, JsonValue, UserId } from "./basics.ts";
import { ErrorCode, ChannelHereNow, HereNowOptions } from "./http.ts";
import { ChannelMode, Counts, WireMember } from "./members.ts";
import { PushId, PushResult, UserStatus } from "./users.ts";

/** A window size: how many members, first by userId, a client follows in interval mode. */
export const WindowLimit = z.number().int().min(0).max(MAX_WINDOW, `a window holds at most ${MAX_WINDOW} members`);

// ---------------------------------------------------------------------------------------
// Client → server

/** Every message a client may send; one JSON text frame each. (`.describe` texts feed docs/protocol.md.) */
export const ClientMessage = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("ping") })
    .describe(
      "Liveness: answered with `pong`. Send exactly `{\"type\":\"ping\"}`: on the Workers engine the engine answers that text itself, without waking the room, and the room reads each socket's last such ping when it judges liveness. Any message counts as activity.",
    ),
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
    .object({ type: z.literal("window"), limit: WindowLimit })
    .describe(
      "Interval mode: follow the first `limit` members by userId (0 to " + String(MAX_WINDOW) + "; 0: only yourself and the users you watch). In interval mode answered by a fresh `sync`; in full mode nothing is sent back: the room keeps it for when the channel crosses the threshold.",
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

/** Settings the room tells each client in its snapshot: its heartbeat, and how long presence waits before it changes. */
export const ClientSettings = z.object({
  /** Send a `ping` this often (PRESENCE_HEARTBEAT_INTERVAL_MS). */
  heartbeatIntervalMs: z.number().int().positive(),
  /** A socket the room has heard nothing from for this long is closed with 4001 and its client goes into grace (PRESENCE_HEARTBEAT_TIMEOUT_MS). */
  heartbeatTimeoutMs: z.number().int().positive(),
  /** A member whose last client dropped goes offline this long after the drop, unless a client of its user comes back (PRESENCE_GRACE_MS; 0: at once). */
  graceMs: z.number().int().nonnegative(),
  /** An offline member leaves this long after it was last seen (PRESENCE_RETENTION_MS). */
  retentionMs: z.number().int().positive(),
}).meta({ id: "ClientSettings" });
export type ClientSettings = z.infer<typeof ClientSettings>;

/** Every message the room sends. (`.describe` texts feed docs/protocol.md.) */
export const ServerMessage = z.discriminatedUnion("type", [
  Counts.extend({
    type: z.literal("sync"),
    channel: ChannelName,
    /** The sequence number this snapshot is current at; the next diff has seq + 1 (in interval mode: a higher one). */
    seq: z.number().int().nonnegative(),
    /** True on every part of a large snapshot but the last. */
    more: z.boolean(),
    /** This socket's connection id and userId (null for an observer). */
    self: z.object({ connectionId: z.string(), userId: UserId.nullable() }),
    /** `full`: `members` is every member; `interval`: only this socket's view (itself, the users it watches, its window). */
    mode: ChannelMode,
    /** Interval mode: the window in effect (the first `window` members by userId). */
    window: z.number().int().nonnegative().optional(),
    /** This part's members (a large snapshot comes in parts: the list is every part's members together). */
    members: z.array(WireMember),
    settings: ClientSettings,
    /** The room's clock: members' times are counted back from it. */
    now: z.number(),
  }).describe(
    "A snapshot as of the last diff: in `full` mode every member (online and offline), in `interval` mode this socket's view; the counts and that diff's sequence number. The open tick's changes (a joiner's own join among them) come in the next diff. Sent on connect, on `sync`, on `window` (interval mode), and to every socket when the channel crosses PRESENCE_ANNOUNCE_MAX either way; a large one comes in several parts in a row, each with `more: true` but the last.",
  ),
  Counts.extend({
    type: z.literal("diff"),
    /** The channel's sequence number: in full mode the last one + 1; in interval mode higher than the last (see the gap rule). */
    seq: z.number().int().positive(),
    /** The room's clock: members' times are counted back from it. */
    now: z.number(),
    /** Users that became members, as they are now. */
    join: z.array(WireMember).optional(),
    /** Offline members with a live client again. */
    online: z.array(WireMember).optional(),
    /** Members whose userData changed. */
    update: z.array(WireMember).optional(),
    /** Members whose last client has been gone for the grace period (or whose HTTP client expired). */
    offline: z.array(WireMember).optional(),
    /** The userIds of members that left. */
    leave: z.array(UserId).optional(),
    /** Members whose record changed without a presence event (a second tab, a tab's grace ran out), or that came into this socket's view. */
    quiet: z.array(WireMember).optional(),
    /** Interval mode: members that went out of this socket's view (they are still in the channel). */
    out: z.array(UserId).optional(),
  }).describe(
    "The coalesced changes of one tick (a large tick takes several messages), grouped by action; apply `quiet`, then the events in the order join, online, update, offline, leave, then `out`. In full mode `seq` is the previous one plus one; in interval mode a socket hears only ticks that changed its view or the counts, so `seq` only grows. Events are net per user: a join and a leave in one tick cancel. Counts are those after the whole tick.",
  ),
  z
    .object({ type: z.literal("herenow"), id: z.string(), result: ChannelHereNow })
    .describe("The answer to a `herenow` request."),
  z
    .object({ type: z.literal("pong"), now: z.number().optional() })
    .describe("The answer to `ping`: with the room's clock (`now`) when the room answered, without it when the engine did (Workers)."),
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
/** A diff's member groups, as wire code reads and writes them (member-wire.ts). */
export type WireDiffBody = Exactly<Pick<DiffMessage, keyof wire.WireDiffBody>, wire.WireDiffBody>;

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
  kicked: {
    code: 4004,
    meaning: "The operator disconnected this user (`POST /users/USERID/disconnect`); an `error` frame (`kicked`) with the reason comes first. The client does not reconnect.",
  },
} as const;

/** The close codes by name: `CloseCode.heartbeatTimeout === 4001`. */
export const CloseCode = Object.fromEntries(Object.entries(CLOSE_CODES).map(([name, { code }]) => [name, code])) as {
  [K in keyof typeof CLOSE_CODES]: (typeof CLOSE_CODES)[K]["code"];
};
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
