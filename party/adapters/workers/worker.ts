/**
 * The service on Cloudflare Workers (wrangler.jsonc `main`): the three parties' Durable Object
 * classes, and the worker that routes `/parties/PARTY/ROOM` to them through the edge's hooks
 * (partyserver's `routePartykitRequest`) and answers every other path with the edge's own
 * routes. The dashboard is static assets, served before the worker runs.
 */
import { routePartykitRequest } from "partyserver";
import { ChannelService } from "../../channel/service.ts";
import type { SocketState } from "../../channel/sockets.ts";
import { DirectoryService } from "../../directory/service.ts";
import { partyHooks } from "../../edge/before.ts";
import { edgeFetch } from "../../edge/routes.ts";
import { IndexService } from "../../index/service.ts";
import { fail } from "../../server/envelope.ts";
import type { EdgeHost } from "../../server/host.ts";
import { partyOfBinding, type WorkersEnv, workersParties } from "./host.ts";
import { workersParty } from "./server.ts";

/** The channel rooms (binding `Main`: `/parties/main/CHANNEL`). */
export const ChannelRoom = workersParty<SocketState>((host, config) => new ChannelService(host, config));
/** The user directory's parts (binding `Directory`). */
export const DirectoryRoom = workersParty((host, config) => new DirectoryService(host, config));
/** The channel index (binding `Index`). */
export const IndexRoom = workersParty((host, config) => new IndexService(host, config));

export default {
  async fetch(request: Request, env: WorkersEnv, ctx: ExecutionContext): Promise<Response> {
    const edge: EdgeHost = { env, parties: workersParties(env), waitUntil: (promise) => ctx.waitUntil(promise) };
    const hooksOf = (className: string) => {
      const party = partyOfBinding(className);
      return party && partyHooks[party];
    };
    const routed = await routePartykitRequest(request, env as never, {
      onBeforeConnect: (req, lobby) => hooksOf(lobby.className)?.beforeConnect(req, lobby.name, edge) ?? fail(404, "not_found", "no such party"),
      onBeforeRequest: (req, lobby) => hooksOf(lobby.className)?.beforeRequest(req, lobby.name, edge) ?? fail(404, "not_found", "no such party"),
    });
    return routed ?? edgeFetch(request, edge);
  },
} satisfies ExportedHandler<WorkersEnv>;
