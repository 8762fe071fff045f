/**
 * The channel room's HTTP routes: herenow (`GET /parties/main/CHANNEL?includeUsers=&distinct=`),
 * its stats (`?stats`), and the edge's internal request to count a refused connect.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { fail, methodNotAllowed, ok, preflight } from "../shared/envelope.ts";
import { INTERNAL_HEADER } from "../shared/parties.ts";
import { HereNowQuery, type RoomStats } from "../shared/protocol.ts";
import type { PresenceState } from "./presence.ts";
import type { StatsCounters } from "./stats.ts";

/** What the edge reports of a connect or request it refused (see edge/before.ts). */
const RefusalCount = z.object({ group: z.enum(["refusedConnections", "refusedRequests"]), reason: z.string().min(1).max(32) });

/** What the routes read from the room. */
export type RouteContext = {
  channel: string;
  state: PresenceState;
  stats: StatsCounters;
  /** How many times the room has started. */
  starts: number;
  /** Open sockets, members' and observers'. */
  sockets: () => number;
};

/** Answers one HTTP request to the room. */
export async function answerRequest(request: Party.Request, ctx: RouteContext): Promise<Response> {
  if (request.method === "OPTIONS") return preflight();
  if (request.method === "POST" && request.headers.get(INTERNAL_HEADER) === "count-refusal") {
    const count = RefusalCount.safeParse(await request.json().catch(() => null));
    if (!count.success) return fail(400, "bad_request", "a refusal count is {group, reason}");
    ctx.stats.count(count.data.group, count.data.reason);
    return ok({});
  }
  if (request.method !== "GET") return methodNotAllowed(["GET"]);
  const url = new URL(request.url);
  if (url.searchParams.has("stats")) return ok(roomStats(ctx));
  const query = HereNowQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!query.success) return fail(400, "bad_request", z.prettifyError(query.error));
  return ok({ channels: { [ctx.channel]: ctx.state.hereNow(ctx.channel, query.data) } });
}

function roomStats(ctx: RouteContext): RoomStats {
  return {
    channel: ctx.channel,
    ...ctx.state.counts(),
    members: ctx.state.members().length,
    sockets: ctx.sockets(),
    starts: ctx.starts,
    ...ctx.stats.counters,
  };
}
