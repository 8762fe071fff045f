/**
 * The service's settings, read from its environment (`--var NAME=VALUE` or `.env` in dev,
 * `partykit env add` for deploys) and validated once at start.
 */
import { z } from "zod";
import { DEFAULT_MAX_USER_DATA_BYTES } from "../wire/json.ts";

/** The largest PRESENCE_HISTORY_MAX: a channel's history is paged from its storage, and this bounds what it holds. */
const MAX_HISTORY_EVENTS = 100_000;

const ms = (fallback: number, min: number, meaning: string) =>
  z.coerce.number().int().min(min).default(fallback).describe(meaning);
const count = (fallback: number, meaning: string) => z.coerce.number().int().min(1).default(fallback).describe(meaning);
const flag = (meaning: string) =>
  z.enum(["true", "false", "1", "0"]).default("false").transform((value) => value === "true" || value === "1").describe(meaning);
const secret = (min: number, meaning: string) =>
  z.string().min(min, `must be at least ${min} characters (a long random string)`).optional().describe(meaning);

/** Which of a user's sockets in one channel a new one replaces. */
export const ClientPolicy = z.enum(["multi", "newest-per-user", "newest-per-type"]);
export type ClientPolicy = z.infer<typeof ClientPolicy>;

/** Environment variables the room reads, with their defaults. */
export const ConfigEnv = z
  .object({
    PRESENCE_GRACE_MS: ms(5_000, 0, "How long a dropped client may take to come back before its member goes offline."),
    PRESENCE_TICK_MS: ms(50, 1, "How long the changes that follow a sent one are gathered into the next message (a change after a quiet spell goes at once)."),
    PRESENCE_RETENTION_MS: ms(7 * 24 * 3600 * 1000, 1, "How long an offline member is kept before it leaves. Default 7 days."),
    PRESENCE_HEARTBEAT_INTERVAL_MS: ms(10_000, 100, "How often clients send a ping."),
    PRESENCE_HEARTBEAT_TIMEOUT_MS: ms(30_000, 200, "A socket silent this long is closed (4001) and its client dropped."),
    PRESENCE_MAX_MESSAGE_BYTES: count(16 * 1024, "Largest text frame a client may send, in bytes."),
    PRESENCE_MAX_USER_DATA_BYTES: count(DEFAULT_MAX_USER_DATA_BYTES, "Largest userData, in bytes of JSON."),
    PRESENCE_RATE_PER_SEC: count(20, "Sustained messages per second per socket (token bucket refill)."),
    PRESENCE_RATE_BURST: count(40, "Messages a socket may send at once (token bucket size)."),
    PRESENCE_ABUSE_CLOSE_AFTER: count(40, "Rejected messages in a row after which a socket is closed with 1008."),
    PRESENCE_MAX_CLIENTS: count(10_000, "Most clients (sockets of members and observers, and HTTP clients) in one room."),
    PRESENCE_MAX_CLIENTS_PER_USER: count(32, "Most clients (sockets and HTTP clients) one user may have in one room."),
    PRESENCE_MAX_CLIENT_TTL_MS: ms(3600_000, 1000, "The longest TTL an HTTP client (a member kept alive by heartbeats, without a socket) may ask for. Default 1 hour."),
    PRESENCE_ANNOUNCE_MAX: count(
      1000,
      "Past this many members a channel goes to interval mode: clients get the counts and their own view (themselves, the users they watch, a window), not every member; it goes back at 90% of it. See docs/benchmarks.md for why 1000.",
    ),
    PRESENCE_INTERVAL_MS: ms(1000, 50, "In interval mode, how often the changes go out (at most one message per client per interval; a change after a quiet interval goes at once)."),
    PRESENCE_DIRECTORY: z
      .enum(["on", "off"])
      .default("on")
      .describe("on: channel rooms report to the user directory (/users, watchUsers); off: no directory traffic at all."),
    PRESENCE_DIRECTORY_PARTS: z.coerce
      .number()
      .int()
      .min(0)
      .max(4096)
      .default(4)
      .describe("How many directory rooms users are hashed over (jump hashing); 0: one room per user; at most 4096. Grow it by a restart with a larger number (users move over, nothing lost); a smaller one is refused."),
    PRESENCE_BAN_REPLICAS: z.coerce
      .number()
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe(
        "How many ban replicas (index rooms bans-0…) the edge's isolates read the ban list from, each isolate one at random; about isolates / 500 keeps each under 100 requests a second. At most 256.",
      ),
    PRESENCE_INDEX_SHARDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe(
        "How many index shards (rooms `index/s0`…) channels report their counts to, by a hash of the channel's name; the root `index/all` hears only the shards. About active channels / 400, so that no shard takes 500 a second when every channel starts at once (see the README's sizing). Changing it moves channels: their old shard lets their leases lapse.",
      ),
    PRESENCE_LEASE_MS: ms(120_000, 3000, "How long the directory trusts a room's report that a user is in its channel; rooms renew it every third of that. A room that dies leaves no ghost longer than this."),
    PRESENCE_HISTORY_MS: ms(24 * 3600 * 1000, 1, "How long a channel keeps its presence events for GET ?history. Default 24 hours."),
    PRESENCE_HISTORY_MAX: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_HISTORY_EVENTS)
      .default(10_000)
      .describe(`Most presence events a channel keeps for GET ?history (the oldest are dropped first); 0: no history. At most ${MAX_HISTORY_EVENTS}.`),
    PRESENCE_MAX_PUSH_BYTES: count(16 * 1024, "Largest push data, in bytes of JSON."),
    PRESENCE_MAX_PUSH_TIMEOUT_MS: ms(30_000, 100, "The longest a push may wait for acknowledgements (its timeoutMs is capped to this)."),
    PRESENCE_CLIENT_PUSH: flag("Let a client push to another member of its channel (presence.push), rate-limited like its other messages."),
    PRESENCE_WEBHOOK_URL: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .optional()
      .describe("Where presence events are POSTed, signed per Standard Webhooks; absent: no webhooks."),
    PRESENCE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{24,}={0,2}$/, "must be whsec_ followed by at least 24 base64 characters (a Standard Webhooks secret)")
      .optional()
      .describe("The Standard Webhooks signing secret, `whsec_` + base64; required with PRESENCE_WEBHOOK_URL."),
    PRESENCE_WEBHOOK_EVENTS: z
      .string()
      .regex(
        /^\s*(join|online|offline|leave|update|user\.online|user\.offline|channel\.occupied|channel\.vacated)(\s*,\s*(join|online|offline|leave|update|user\.online|user\.offline|channel\.occupied|channel\.vacated))*\s*$/,
        "must be a comma list of join, online, offline, leave, update, user.online, user.offline, channel.occupied, channel.vacated",
      )
      .optional()
      .describe("Which events to send (comma list of join, online, offline, leave, update, user.online, user.offline, channel.occupied, channel.vacated); absent: all."),
    PRESENCE_WEBHOOK_TIMEOUT_MS: ms(10_000, 100, "How long one delivery may take before it counts as failed."),
    PRESENCE_WEBHOOK_RETRY_MS: ms(1000, 10, "The first retry's delay; each next one is 4 times longer (with ±20% jitter, at most an hour), or what Retry-After says."),
    PRESENCE_WEBHOOK_MAX_ATTEMPTS: count(8, "Deliveries tried before a batch goes to the dead letters (re-send them with POST ?webhooks=resend)."),
    PRESENCE_AUTH_SECRET: secret(32, "HS256 secret that signs client tokens. Set it (or PRESENCE_AUTH_JWKS_URL) to require a token on every connect."),
    PRESENCE_AUTH_JWKS_URL: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL of a JWKS" })
      .optional()
      .describe("URL of a JWKS with the public keys that sign client tokens (RS/PS/ES/EdDSA); fetched and cached as jose does."),
    PRESENCE_AUTH_ISSUER: z.string().min(1).optional().describe("When set, a token's `iss` must equal it."),
    PRESENCE_AUTH_AUDIENCE: z.string().min(1).optional().describe("When set, a token's `aud` must name it."),
    PRESENCE_AUTH_CLOCK_TOLERANCE_SEC: z.coerce.number().int().min(0).max(300).default(5).describe("Seconds of clock difference allowed when checking a token's `exp` and `nbf`."),
    PRESENCE_ALLOW_ANONYMOUS_OBSERVERS: flag("With auth on, let a socket without a token connect as an observer (no userId)."),
    PRESENCE_SERVER_KEY: secret(16, "Key app servers send as `Authorization: Bearer KEY` for stats and the other server routes; also opens herenow."),
    PRESENCE_CLIENT_POLICY: ClientPolicy.default("multi").describe(
      "multi: a user may have many sockets in a channel; newest-per-user: a new one replaces the user's others there; newest-per-type: it replaces those of the same clientType.",
    ),
    PRESENCE_ALLOWED_ORIGINS: z
      .string()
      .optional()
      .describe("Comma-separated origins (https://app.example.com) allowed to connect and call HTTP from a browser; absent: any."),
  })
  .refine((c) => c.PRESENCE_HEARTBEAT_TIMEOUT_MS > c.PRESENCE_HEARTBEAT_INTERVAL_MS, {
    message: "PRESENCE_HEARTBEAT_TIMEOUT_MS must be larger than PRESENCE_HEARTBEAT_INTERVAL_MS",
    path: ["PRESENCE_HEARTBEAT_TIMEOUT_MS"],
  })
  .refine((c) => (c.PRESENCE_WEBHOOK_URL === undefined) === (c.PRESENCE_WEBHOOK_SECRET === undefined), {
    message: "PRESENCE_WEBHOOK_URL and PRESENCE_WEBHOOK_SECRET go together: set both or neither",
    path: ["PRESENCE_WEBHOOK_SECRET"],
  });

/** The kinds of webhook events. */
export const WEBHOOK_EVENTS = ["join", "online", "offline", "leave", "update", "user.online", "user.offline", "channel.occupied", "channel.vacated"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Where and how presence events are sent; null in Config when no URL is set. */
export type WebhookSettings = {
  url: string;
  secret: string;
  events: ReadonlySet<WebhookEventType>;
  timeoutMs: number;
  retryMs: number;
  maxAttempts: number;
};

/** How client tokens are checked; null in Config when neither a secret nor a JWKS is set (open, for development). */
export type AuthSettings = {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | undefined;
  audience: string | undefined;
  clockToleranceSec: number;
  allowAnonymousObservers: boolean;
};

/** The room's validated settings. */
export type Config = {
  graceMs: number;
  tickMs: number;
  retentionMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxMessageBytes: number;
  maxUserDataBytes: number;
  ratePerSec: number;
  rateBurst: number;
  abuseCloseAfter: number;
  maxClients: number;
  maxClientsPerUser: number;
  /** Members past which a channel is in interval mode. */
  announceMax: number;
  /** The tick of a channel in interval mode. */
  intervalMs: number;
  /** Whether channel rooms report to the user directory. */
  directory: boolean;
  /** Directory rooms users are hashed over; 0: one per user. */
  directoryParts: number;
  /** Ban replicas (`index/bans-N`) the edge's isolates read the ban list from. */
  banReplicas: number;
  /** Index shards channels are hashed over (`index/s0`…). */
  indexShards: number;
  leaseMs: number;
  /** How long presence events are kept for the history route. */
  historyMs: number;
  /** Most presence events kept per channel; 0: no history. */
  historyMax: number;
  maxPushBytes: number;
  maxPushTimeoutMs: number;
  /** The longest TTL of an HTTP client. */
  maxClientTtlMs: number;
  clientPush: boolean;
  webhook: WebhookSettings | null;
  auth: AuthSettings | null;
  serverKey: string | null;
  clientPolicy: ClientPolicy;
  /** Origins a browser may call from; null: any. */
  allowedOrigins: string[] | null;
};

/** The defaults, as used when no variable is set. */
export const DEFAULT_CONFIG: Config = toConfig(ConfigEnv.parse({}));

/** Settings read from an environment: valid, or the sentence that names each bad variable. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; message: string };

const byObject = new WeakMap<object, ConfigResult>();
/** By content too: PartyKit hands the edge a new env object on every request. A few entries at most (one per distinct environment). */
const byContent = new Map<string, ConfigResult>();
const MAX_CACHED = 16;

/** Reads and validates the settings once per environment (by object, then by its PRESENCE_* values). */
export function readConfig(env: Record<string, unknown>): ConfigResult {
  let result = byObject.get(env);
  if (result) return result;
  let key = "";
  for (const name in env) if (name.startsWith("PRESENCE_")) key += `${name}\u0000${String(env[name])}\u0000`;
  result = byContent.get(key);
  if (!result) {
    result = parseConfig(env);
    if (byContent.size >= MAX_CACHED) byContent.clear();
    byContent.set(key, result);
  }
  byObject.set(env, result);
  return result;
}

/** Reads and validates the settings; throws an Error naming each bad variable. */
export function loadConfig(env: Record<string, unknown>): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

function parseConfig(env: Record<string, unknown>): ConfigResult {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key.startsWith("PRESENCE_") && value !== ""),
  );
  const parsed = ConfigEnv.safeParse(relevant);
  if (!parsed.success) return { ok: false, message: `invalid presence configuration: ${z.prettifyError(parsed.error)}` };
  return { ok: true, config: toConfig(parsed.data) };
}

function toConfig(env: z.infer<typeof ConfigEnv>): Config {
  return {
    graceMs: env.PRESENCE_GRACE_MS,
    tickMs: env.PRESENCE_TICK_MS,
    retentionMs: env.PRESENCE_RETENTION_MS,
    heartbeatIntervalMs: env.PRESENCE_HEARTBEAT_INTERVAL_MS,
    heartbeatTimeoutMs: env.PRESENCE_HEARTBEAT_TIMEOUT_MS,
    maxMessageBytes: env.PRESENCE_MAX_MESSAGE_BYTES,
    maxUserDataBytes: env.PRESENCE_MAX_USER_DATA_BYTES,
    ratePerSec: env.PRESENCE_RATE_PER_SEC,
    rateBurst: env.PRESENCE_RATE_BURST,
    abuseCloseAfter: env.PRESENCE_ABUSE_CLOSE_AFTER,
    maxClients: env.PRESENCE_MAX_CLIENTS,
    maxClientsPerUser: env.PRESENCE_MAX_CLIENTS_PER_USER,
    announceMax: env.PRESENCE_ANNOUNCE_MAX,
    intervalMs: env.PRESENCE_INTERVAL_MS,
    directory: env.PRESENCE_DIRECTORY === "on",
    directoryParts: env.PRESENCE_DIRECTORY_PARTS,
    banReplicas: env.PRESENCE_BAN_REPLICAS,
    indexShards: env.PRESENCE_INDEX_SHARDS,
    leaseMs: env.PRESENCE_LEASE_MS,
    historyMs: env.PRESENCE_HISTORY_MS,
    historyMax: env.PRESENCE_HISTORY_MAX,
    maxPushBytes: env.PRESENCE_MAX_PUSH_BYTES,
    maxPushTimeoutMs: env.PRESENCE_MAX_PUSH_TIMEOUT_MS,
    maxClientTtlMs: env.PRESENCE_MAX_CLIENT_TTL_MS,
    clientPush: env.PRESENCE_CLIENT_PUSH,
    webhook:
      env.PRESENCE_WEBHOOK_URL === undefined || env.PRESENCE_WEBHOOK_SECRET === undefined
        ? null
        : {
            url: env.PRESENCE_WEBHOOK_URL,
            secret: env.PRESENCE_WEBHOOK_SECRET,
            events: new Set(
              env.PRESENCE_WEBHOOK_EVENTS === undefined
                ? WEBHOOK_EVENTS
                : (env.PRESENCE_WEBHOOK_EVENTS.split(",").map((kind) => kind.trim()) as WebhookEventType[]),
            ),
            timeoutMs: env.PRESENCE_WEBHOOK_TIMEOUT_MS,
            retryMs: env.PRESENCE_WEBHOOK_RETRY_MS,
            maxAttempts: env.PRESENCE_WEBHOOK_MAX_ATTEMPTS,
          },
    auth:
      env.PRESENCE_AUTH_SECRET === undefined && env.PRESENCE_AUTH_JWKS_URL === undefined
        ? null
        : {
            secret: env.PRESENCE_AUTH_SECRET ?? null,
            jwksUrl: env.PRESENCE_AUTH_JWKS_URL ?? null,
            issuer: env.PRESENCE_AUTH_ISSUER,
            audience: env.PRESENCE_AUTH_AUDIENCE,
            clockToleranceSec: env.PRESENCE_AUTH_CLOCK_TOLERANCE_SEC,
            allowAnonymousObservers: env.PRESENCE_ALLOW_ANONYMOUS_OBSERVERS,
          },
    serverKey: env.PRESENCE_SERVER_KEY ?? null,
    clientPolicy: env.PRESENCE_CLIENT_POLICY,
    allowedOrigins: env.PRESENCE_ALLOWED_ORIGINS
      ? env.PRESENCE_ALLOWED_ORIGINS.split(",").map((origin) => origin.trim().replace(/\/$/, "")).filter(Boolean)
      : null,
  };
}
