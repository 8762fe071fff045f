/**
 * The channel room's HTTP, on the service's side of the core: herenow (`GET
 * /parties/main/CHANNEL?includeUsers=&distinct=`), its stats (`?stats`), history
 * (`?history&since=&limit=&cursor=`, read from storage), the admin member listing
 * (`?members&limit=&cursor=`: every member in full, a page at a time) and webhooks (`?webhooks`, `POST
 * ?webhooks=resend`), the HTTP clients (`…/clients`, http-clients-route.ts), and the calls the
 * service's other parties make (protocol/calls.ts). Each request is read and checked here, once;
 * the core answers, and its effects are applied before the answer goes out.
 */
import { z } from "zod";
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import { fail, methodNotAllowed, ok, preflight } from "../server/envelope.ts";
import type { Host } from "../server/host.ts";
import { HereNowQuery, type HistoryEvent, HistoryQuery, isUserId, MembersQuery } from "../protocol/index.ts";
import { CHANNEL_PARTY, httpClientRoute } from "../wire/parties.ts";
import type { CallOutcome, ChannelCall, ChannelCore } from "./core.ts";
import type { EffectRunner } from "./effect-runner.ts";
import { HISTORY_PREFIX, historyKey } from "./history.ts";
import { answerHttpClients } from "./http-clients-route.ts";
import type { SocketState } from "./sockets.ts";

/** What the routes need of their room: its core, the way its effects are applied, and its host (storage, sockets, clock). */
export type RouteRoom = {
  readonly core: ChannelCore;
  readonly effects: EffectRunner;
  readonly host: Host<SocketState>;
};

/** The channel room's HTTP. */
export class ChannelRoutes {
  readonly #room: RouteRoom;
  readonly #calls: CallHandlers<typeof CHANNEL_PARTY>;

  constructor(room: RouteRoom) {
    this.#room = room;
    const take = (call: ChannelCall) => this.#take(call);
    this.#calls = {
      "count-refusal": (args) => take({ name: "count-refusal", args }) as Promise<Record<string, never>>,
      herenow: (args) => take({ name: "herenow", args }) as never,
      watched: (args) => take({ name: "watched", args }) as Promise<Record<string, never>>,
      push: (args) => take({ name: "push", args }) as never,
      deliver: (args) => take({ name: "deliver", args }) as never,
      kick: (args) => take({ name: "kick", args }) as never,
      "shard-report": (args) => take({ name: "shard-report", args }) as never,
      "shard-diff": (args) => take({ name: "shard-diff", args }) as Promise<Record<string, never>>,
    };
  }

  /** Answers one HTTP request to the room. */
  async answer(request: Request): Promise<Response> {
    if (isCall(request)) return answerCall(CHANNEL_PARTY, request, this.#calls);
    if (request.method === "OPTIONS") return preflight();
    const room = this.#room;
    const url = new URL(request.url);
    const clients = httpClientRoute(url.pathname);
    if (clients) return answerHttpClients(request, clients.clientId, room);
    if (url.searchParams.has("webhooks")) return this.#webhooks(request, url);
    if (request.method !== "GET") return methodNotAllowed(["GET"]);
    const core = room.core;
    if (url.searchParams.has("stats")) return ok(core.stats(count(room.host.sockets())));
    if (url.searchParams.has("history")) return this.#history(url);
    if (url.searchParams.has("members")) return this.#members(url);
    const query = HereNowQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused(z.prettifyError(query.error));
    return ok({ channels: { [core.name]: core.hereNow(query.data) } });
  }

  /** A call from another party: the core's reply now, or once it answers under its ticket. */
  async #take(call: ChannelCall): Promise<unknown> {
    const { outcome, effects } = this.#room.core.call(call, this.#room.host.now());
    const later = "ticket" in outcome ? this.#room.effects.answerLater(outcome.ticket) : null;
    await this.#room.effects.apply(effects);
    return later ?? (outcome as Extract<CallOutcome, { reply: unknown }>).reply;
  }

  /** `GET ?history`: a page of the channel's presence events, oldest first, read from storage. */
  async #history(url: URL): Promise<Response> {
    const query = HistoryQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused(z.prettifyError(query.error));
    const { storage } = this.#room.host;
    const core = this.#room.core;
    const readTime = async (n: number) => (await storage.get<HistoryEvent>(historyKey(n)))?.at;
    const readRange = async (from: number, to: number) => {
      const rows = await storage.list<HistoryEvent>({ prefix: HISTORY_PREFIX, start: historyKey(from), end: historyKey(to) });
      // An event of a userId stored before the userId rule is left out (it expires with the others).
      return [...rows.values()].filter((event) => isUserId(event.member.id));
    };
    const page = await core.history.page(query.data, this.#room.host.now(), readTime, readRange);
    if ("error" in page) return this.#refused(page.error);
    return ok({ channel: core.name, ...page });
  }

  /** `GET ?members`: a page of the channel's members in full (online and offline), by userId, after the cursor. */
  #members(url: URL): Response {
    const query = MembersQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return this.#refused(z.prettifyError(query.error));
    return ok(this.#room.core.membersPage(query.data));
  }

  /** A bad query: counted with the room's other refused requests, and answered 400. */
  #refused(message: string): Response {
    this.#room.effects.run(this.#room.core.refusedRequest("bad_request", this.#room.host.now()));
    return fail(400, "bad_request", message);
  }

  /** `GET ?webhooks`: the delivery's stats and dead letters; `POST ?webhooks=resend`: puts the dead letters back in the queue. */
  async #webhooks(request: Request, url: URL): Promise<Response> {
    const core = this.#room.core;
    if (request.method === "POST" && url.searchParams.get("webhooks") === "resend") {
      const { resent, effects } = core.resendWebhooks(this.#room.host.now());
      await this.#room.effects.apply(effects);
      return ok({ resent });
    }
    if (request.method !== "GET") return methodNotAllowed(["GET", "POST ?webhooks=resend"]);
    return ok(core.webhookReport());
  }
}

/** How many items an iterable holds. */
function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}
