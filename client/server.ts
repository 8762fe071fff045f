/**
 * `partykit-presence/server`: the HTTP API for app servers. Uses only `fetch`, so it runs in
 * Node, Deno, Bun and workers alike.
 */
import type { JsonValue } from "../party/wire/json.ts";
import type { BanLifted, BanStatus, DisconnectResult, HereNowOptions, HistoryOptions, HistoryPage, PushResult, RoomStats, UserStatus } from "../party/protocol/index.ts";
import { type HttpClientsApi, httpClientsApi } from "./http-clients.ts";
import {
  BanLiftedResponseDefs,
  BanLiftedResponseSchema,
  BanStatusResponseDefs,
  BanStatusResponseSchema,
  DisconnectResponseDefs,
  DisconnectResponseSchema,
  HistoryResponseDefs,
  HistoryResponseSchema,
  PushResponseDefs,
  PushResponseSchema,
  StatsResponseDefs,
  StatsResponseSchema,
  UsersResponseDefs,
  UsersResponseSchema,
} from "../party/wire/schemas.generated.ts";
import { fetchHereNow, type HereNowResult, type PresenceApiOptions, requestJson } from "./http.ts";

export { PresenceHttpError, type HereNowResult, type PresenceApiOptions } from "./http.ts";
export type { HttpClientsApi, HttpClientInput, HttpClientAnswer, HttpClientBatchAnswer } from "./http-clients.ts";
export { createPresenceToken, type PresenceTokenOptions } from "./tokens.ts";
export { verifyWebhook } from "./webhooks.ts";
export type * from "../party/protocol/index.ts";

/** The server-side API (its HTTP clients' part: `heartbeat`, `heartbeatMany`, `removeClient`, `clients`). */
export type PresenceApi = HttpClientsApi & {
  /** herenow for one or many channels (at most 100), in one request. */
  hereNow(request: HereNowOptions & { channels: string[] }): Promise<HereNowResult>;
  /** A room's counters of refused connections, rejected messages and closes. */
  stats(channel: string): Promise<RoomStats>;
  /**
   * One page of a channel's presence history, oldest first: events at or after `since` (epoch
   * ms), at most `limit` (1–1000, default 100), from `cursor` (the page before's) on; the page
   * has a `cursor` while more follow.
   */
  history(channel: string, options?: HistoryOptions): Promise<HistoryPage>;
  /** The status of up to 1,000 users across channels, by id (an unknown user: `{id, online: false, lastSeen: null}`). */
  users(userIds: readonly string[]): Promise<Record<string, UserStatus>>;
  /**
   * Pushes `data` to every live client of a user (or those in `channel` / of `clientType`) and
   * resolves, once each acknowledged or `timeoutMs` (default 5000) passed, with which did. An
   * `id` makes it idempotent for 10 minutes: retry with the same id after a failure.
   */
  push(userId: string, data: JsonValue, options?: PushOptions): Promise<PushResult>;
  /**
   * Closes every client of a user at once, in every channel (or only `channel`), without
   * grace: sockets are told `reason` and closed with 4004 (the client does not reconnect),
   * HTTP clients are removed. Resolves with what was closed, per channel. With `banSeconds`
   * (1 to a year) the user is also banned everywhere: its connects, HTTP clients and tokens are
   * refused with 403 `banned` until then (`bannedUntil` in the answer) or until `unban`.
   */
  disconnect(userId: string, options?: { reason?: string; channel?: string; banSeconds?: number }): Promise<DisconnectResult>;
  /** The user's ban in force, if any. */
  ban(userId: string): Promise<BanStatus>;
  /** Lifts the user's ban (`lifted: false` when there was none). */
  unban(userId: string): Promise<BanLifted>;
};

/** Which of a user's clients a push is for, and how long to wait for their acks. */
export type PushOptions = { id?: string; channel?: string; clientType?: string; timeoutMs?: number };

/** Makes the server-side API for a host; `serverKey` (PRESENCE_SERVER_KEY) is sent with every call. */
export function createPresenceApi(options: PresenceApiOptions): PresenceApi {
  const party = options.party ?? "main";
  return {
    ...httpClientsApi(options),
    hereNow: (request) => fetchHereNow(options, request),
    async stats(channel) {
      const body = await requestJson<{ content: RoomStats }>(options, `/parties/${party}/${encodeURIComponent(channel)}?stats`, [StatsResponseSchema, StatsResponseDefs]);
      return body.content;
    },
    async history(channel, { since, limit, cursor } = {}) {
      const query = new URLSearchParams({ history: "" });
      if (since !== undefined) query.set("since", String(since));
      if (limit !== undefined) query.set("limit", String(limit));
      if (cursor !== undefined) query.set("cursor", cursor);
      const body = await requestJson<{ content: HistoryPage }>(options, `/parties/${party}/${encodeURIComponent(channel)}?${query}`, [HistoryResponseSchema, HistoryResponseDefs]);
      return body.content;
    },
    async users(userIds) {
      // Short lists as a plain GET; long ones as a POST body (URLs have limits).
      const query = new URLSearchParams(userIds.map((id) => ["userId", id]));
      const body =
        query.toString().length <= 1500
          ? await requestJson<{ content: { users: Record<string, UserStatus> } }>(options, `/users?${query}`, [UsersResponseSchema, UsersResponseDefs])
          : await requestJson<{ content: { users: Record<string, UserStatus> } }>(options, "/users", [UsersResponseSchema, UsersResponseDefs], {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ userIds }),
            });
      return body.content.users;
    },
    async push(userId, data, which = {}) {
      const body = await requestJson<{ content: PushResult }>(options, `/users/${encodeURIComponent(userId)}/push`, [PushResponseSchema, PushResponseDefs], {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ data, ...which }),
      });
      return body.content;
    },
    async disconnect(userId, which = {}) {
      const body = await requestJson<{ content: DisconnectResult }>(options, `/users/${encodeURIComponent(userId)}/disconnect`, [DisconnectResponseSchema, DisconnectResponseDefs], {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(which),
      });
      return body.content;
    },
    async ban(userId) {
      const body = await requestJson<{ content: BanStatus }>(options, `/users/${encodeURIComponent(userId)}/ban`, [BanStatusResponseSchema, BanStatusResponseDefs]);
      return body.content;
    },
    async unban(userId) {
      const body = await requestJson<{ content: BanLifted }>(options, `/users/${encodeURIComponent(userId)}/ban`, [BanLiftedResponseSchema, BanLiftedResponseDefs], { method: "DELETE" });
      return body.content;
    },
  };
}
