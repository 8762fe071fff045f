/**
 * The channel room's HTTP routes: herenow (`GET /parties/main/CHANNEL?includeUsers=&distinct=`),
 * its stats (`?stats`), and the edge's internal request to count a refused connect.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { fail, methodNotAllowed, ok, preflight } from "../shared/envelope.ts";
import { INTERNAL_HEADER } from "../shared/parties.ts";
import { HereNowQuery, RefusalCount, type RoomStats, type VersionedStatus, WatchedChanges } from "../shared/protocol.ts";
import type { PresenceState } from "./presence.ts";
import type { StatsCounters } from "./stats.ts";

/** The service's own requests to a room: the edge's count of a refusal, the directory's news of watched users. */
const InternalRequest = z.discriminatedUnion("kind", [RefusalCount, WatchedChanges]);

/** What the routes read from the room. */
export type RouteContext = {
  channel: string;
  state: PresenceState;
  stats: StatsCounters;
  /** How many times the room has started. */
  starts: number;
  /** Open sockets, members' and observers'. */
  sockets: () => number;
  /** The directory's news of watched users. */
  watched: (statuses: VersionedStatus[]) => void;
};

/** Answers one HTTP request to the room. */
export async function answerRequest(request: Party.Request, ctx: RouteContext): Promise<Response> {
  if (request.method === "OPTIONS") return preflight();
  if (request.method === "POST" && request.headers.has(INTERNAL_HEADER)) {
    const body = InternalRequest.safeParse(await request.json().catch(() => null));
    if (!body.success) return fail(400, "bad_request", z.prettifyError(body.error));
    if (body.data.kind === "count-refusal") ctx.stats.count(body.data.group, body.data.reason);
    else ctx.watched(body.data.users);
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
