/**
 * The worker's checks before any room is touched: a bad channel name, a misconfigured
 * service, a browser from an origin not allowed, a bad handshake, a missing or bad token, or
 * missing credentials for an HTTP route, or a banned user, is answered here (400 / 401 / 403 / 500 / 503) and
 * never reaches a room; a good connect is passed on with its accepted handshake. The hooks of
 * every party, by party: the directory takes nothing from outside, the index only dashboards.
 */
import { INTERNAL_HEADER } from "../server/calls.ts";
import { fail, preflight, withCors } from "../server/envelope.ts";
import type { EdgeHost } from "../server/host.ts";
import { configOr500 } from "../server/room.ts";
import type { PartyName, RefusalCount } from "../protocol/index.ts";
import { channelProblem, parseHandshake } from "../wire/handshake.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY } from "../wire/parties.ts";
import { admitConnect, authorizeHttpClient, authorizeRequest, originRefusal, type Refusal } from "./access.ts";
import { adminSocketRefusal } from "./admin.ts";
import { banLookup, bansOf, httpClientBans } from "./bans.ts";
import { bannedRefusal } from "../server/ban-cache.ts";
import { forwardCaller, forwardHandshake } from "../server/hand-off.ts";
import { httpClientRoute } from "../wire/parties.ts";

/** What the edge does before a connect or a request reaches a room of a party: the request to pass on, or the answer. */
export type PartyHooks = {
  beforeConnect(request: Request, room: string, edge: EdgeHost): Promise<Request | Response>;
  beforeRequest(request: Request, room: string, edge: EdgeHost): Promise<Request | Response>;
};

/** The channel rooms: names, settings, origins, handshakes, tokens and credentials. */
const channelHooks: PartyHooks = {
  async beforeConnect(request, channel, edge) {
    const problem = channelProblem(channel);
    if (problem) return fail(400, "bad_request", problem);
    const config = configOr500(edge.env);
    if (config instanceof Response) return config;
    const refuse = (refusal: Refusal, reason: string) => {
      // Count it in the room's stats without delaying the answer.
      edge.waitUntil(countRefusal(edge, channel, { group: "refusedConnections", reason }));
      return fail(refusal.status, refusal.error, `refused: ${refusal.message}`);
    };
    const origin = originRefusal(request, config);
    if (origin) return refuse(origin, "origin");
    const params = new URL(request.url).searchParams;
    const handshake = parseHandshake(params, config.maxUserDataBytes);
    if (!handshake.ok) return refuse({ status: 400, error: "bad_request", message: handshake.message }, "bad_handshake");
    const admitted = await admitConnect(params, channel, handshake.value, config);
    if ("status" in admitted) return refuse(admitted, admitted.error);
    const [ban] = admitted.userId === null ? [] : await bansOf([admitted.userId], edge);
    if (ban) return refuse(bannedRefusal(ban), "banned");
    return forwardHandshake(request, admitted.connectionId, admitted);
  },

  async beforeRequest(request, channel, edge) {
    const problem = channelProblem(channel);
    if (problem) return fail(400, "bad_request", problem);
    if (request.headers.has(INTERNAL_HEADER)) return fail(403, "forbidden", `${INTERNAL_HEADER} is for the service's own use`);
    const config = configOr500(edge.env);
    if (config instanceof Response) return config;
    const origin = request.headers.get("origin");
    if (request.method === "OPTIONS") return withCors(preflight(), origin, config.allowedOrigins);
    const url = new URL(request.url);
    if (httpClientRoute(url.pathname)) {
      const refuse = (refusal: Refusal) => {
        edge.waitUntil(countRefusal(edge, channel, { group: "refusedRequests", reason: refusal.error }));
        return withCors(fail(refusal.status, refusal.error, refusal.message), origin, config.allowedOrigins);
      };
      const caller = originRefusal(request, config) ?? (await authorizeHttpClient(request, url, channel, config, request.method === "GET"));
      if ("status" in caller) return refuse(caller);
      // A banned user's token is refused here; the server's heartbeats for banned users are refused by the room, each alone.
      const banned = await httpClientBans(request, caller, edge);
      if (caller.kind === "user" && banned[0]) return refuse(bannedRefusal(banned[0]));
      return forwardCaller(request, caller.kind === "server" && banned.length > 0 ? { ...caller, banned } : caller);
    }
    const serverRoute = url.searchParams.has("stats") || url.searchParams.has("webhooks") || url.searchParams.has("history");
    const refusal =
      originRefusal(request, config) ??
      (serverRoute || request.method === "GET"
        ? await authorizeRequest(request, url, serverRoute ? { serverKey: true } : { channels: [channel], banOf: banLookup(edge) }, config)
        : null);
    if (refusal) {
      edge.waitUntil(countRefusal(edge, channel, { group: "refusedRequests", reason: refusal.error }));
      return withCors(fail(refusal.status, refusal.error, refusal.message), origin, config.allowedOrigins);
    }
    return request;
  },
};

/** The directory: only the service's own parts reach it (through calls, not these hooks). */
const directoryHooks: PartyHooks = {
  beforeConnect: async () => fail(404, "not_found", "the user directory takes no sockets; see watchUsers on a channel"),
  beforeRequest: async () => fail(404, "not_found", "the user directory is internal; see GET /users"),
};

/** The channel index: dashboards connect with an admin token (or freely in development); it is read through GET /channels. */
const indexHooks: PartyHooks = {
  async beforeConnect(request, _room, edge) {
    const config = configOr500(edge.env);
    if (config instanceof Response) return config;
    const refusal = await adminSocketRefusal(new URL(request.url).searchParams, config);
    return refusal ? fail(refusal.status, refusal.status === 401 ? "unauthorized" : "forbidden", refusal.message) : request;
  },
  beforeRequest: async () => fail(404, "not_found", "the channel index is internal; see GET /channels"),
};

/** Each party's hooks. */
export const partyHooks: Record<PartyName, PartyHooks> = {
  [CHANNEL_PARTY]: channelHooks,
  [DIRECTORY_PARTY]: directoryHooks,
  [INDEX_PARTY]: indexHooks,
};

/** Tells a room to count a connect or request the edge refused. */
async function countRefusal(edge: EdgeHost, channel: string, count: RefusalCount): Promise<void> {
  try {
    await edge.parties.call(CHANNEL_PARTY, channel, "count-refusal", count);
  } catch {
    // Counting is best effort; the refusal itself was answered.
  }
}
