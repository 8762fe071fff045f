/**
 * HTTP clients, as the channel takes them: members without a socket kept alive by heartbeats
 * with a TTL. A checked heartbeat creates the client (caps, one-client policy, pushes waiting
 * for its user) or renews it (changed data is an `update`); it takes the client's acks and
 * returns the pushes held for it. Every refusal is counted and changes nothing. The HTTP side
 * (paths, bodies, their schemas) is the service's (http-clients-route.ts); rows are written as
 * effects before the answer goes out.
 */
import { bannedRefusal } from "../server/ban-cache.ts";
import type { Caller } from "../server/hand-off.ts";
import {
  DEFAULT_HTTP_CLIENT_TYPE,
  type ErrorCode,
  type HttpClientHeartbeat,
  type HttpClientListing,
  type HttpClientRefusal,
  type HttpClientState,
} from "../protocol/index.ts";
import { jsonEqual, jsonProblem, type JsonValue } from "../wire/json.ts";
import type { Channel } from "./channel.ts";
import type { Departures } from "./departures.ts";
import { type HttpClientRow, httpConnectionId, type HttpClientRows } from "./http-client-rows.ts";
import type { ChannelPushes } from "./pushes.ts";

/** A refusal of a request or of one heartbeat: its status, code and sentence. */
export type Refusal = { status: 400 | 403 | 409 | 413 | 429; error: ErrorCode; message: string };

/** One heartbeat as the route read it: its client id, its body, and its data exactly as sent (zod's copy drops `__proto__` keys). */
export type Beat = { clientId: string; body: HttpClientHeartbeat; data: JsonValue | undefined };

/** The answer to a request, or its refusal. */
export type Answer<T> = { ok: true; value: T } | ({ ok: false } & Refusal);

/** The channel's HTTP clients. */
export class Heartbeats {
  readonly #channel: Channel;
  readonly #rows: HttpClientRows;
  readonly #departures: Departures;
  readonly #pushes: ChannelPushes;

  constructor(channel: Channel, rows: HttpClientRows, departures: Departures, pushes: ChannelPushes) {
    this.#channel = channel;
    this.#rows = rows;
    this.#departures = departures;
    this.#pushes = pushes;
  }

  /** A client whose time ran out is gone, exactly at its deadline, even if the alarm is late: applied before any request. */
  settle(now: number): void {
    for (const lapsed of this.#channel.members.lapse(now)) this.#departures.lapsed(lapsed, now);
  }

  /** `PUT …/clients/CLIENT_ID`. */
  one(beat: Beat, caller: Caller, now: number): Answer<HttpClientState & { clientAmount: number; userAmount: number }> {
    const checked = this.#check(beat);
    const result = checked ?? this.#apply(beat, caller, now);
    if ("status" in result) return this.#refused(result);
    return { ok: true, value: { ...result, ...this.#channel.members.counts() } };
  }

  /** `POST …/clients`: a bad heartbeat refuses the whole batch; a client refused for its own reasons does not stop the others. */
  batch(beats: readonly Beat[], caller: Caller, now: number): Answer<{ clients: Array<HttpClientState | HttpClientRefusal>; clientAmount: number; userAmount: number }> {
    for (const [i, beat] of beats.entries()) {
      const problem = this.#check(beat);
      if (problem) return this.#refused({ ...problem, message: `clients[${i}] (${beat.clientId}): ${problem.message}` });
    }
    if (new Set(beats.map((beat) => beat.clientId)).size !== beats.length) return this.#refused({ status: 400, error: "bad_request", message: "a client id appears twice in the batch" });
    const clients = beats.map((beat): HttpClientState | HttpClientRefusal => {
      const result = this.#apply(beat, caller, now);
      if (!("status" in result)) return result;
      this.#channel.stats.count("refusedRequests", result.error);
      return { clientId: beat.clientId, error: result.error, message: result.message };
    });
    return { ok: true, value: { clients, ...this.#channel.members.counts() } };
  }

  /** `DELETE …/clients/CLIENT_ID`: the client leaves (an unknown id is no error: a retried delete answers the same). */
  remove(clientId: string, caller: Caller, now: number): Answer<{ clientId: string; removed: boolean; clientAmount: number; userAmount: number }> {
    const { members, out } = this.#channel;
    const row = this.#rows.get(clientId);
    if (row && caller.kind === "user" && row.userId !== caller.userId) {
      return this.#refused({ status: 403, error: "forbidden", message: `client ${clientId} is not of user ${caller.userId}` });
    }
    const removed = row !== undefined && row.replacedUntil === undefined;
    if (removed) {
      const connectionId = httpConnectionId(clientId);
      this.#departures.forget(connectionId, now);
      members.leave(connectionId);
      out.tick();
    }
    if (row) this.#rows.delete(clientId);
    return { ok: true, value: { clientId, removed, ...members.counts() } };
  }

  /** `GET …/clients?limit=&cursor=`: the HTTP clients by id, with their deadlines (the server key only). */
  list(limit: number, cursor: string | undefined, caller: Caller): Answer<{ clients: HttpClientListing[]; cursor?: string }> {
    if (caller.kind !== "server") return this.#refused({ status: 403, error: "forbidden", message: "listing clients needs the server key" });
    const after = this.#rows.live().filter((row) => cursor === undefined || row.clientId > cursor);
    const page = after.slice(0, limit);
    const clients: HttpClientListing[] = page.map(({ clientId, userId, clientType, ttlMs, renewedAt, expiresAt }) => ({
      clientId,
      userId,
      clientType,
      ttlMs,
      renewedAt,
      expiresAt,
      pushes: this.#pushes.waiting(httpConnectionId(clientId)).length,
    }));
    return { ok: true, value: after.length > limit ? { clients, cursor: page.at(-1)!.clientId } : { clients } };
  }

  /** Counts a refusal of the whole request and answers it. */
  refused(refusal: Refusal): Answer<never> {
    return this.#refused(refusal);
  }

  /** What a heartbeat says by itself: its TTL within the settings, its data a JSON value within the cap. */
  #check({ body, data }: Beat): Refusal | null {
    const { config } = this.#channel;
    if (body.ttlMs > config.maxClientTtlMs) return { status: 400, error: "bad_request", message: `ttlMs is over ${config.maxClientTtlMs} (PRESENCE_MAX_CLIENT_TTL_MS)` };
    if (data !== undefined) {
      const problem = jsonProblem(data, config.maxUserDataBytes, "data");
      if (problem) return { status: problem.code === "too_large" ? 413 : 400, error: problem.code === "too_large" ? "too_large" : "bad_request", message: problem.message };
    }
    return null;
  }

  /** Applies one checked heartbeat for this caller: creates or renews the client, or says why not. */
  #apply({ clientId, body, data: sent }: Beat, caller: Caller, now: number): HttpClientState | Refusal {
    const { config, members, out } = this.#channel;
    const ban = caller.kind === "server" ? caller.banned?.find((banned) => banned.userId === body.userId) : undefined;
    if (ban) return bannedRefusal(ban);
    if (caller.kind === "user") {
      if (body.userId !== caller.userId) return { status: 403, error: "forbidden", message: `the token is for user ${caller.userId}, not ${body.userId}` };
      if (caller.clientType !== undefined && body.clientType !== undefined && body.clientType !== caller.clientType) {
        return { status: 403, error: "forbidden", message: `the token pins clientType ${caller.clientType}, not ${body.clientType}` };
      }
      if (caller.dataLocked && sent !== undefined) return { status: 403, error: "forbidden", message: "the token fixes this user's data: leave out data" };
    }
    const row = this.#rows.get(clientId);
    if (row?.replacedUntil !== undefined) {
      return { status: 409, error: "replaced", message: `a newer client of ${row.userId} replaced ${clientId} (PRESENCE_CLIENT_POLICY); it may come back after ${new Date(row.replacedUntil).toISOString()}` };
    }
    if (row && row.userId !== body.userId) return { status: 409, error: "conflict", message: `client ${clientId} belongs to another user` };
    const clientType = (caller.kind === "user" ? caller.clientType : undefined) ?? body.clientType ?? row?.clientType ?? DEFAULT_HTTP_CLIENT_TYPE;
    if (row && body.clientType !== undefined && body.clientType !== row.clientType) {
      return { status: 409, error: "conflict", message: `client ${clientId} is of type ${row.clientType}; remove it first to change its type` };
    }
    const tokenData = caller.kind === "user" ? caller.data : undefined;
    const tokenUntil = caller.kind === "user" ? caller.expiresAt : Infinity;
    const expiresAt = Math.min(now + body.ttlMs, tokenUntil);
    const connectionId = httpConnectionId(clientId);
    if (row && members.renew(connectionId, expiresAt, now)) {
      const data = tokenData ?? sent;
      if (data !== undefined && !jsonEqual(data, members.member(body.userId)?.data ?? null)) members.update(connectionId, data);
    } else {
      if (members.liveClientCount() >= config.maxClients) return { status: 429, error: "room_full", message: `room is full (${config.maxClients} clients); try again later` };
      if (members.liveClientCount(body.userId) >= config.maxClientsPerUser) {
        return { status: 429, error: "user_full", message: `user ${body.userId} has ${config.maxClientsPerUser} clients here already` };
      }
      const data = tokenData ?? sent ?? members.member(body.userId)?.data ?? null;
      members.connect({ connectionId, userId: body.userId, clientType, data, lastActive: now, expiresAt }, now);
      this.#departures.replaceOthers(connectionId, body.userId, clientType, now);
      this.#pushes.connected(connectionId, body.userId, clientType, now);
    }
    this.#rows.put({ clientId, userId: body.userId, clientType, ttlMs: body.ttlMs, renewedAt: now, expiresAt } satisfies HttpClientRow);
    for (const id of body.acks ?? []) this.#pushes.ack(connectionId, id, true);
    out.tick();
    return { clientId, userId: body.userId, clientType, expiresAt, pushes: this.#pushes.waiting(connectionId) };
  }

  #refused(refusal: Refusal): Answer<never> {
    this.#channel.stats.count("refusedRequests", refusal.error);
    return { ok: false, ...refusal };
  }
}
