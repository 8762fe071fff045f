/**
 * The worker's checks before any room is touched: a bad channel name, a misconfigured
 * service, a browser from an origin not allowed, a bad handshake, a missing or bad token, or
 * missing credentials for an HTTP route, or a banned user, is refused here (400 / 401 / 403 / 500 / 503) and
 * never reaches a room; a good connect is passed on with its accepted handshake. The hooks of
 * every party, by party: the directory takes nothing from outside, the index only dashboards.
 * Each hook runs through `answer` (answer.ts), which turns what it throws into the answer.
 */
import { INTERNAL_HEADER } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { HttpError, preflight } from "../server/envelope.ts";
import type { EdgeHost } from "../server/host.ts";
import { configOr500 } from "../server/room.ts";
import type { PartyName, RefusalCount } from "../protocol/index.ts";
import { channelProblem, parseHandshake } from "../wire/handshake.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";
import { admitConnect, authorizeHttpClient, authorizeRequest, checkOrigin } from "./access.ts";
import { checkAdminSocket } from "./admin.ts";
import { type Answer, answer } from "./answer.ts";
import { banLookup, bansOf, httpClientBans } from "./bans.ts";
import { bannedError } from "../server/ban-cache.ts";
import { forwardCaller, forwardHandshake } from "../server/hand-off.ts";
import { httpClientRoute } from "../wire/parties.ts";

/** What the edge does before a connect or a request reaches a room of a party: the request to pass on, or the answer. */
export type PartyHooks = {
  beforeConnect(request: Request, room: string, edge: EdgeHost): Promise<Request | Response>;
  beforeRequest(request: Request, room: string, edge: EdgeHost): Promise<Request | Response>;
};

/** A hook's checks: the request to pass on; a refusal is thrown (`HttpError`). */
type Check = (request: Request, room: string, edge: EdgeHost, answer: Answer) => Promise<Request | Response>;

/** A party's hooks from their checks, each answered in one place (`answer`). */
function hooks(checks: { beforeConnect: Check; beforeRequest: Check }): PartyHooks {
  return {
    beforeConnect: (request, room, edge) => answer(request, (reply) => checks.beforeConnect(request, room, edge, reply)),
    beforeRequest: (request, room, edge) => answer(request, (reply) => checks.beforeRequest(request, room, edge, reply)),
  };
}

/** Refuses a bad channel name (400, before the settings are read: no room is named). */
function checkChannel(channel: string): void {
  const problem = channelProblem(channel);
  if (problem) throw new HttpError(400, "bad_request", problem);
}

/** The channel rooms: names, settings, origins, handshakes, tokens and credentials. */
const channelHooks = hooks({
  async beforeConnect(request, channel, edge) {
    checkChannel(channel);
    const config = configOr500(edge.env);
    return counted(edge, channel, "refusedConnections", () => admitSocket(request, channel, config, edge));
  },

  async beforeRequest(request, channel, edge, reply) {
    checkChannel(channel);
    if (request.headers.has(INTERNAL_HEADER)) throw new HttpError(403, "forbidden", `${INTERNAL_HEADER} is for the service's own use`);
    const config = configOr500(edge.env);
    reply.cors(config.allowedOrigins);
    if (request.method === "OPTIONS") return preflight();
    return counted(edge, channel, "refusedRequests", () => admitRequest(request, channel, config, edge));
  },
});

/** A connect to a channel: the origin, the handshake, the token, the ban; the request passed on with what was accepted. */
async function admitSocket(request: Request, channel: string, config: Config, edge: EdgeHost): Promise<Request> {
  checkOrigin(request, config, "origin");
  const params = new URL(request.url).searchParams;
  const handshake = parseHandshake(params, config.maxUserDataBytes);
  if (!handshake.ok) throw new HttpError(400, "bad_request", handshake.message, { reason: "bad_handshake" });
  const admitted = await admitConnect(params, channel, handshake.value, config);
  const [ban] = admitted.userId === null ? [] : await bansOf([admitted.userId], edge);
  if (ban) throw bannedError(ban);
  return forwardHandshake(request, admitted.connectionId, admitted);
}

/** A request to a channel: an HTTP client route's caller, or herenow's and the server routes' credentials. */
async function admitRequest(request: Request, channel: string, config: Config, edge: EdgeHost): Promise<Request> {
  const url = new URL(request.url);
  if (httpClientRoute(url.pathname)) {
    checkOrigin(request, config);
    const caller = await authorizeHttpClient(request, url, channel, config, request.method === "GET");
    // A banned user's token is refused here; the server's heartbeats for banned users are refused by the room, each alone.
    const banned = await httpClientBans(request, caller, edge);
    if (caller.kind === "user" && banned[0]) throw bannedError(banned[0]);
    return forwardCaller(request, caller.kind === "server" && banned.length > 0 ? { ...caller, banned } : caller);
  }
  checkOrigin(request, config);
  const serverRoute = ["stats", "webhooks", "history", "members"].some((route) => url.searchParams.has(route));
  if (serverRoute || request.method === "GET") {
    await authorizeRequest(request, url, serverRoute ? { serverKey: true } : { channels: [channel], banOf: banLookup(edge) }, config);
  }
  return request;
}

/**
 * Runs a channel's checks whose refusals its room counts in its stats (in `group`, under the
 * refusal's reason), without delaying the answer. A refused connect says so in its message.
 */
async function counted(edge: EdgeHost, channel: string, group: RefusalCount["group"], checks: () => Promise<Request>): Promise<Request> {
  try {
    return await checks();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    edge.waitUntil(countRefusal(edge, channel, { group, reason: error.reason }));
    if (group === "refusedRequests") throw error;
    throw new HttpError(error.status, error.code, `refused: ${error.message}`, { headers: { ...error.headers }, cause: error });
  }
}

/** The directory: only the service's own parts reach it (through calls, not these hooks). */
const directoryHooks = hooks({
  beforeConnect: async () => {
    throw new HttpError(404, "not_found", "the user directory takes no sockets; see watchUsers on a channel");
  },
  beforeRequest: async () => {
    throw new HttpError(404, "not_found", "the user directory is internal; see GET /users");
  },
});

/**
 * The channel index: dashboards connect to its root (`all`) with an admin token (or freely in
 * development); its other rooms (the shards and the ban replicas) take nothing from outside; it is read
 * through GET /channels.
 */
const indexHooks = hooks({
  async beforeConnect(request, room, edge) {
    if (room !== INDEX_ROOM) throw new HttpError(404, "not_found", `only ${INDEX_PARTY}/${INDEX_ROOM} takes sockets (dashboards); ${INDEX_PARTY}/${room} is internal`);
    await checkAdminSocket(new URL(request.url).searchParams, configOr500(edge.env));
    return request;
  },
  beforeRequest: async () => {
    throw new HttpError(404, "not_found", "the channel index is internal; see GET /channels");
  },
});

/** Each party's hooks. */
export const partyHooks: Record<PartyName, PartyHooks> = {
  [CHANNEL_PARTY]: channelHooks,
  [DIRECTORY_PARTY]: directoryHooks,
  [INDEX_PARTY]: indexHooks,
};

/** The hooks for a path that names no party of the service (an engine routing by its own names): 404 for everything. */
export const noSuchParty = hooks({
  beforeConnect: async () => {
    throw new HttpError(404, "not_found", "no such party");
  },
  beforeRequest: async () => {
    throw new HttpError(404, "not_found", "no such party");
  },
});

/** Tells a room to count a connect or request the edge refused. */
async function countRefusal(edge: EdgeHost, channel: string, count: RefusalCount): Promise<void> {
  try {
    await edge.parties.call(CHANNEL_PARTY, channel, "count-refusal", count);
  } catch {
    // Counting is best effort; the refusal itself was answered.
  }
}
