/**
 * HTTP clients, as the channel room serves them: members without a socket kept alive by
 * heartbeats with a TTL (`PUT`/`DELETE …/clients/CLIENT_ID`, `POST …/clients` for up to 1,000,
 * `GET …/clients` to list them). A heartbeat creates the client (caps, one-client policy,
 * pushes waiting for its user) or renews it (changed data is an `update`); it takes the
 * client's acks and returns the pushes held for it. Each is written to storage before it is
 * answered. Every refusal is counted in the room's stats and changes nothing.
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import { fail, methodNotAllowed, ok } from "../server/envelope.ts";
import { bannedRefusal } from "../server/ban-cache.ts";
import { type Caller, readCaller } from "../server/hand-off.ts";
import type { TickLoop } from "../server/tick-loop.ts";
import {
  ClientId,
  DEFAULT_HTTP_CLIENT_TYPE,
  type ErrorCode,
  HttpClientBatch,
  HttpClientHeartbeat,
  type HttpClientListing,
  HttpClientListQuery,
  type HttpClientRefusal,
  type HttpClientState,
  MAX_BATCH_BODY_BYTES,
  MAX_CLIENTS_PER_BATCH,
} from "../protocol/index.ts";
import { jsonEqual, jsonProblem, type JsonValue, utf8Bytes } from "../wire/json.ts";
import type { Departures } from "./departures.ts";
import { type HttpClientRow, httpConnectionId, type HttpClientRows } from "./http-client-rows.ts";
import type { PresenceState } from "./presence.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { StatsCounters } from "./stats.ts";

/** The parts a heartbeat touches. */
export type HeartbeatParts = {
  config: Config;
  state: PresenceState;
  rows: HttpClientRows;
  departures: Departures;
  pushes: ChannelPushes;
  stats: StatsCounters;
  ticks: TickLoop;
};

/** A refusal of one heartbeat: its status, code and sentence. */
type Refusal = { status: 400 | 403 | 409 | 413 | 429; error: ErrorCode; message: string };

/** One checked heartbeat, ready to apply. */
type Beat = { clientId: string; body: HttpClientHeartbeat; data: JsonValue | undefined };

/** Most bytes of one heartbeat's body beyond its data. */
const BODY_OVERHEAD_BYTES = 8 * 1024;

/** The room's HTTP clients. */
export class Heartbeats {
  readonly #parts: HeartbeatParts;

  constructor(parts: HeartbeatParts) {
    this.#parts = parts;
  }

  /** Answers a request to `…/clients` (`clientId` null) or `…/clients/CLIENT_ID` (as sent, maybe percent-encoded). */
  async answer(request: Request, rawClientId: string | null): Promise<Response> {
    const caller = readCaller(request);
    if (caller === null) return fail(403, "forbidden", "this route is reached through the edge only");
    // A client whose time ran out is gone, exactly at its deadline, even if the alarm is late.
    for (const lapsed of this.#parts.state.lapse(Date.now())) this.#parts.departures.lapsed(lapsed);
    let response: Response;
    if (rawClientId === null) {
      if (request.method === "GET") response = this.#list(new URL(request.url), caller);
      else if (request.method === "POST") response = await this.#batch(request, caller);
      else response = methodNotAllowed(["GET", "POST"]);
    } else {
      const clientId = ClientId.safeParse(decodeOr(rawClientId));
      if (!clientId.success) response = this.#refused({ status: 400, error: "bad_request", message: `bad client id in the path: ${z.prettifyError(clientId.error)}` });
      else if (request.method === "PUT") response = await this.#one(request, clientId.data, caller);
      else if (request.method === "DELETE") response = await this.#remove(clientId.data, caller);
      else response = methodNotAllowed(["PUT", "DELETE"]);
    }
    await this.#parts.rows.flush();
    return response;
  }

  /** `PUT …/clients/CLIENT_ID`. */
  async #one(request: Request, clientId: string, caller: Caller): Promise<Response> {
    const read = await readBody(request, this.#parts.config.maxUserDataBytes + BODY_OVERHEAD_BYTES);
    if ("status" in read) return this.#refused(read);
    const body = HttpClientHeartbeat.safeParse(read.value);
    if (!body.success) return this.#refused({ status: 400, error: "bad_request", message: `a heartbeat is {userId, ttlMs, data?, clientType?, acks?}: ${z.prettifyError(body.error)}` });
    const beat = this.#check(clientId, body.data, (read.value as { data?: JsonValue }).data);
    if ("status" in beat) return this.#refused(beat);
    const result = this.#apply(beat, caller, Date.now());
    if ("status" in result) return this.#refused(result);
    return ok({ ...result, ...this.#parts.state.counts() });
  }

  /** `POST …/clients`: a bad body refuses the whole batch; a client refused for its own reasons does not stop the others. */
  async #batch(request: Request, caller: Caller): Promise<Response> {
    const read = await readBody(request, MAX_BATCH_BODY_BYTES);
    if ("status" in read) return this.#refused(read);
    const batch = HttpClientBatch.safeParse(read.value);
    if (!batch.success) {
      return this.#refused({ status: 400, error: "bad_request", message: `a batch is {clients: [{clientId, userId, ttlMs, data?, clientType?, acks?}, …]} (at most ${MAX_CLIENTS_PER_BATCH}): ${z.prettifyError(batch.error)}` });
    }
    const raw = (read.value as { clients: Array<{ data?: JsonValue }> }).clients;
    const beats: Beat[] = [];
    for (const [i, { clientId, ...body }] of batch.data.clients.entries()) {
      const beat = this.#check(clientId, body, raw[i]!.data);
      if ("status" in beat) return this.#refused({ ...beat, message: `clients[${i}] (${clientId}): ${beat.message}` });
      beats.push(beat);
    }
    if (new Set(beats.map((beat) => beat.clientId)).size !== beats.length) return this.#refused({ status: 400, error: "bad_request", message: "a client id appears twice in the batch" });
    const now = Date.now();
    const clients: Array<HttpClientState | HttpClientRefusal> = beats.map((beat) => {
      const result = this.#apply(beat, caller, now);
      if (!("status" in result)) return result;
      this.#parts.stats.count("refusedRequests", result.error);
      return { clientId: beat.clientId, error: result.error, message: result.message };
    });
    return ok({ clients, ...this.#parts.state.counts() });
  }

  /** `DELETE …/clients/CLIENT_ID`: the client leaves (an unknown id is no error: a retried delete answers the same). */
  #remove(clientId: string, caller: Caller): Response {
    const { state, rows, departures, ticks } = this.#parts;
    const row = rows.get(clientId);
    if (row && caller.kind === "user" && row.userId !== caller.userId) {
      return this.#refused({ status: 403, error: "forbidden", message: `client ${clientId} is not of user ${caller.userId}` });
    }
    const removed = row !== undefined && row.replacedUntil === undefined;
    if (removed) {
      const connectionId = httpConnectionId(clientId);
      departures.forget(connectionId);
      state.leave(connectionId);
      ticks.schedule();
    }
    if (row) rows.delete(clientId);
    return ok({ clientId, removed, ...state.counts() });
  }

  /** `GET …/clients?limit=&cursor=`: the HTTP clients by id, with their deadlines (the server key only: the edge saw to it). */
  #list(url: URL, caller: Caller): Response {
    if (caller.kind !== "server") return this.#refused({ status: 403, error: "forbidden", message: "listing clients needs the server key" });
    const query = HttpClientListQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused({ status: 400, error: "bad_request", message: z.prettifyError(query.error) });
    const { limit, cursor } = query.data;
    const after = this.#parts.rows.live().filter((row) => cursor === undefined || row.clientId > cursor);
    const page = after.slice(0, limit);
    const clients: HttpClientListing[] = page.map(({ clientId, userId, clientType, ttlMs, renewedAt, expiresAt }) => ({
      clientId,
      userId,
      clientType,
      ttlMs,
      renewedAt,
      expiresAt,
      pushes: this.#parts.pushes.waiting(httpConnectionId(clientId)).length,
    }));
    return ok(after.length > limit ? { clients, cursor: page.at(-1)!.clientId } : { clients });
  }

  /** What a heartbeat says by itself: its TTL within the settings, its data a JSON value within the cap. */
  #check(clientId: string, body: HttpClientHeartbeat, rawData: JsonValue | undefined): Beat | Refusal {
    const { config } = this.#parts;
    if (body.ttlMs > config.maxClientTtlMs) return { status: 400, error: "bad_request", message: `ttlMs is over ${config.maxClientTtlMs} (PRESENCE_MAX_CLIENT_TTL_MS)` };
    // The data as sent (zod's copy drops "__proto__" keys).
    if (rawData !== undefined) {
      const problem = jsonProblem(rawData, config.maxUserDataBytes, "data");
      if (problem) return { status: problem.code === "too_large" ? 413 : 400, error: problem.code === "too_large" ? "too_large" : "bad_request", message: problem.message };
    }
    return { clientId, body, data: rawData };
  }

  /** Applies one checked heartbeat for this caller: creates or renews the client, or says why not. */
  #apply({ clientId, body, data: sent }: Beat, caller: Caller, now: number): HttpClientState | Refusal {
    const { config, state, rows, departures, pushes, ticks } = this.#parts;
    const ban = caller.kind === "server" ? caller.banned?.find((banned) => banned.userId === body.userId) : undefined;
    if (ban) return bannedRefusal(ban);
    if (caller.kind === "user") {
      if (body.userId !== caller.userId) return { status: 403, error: "forbidden", message: `the token is for user ${caller.userId}, not ${body.userId}` };
      if (caller.clientType !== undefined && body.clientType !== undefined && body.clientType !== caller.clientType) {
        return { status: 403, error: "forbidden", message: `the token pins clientType ${caller.clientType}, not ${body.clientType}` };
      }
      if (caller.dataLocked && sent !== undefined) return { status: 403, error: "forbidden", message: "the token fixes this user's data: leave out data" };
    }
    const row = rows.get(clientId);
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
    if (row && state.renew(connectionId, expiresAt, now)) {
      const data = tokenData ?? sent;
      if (data !== undefined && !jsonEqual(data, state.member(body.userId)?.data ?? null)) state.update(connectionId, data);
    } else {
      if (state.liveClientCount() >= config.maxClients) return { status: 429, error: "room_full", message: `room is full (${config.maxClients} clients); try again later` };
      if (state.liveClientCount(body.userId) >= config.maxClientsPerUser) {
        return { status: 429, error: "user_full", message: `user ${body.userId} has ${config.maxClientsPerUser} clients here already` };
      }
      const data = tokenData ?? sent ?? state.member(body.userId)?.data ?? null;
      state.connect({ connectionId, userId: body.userId, clientType, data, lastActive: now, expiresAt }, now);
      departures.replaceOthers(connectionId, body.userId, clientType, now);
      pushes.connected(connectionId, body.userId, clientType);
    }
    rows.put({ clientId, userId: body.userId, clientType, ttlMs: body.ttlMs, renewedAt: now, expiresAt } satisfies HttpClientRow);
    for (const id of body.acks ?? []) pushes.ack(connectionId, id, true);
    ticks.schedule();
    return { clientId, userId: body.userId, clientType, expiresAt, pushes: pushes.waiting(connectionId) };
  }

  /** Counts a refusal and answers it. */
  #refused(refusal: Refusal): Response {
    this.#parts.stats.count("refusedRequests", refusal.error);
    return fail(refusal.status, refusal.error, refusal.message);
  }
}

/** The body as JSON, within `maxBytes`; a refusal for a larger, empty or malformed one. */
async function readBody(request: Request, maxBytes: number): Promise<{ value: unknown } | Refusal> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge: Refusal = { status: 413, error: "too_large", message: `the body is larger than ${maxBytes} bytes` };
  if (declared > maxBytes) return tooLarge;
  const text = await request.text();
  if (utf8Bytes(text) > maxBytes) return tooLarge;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { status: 400, error: "bad_request", message: "the body is not JSON" };
  }
}

function decodeOr(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
