/**
 * The channel room's HTTP routes: herenow (`GET /parties/main/CHANNEL?includeUsers=&distinct=`),
 * its stats (`?stats`), and the edge's internal request to count a refused connect.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { fail, methodNotAllowed, ok, preflight } from "../shared/envelope.ts";
import { INTERNAL_HEADER } from "../shared/parties.ts";
import {
  type ChannelMode,
  HereNowQuery,
  PartPush,
  type PushRequest,
  type PushResult,
  RefusalCount,
  RoomPush,
  type RoomPushReply,
  type RoomStats,
  type VersionedStatus,
  WatchedChanges,
} from "../shared/protocol.ts";
import type { PresenceState } from "./presence.ts";
import type { WebhookDelivery } from "../shared/webhooks.ts";
import type { StatsCounters } from "./stats.ts";

/** The service's own requests to a room: the edge's count of a refusal, the directory's news of watched users, pushes. */
const InternalRequest = z.discriminatedUnion("kind", [RefusalCount, WatchedChanges, RoomPush, PartPush]);

/** What the routes read from the room. */
export type RouteContext = {
  channel: string;
  state: PresenceState;
  stats: StatsCounters;
  /** How many times the room has started. */
  starts: number;
  /** Whether the channel sends every member (full) or counts and views (interval). */
  mode: ChannelMode;
  /** Open sockets, members' and observers'. */
  sockets: () => number;
  /** The directory's news of watched users. */
  watched: (statuses: VersionedStatus[]) => void;
  /** Delivers a push to a user's clients here (for the coordinator that runs it). */
  deliver: (push: RoomPush) => Promise<RoomPushReply>;
  /** Runs a push through this room alone (the directory is off). */
  push: (userId: string, request: PushRequest, timeoutMs: number) => Promise<PushResult>;
  /** The room's webhook delivery (stats, dead letters, re-send). */
  webhooks: WebhookDelivery;
};

/** Answers one HTTP request to the room. */
export async function answerRequest(request: Party.Request, ctx: RouteContext): Promise<Response> {
  if (request.method === "OPTIONS") return preflight();
  if (request.method === "POST" && request.headers.has(INTERNAL_HEADER)) {
    const body = InternalRequest.safeParse(await request.json().catch(() => null));
    if (!body.success) return fail(400, "bad_request", z.prettifyError(body.error));
    switch (body.data.kind) {
      case "count-refusal":
        ctx.stats.count(body.data.group, body.data.reason);
        return ok({});
      case "watched":
        ctx.watched(body.data.users);
        return ok({});
      case "deliver":
        return ok(await ctx.deliver(body.data));
      case "push":
        return ok(await ctx.push(body.data.userId, body.data.request, body.data.timeoutMs));
      default:
        return body.data satisfies never;
    }
  }
  const url = new URL(request.url);
  if (url.searchParams.has("webhooks")) return webhookRoute(request, url, ctx);
  if (request.method !== "GET") return methodNotAllowed(["GET"]);
  if (url.searchParams.has("stats")) return ok(roomStats(ctx));
  const query = HereNowQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!query.success) return fail(400, "bad_request", z.prettifyError(query.error));
  return ok({ channels: { [ctx.channel]: ctx.state.hereNow(ctx.channel, query.data) } });
}

/** `GET ?webhooks`: the delivery's stats and dead letters; `POST ?webhooks=resend`: puts the dead letters back in the queue. */
async function webhookRoute(request: Party.Request, url: URL, ctx: RouteContext): Promise<Response> {
  if (request.method === "POST" && url.searchParams.get("webhooks") === "resend") return ok({ resent: await ctx.webhooks.resend() });
  if (request.method !== "GET") return methodNotAllowed(["GET", "POST ?webhooks=resend"]);
  return ok({ ...ctx.webhooks.stats(), deadLetterBatches: ctx.webhooks.deadLetters() });
}

function roomStats(ctx: RouteContext): RoomStats {
  return {
    channel: ctx.channel,
    ...ctx.state.counts(),
    members: ctx.state.size,
    mode: ctx.mode,
    sockets: ctx.sockets(),
    starts: ctx.starts,
    webhooks: ctx.webhooks.stats(),
    ...ctx.stats.counters,
  };
}
