/**
 * The channel room's HTTP: herenow (`GET /parties/main/CHANNEL?includeUsers=&distinct=`), its
 * stats (`?stats`), history (`?history&since=&limit=&cursor=`) and webhooks (`?webhooks`,
 * `POST ?webhooks=resend`), all three with the server key (the edge checks it), the HTTP clients (`…/clients`, see heartbeats.ts), and the calls
 * the service's other parts make (protocol/calls.ts).
 */
import { z } from "zod";
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import { fail, methodNotAllowed, ok, preflight } from "../server/envelope.ts";
import type { WebhookDispatch } from "../server/webhooks.ts";
import { type ChannelMode, HereNowQuery, HistoryQuery, type KickedClient, type RoomStats } from "../protocol/index.ts";
import { CHANNEL_PARTY, httpClientRoute } from "../wire/parties.ts";
import type { Heartbeats } from "./heartbeats.ts";
import type { HistoryRows } from "./history-rows.ts";
import type { PresenceState } from "./presence.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { StatsCounters } from "./stats.ts";
import type { WatchRegistry } from "./watchers.ts";

/** What the routes read from the room. */
export type RouteContext = {
  channel: () => string;
  state: PresenceState;
  stats: StatsCounters;
  webhooks: WebhookDispatch;
  pushes: ChannelPushes;
  watchers: WatchRegistry;
  /** The channel's presence events, in its storage. */
  history: HistoryRows;
  /** Something changed: run a tick. */
  schedule: () => void;
  /** How many times the room has started. */
  starts: () => number;
  /** Whether the channel sends every member (full) or counts and views (interval). */
  mode: () => ChannelMode;
  /** Open sockets, members' and observers'. */
  sockets: () => number;
  /** The HTTP clients' routes. */
  heartbeats: Heartbeats;
  /** How many HTTP clients the room holds. */
  httpClients: () => number;
  /** The operator disconnects a user: its clients here, closed or removed at once. */
  kick: (userId: string, reason: string) => KickedClient[];
};

/** The channel room's HTTP: the routes, and the calls it takes. */
export class ChannelRoutes {
  readonly #ctx: RouteContext;
  readonly #calls: CallHandlers<typeof CHANNEL_PARTY>;

  constructor(ctx: RouteContext) {
    this.#ctx = ctx;
    const { channel, state, stats, pushes, watchers, schedule } = ctx;
    this.#calls = {
      "count-refusal": ({ group, reason }) => {
        stats.count(group, reason);
        return {};
      },
      herenow: (args) => state.hereNow(channel(), args),
      watched: ({ users }) => {
        watchers.heard(users);
        schedule();
        return {};
      },
      push: (push) => pushes.run(push),
      deliver: (push) => pushes.deliver(push),
      kick: ({ userId, reason }) => ({ clients: ctx.kick(userId, reason) }),
    };
  }

  /** Answers one HTTP request to the room. */
  answer(request: Request): Promise<Response> | Response {
    if (isCall(request)) return answerCall(CHANNEL_PARTY, request, this.#calls);
    if (request.method === "OPTIONS") return preflight();
    const ctx = this.#ctx;
    const url = new URL(request.url);
    const clients = httpClientRoute(url.pathname);
    if (clients) return ctx.heartbeats.answer(request, clients.clientId);
    if (url.searchParams.has("webhooks")) return this.#webhooks(request, url);
    if (request.method !== "GET") return methodNotAllowed(["GET"]);
    if (url.searchParams.has("stats")) return ok(this.#stats());
    if (url.searchParams.has("history")) return this.#history(url);
    const query = HereNowQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused(z.prettifyError(query.error));
    const channel = ctx.channel();
    return ok({ channels: { [channel]: ctx.state.hereNow(channel, query.data) } });
  }

  /** `GET ?history`: a page of the channel's presence events, oldest first, read from storage. */
  async #history(url: URL): Promise<Response> {
    const query = HistoryQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused(z.prettifyError(query.error));
    const page = await this.#ctx.history.page(query.data, Date.now());
    if ("error" in page) return this.#refused(page.error);
    return ok({ channel: this.#ctx.channel(), ...page });
  }

  /** A bad query: counted with the room's other refused requests, and answered 400. */
  #refused(message: string): Response {
    this.#ctx.stats.count("refusedRequests", "bad_request");
    return fail(400, "bad_request", message);
  }

  /** `GET ?webhooks`: the delivery's stats and dead letters; `POST ?webhooks=resend`: puts the dead letters back in the queue. */
  async #webhooks(request: Request, url: URL): Promise<Response> {
    const { webhooks } = this.#ctx;
    if (request.method === "POST" && url.searchParams.get("webhooks") === "resend") return ok({ resent: await webhooks.resend() });
    if (request.method !== "GET") return methodNotAllowed(["GET", "POST ?webhooks=resend"]);
    return ok(webhooks.report());
  }

  #stats(): RoomStats {
    const ctx = this.#ctx;
    return {
      channel: ctx.channel(),
      ...ctx.state.counts(),
      members: ctx.state.size,
      mode: ctx.mode(),
      sockets: ctx.sockets(),
      httpClients: ctx.httpClients(),
      starts: ctx.starts(),
      historyEvents: ctx.history.size,
      webhooks: ctx.webhooks.stats(),
      ...ctx.stats.counters,
    };
  }
}
