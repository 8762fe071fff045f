/**
 * The worker's checks before any room is touched: a bad channel name, a misconfigured
 * service, a browser from an origin not allowed, a bad handshake, a missing or bad token, or
 * missing credentials for an HTTP route is answered here (400 / 401 / 403 / 500 / 503) and
 * never reaches a room; a good connect is passed on with its accepted handshake.
 */
import type * as Party from "partykit/server";
import { readConfig } from "../shared/config.ts";
import { fail, preflight, withCors } from "../shared/envelope.ts";
import { channelProblem, forwardHandshake, parseHandshake } from "../shared/handshake.ts";
import { CHANNEL_PARTY, INTERNAL_HEADER } from "../shared/parties.ts";
import { admitConnect, authorizeRequest, originRefusal, type Refusal } from "./access.ts";

/** The counter group and reason of a refusal the edge reports to a room's stats. */
type RefusalCount = { group: "refusedConnections" | "refusedRequests"; reason: string };

/** `onBeforeConnect` of the channel party. */
export async function beforeConnect(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext): Promise<Response | Party.Request> {
  const problem = channelProblem(lobby.id);
  if (problem) return fail(400, "bad_request", problem);
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  const config = settings.config;
  const refuse = (refusal: Refusal, reason: string) => {
    // Count it in the room's stats without delaying the answer.
    ctx.waitUntil(countRefusal(lobby, { group: "refusedConnections", reason }));
    return fail(refusal.status, refusal.error, `refused: ${refusal.message}`);
  };
  const origin = originRefusal(request as unknown as Request, config);
  if (origin) return refuse(origin, "origin");
  const params = new URL(request.url).searchParams;
  const handshake = parseHandshake(params, config.maxUserDataBytes);
  if (!handshake.ok) return refuse({ status: 400, error: "bad_request", message: handshake.message }, "bad_handshake");
  const admitted = await admitConnect(params, lobby.id, handshake.value, config);
  if ("status" in admitted) return refuse(admitted, admitted.error);
  return forwardHandshake(request as unknown as Request, admitted.connectionId, admitted) as unknown as Party.Request;
}

/** `onBeforeRequest` of the channel party: names, settings, forged internal requests, origins and credentials. */
export async function beforeRequest(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext): Promise<Response | Party.Request> {
  const problem = channelProblem(lobby.id);
  if (problem) return fail(400, "bad_request", problem);
  if (request.headers.has(INTERNAL_HEADER)) return fail(403, "forbidden", `${INTERNAL_HEADER} is for the service's own use`);
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  const config = settings.config;
  const origin = request.headers.get("origin");
  if (request.method === "OPTIONS") return withCors(preflight(), origin, config.allowedOrigins);
  const url = new URL(request.url);
  const serverRoute = url.searchParams.has("stats") || url.searchParams.has("webhooks");
  const refusal =
    originRefusal(request as unknown as Request, config) ??
    (serverRoute || request.method === "GET"
      ? await authorizeRequest(request as unknown as Request, url, serverRoute ? { serverKey: true } : { channels: [lobby.id] }, config)
      : null);
  if (refusal) {
    ctx.waitUntil(countRefusal(lobby, { group: "refusedRequests", reason: refusal.error }));
    return withCors(fail(refusal.status, refusal.error, refusal.message), origin, config.allowedOrigins);
  }
  return request;
}

/** Tells a room to count a connect or request the edge refused. */
async function countRefusal(lobby: Party.Lobby, count: RefusalCount): Promise<void> {
  try {
    await lobby.parties[CHANNEL_PARTY]!.get(lobby.id).fetch({
      method: "POST",
      headers: { [INTERNAL_HEADER]: "1", "content-type": "application/json" },
      body: JSON.stringify({ kind: "count-refusal", ...count }),
    });
  } catch {
    // Counting is best effort; the refusal itself was answered.
  }
}
