/**
 * The room's settings, read from its environment (`--var NAME=VALUE` or `.env` in dev,
 * `partykit env add` for deploys) and validated once at start.
 */
import { z } from "zod";
import { DEFAULT_MAX_USER_DATA_BYTES } from "./json.ts";

const ms = (fallback: number, min: number, meaning: string) =>
  z.coerce.number().int().min(min).default(fallback).describe(meaning);
const count = (fallback: number, meaning: string) => z.coerce.number().int().min(1).default(fallback).describe(meaning);

/** Environment variables the room reads, with their defaults. */
export const ConfigEnv = z
  .object({
    PRESENCE_GRACE_MS: ms(5_000, 0, "How long a dropped client may take to come back before its member goes offline."),
    PRESENCE_TICK_MS: ms(50, 1, "How long events are gathered before one message goes out."),
    PRESENCE_RETENTION_MS: ms(7 * 24 * 3600 * 1000, 1, "How long an offline member is kept before it leaves. Default 7 days."),
    PRESENCE_HEARTBEAT_INTERVAL_MS: ms(10_000, 100, "How often clients send a ping."),
    PRESENCE_HEARTBEAT_TIMEOUT_MS: ms(30_000, 200, "A socket silent this long is closed (4001) and its client dropped."),
    PRESENCE_MAX_MESSAGE_BYTES: count(16 * 1024, "Largest text frame a client may send, in bytes."),
    PRESENCE_MAX_USER_DATA_BYTES: count(DEFAULT_MAX_USER_DATA_BYTES, "Largest userData, in bytes of JSON."),
    PRESENCE_RATE_PER_SEC: count(20, "Sustained messages per second per socket (token bucket refill)."),
    PRESENCE_RATE_BURST: count(40, "Messages a socket may send at once (token bucket size)."),
    PRESENCE_ABUSE_CLOSE_AFTER: count(40, "Rejected messages in a row after which a socket is closed with 1008."),
    PRESENCE_MAX_CLIENTS: count(10_000, "Most sockets (members and observers) in one room."),
    PRESENCE_MAX_CLIENTS_PER_USER: count(32, "Most sockets one user may have in one room."),
  })
  .refine((c) => c.PRESENCE_HEARTBEAT_TIMEOUT_MS > c.PRESENCE_HEARTBEAT_INTERVAL_MS, {
    message: "PRESENCE_HEARTBEAT_TIMEOUT_MS must be larger than PRESENCE_HEARTBEAT_INTERVAL_MS",
    path: ["PRESENCE_HEARTBEAT_TIMEOUT_MS"],
  });

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
};

/** The defaults, as used when no variable is set. */
export const DEFAULT_CONFIG: Config = toConfig(ConfigEnv.parse({}));

/** Settings read from an environment: valid, or the sentence that names each bad variable. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; message: string };

const cache = new WeakMap<object, ConfigResult>();

/** Reads and validates the settings once per environment object. */
export function readConfig(env: Record<string, unknown>): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env);
    cache.set(env, result);
  }
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
  };
}
