/**
 * The bench's worker for the Workers engine: the service as shipped
 * (party/adapters/workers/worker.ts) beside its floors, the `empty`, `counts` and `naive` parties,
 * which partyserver routes without the service's edge. Bundled by bench/lib/workers-server.mjs.
 */
import service, { ChannelRoom, DirectoryRoom, IndexRoom } from "../../party/adapters/workers/worker.ts";
import type { WorkersEnv } from "../../party/adapters/workers/host.ts";
import { routeUnchecked } from "../../party/adapters/workers/server.ts";
import { CountsRoom } from "./counts-room.ts";
import { EmptyRoom } from "./empty-room.ts";
import { NaiveRoom } from "./naive-room.ts";

export { ChannelRoom, CountsRoom, DirectoryRoom, EmptyRoom, IndexRoom, NaiveRoom };

export default {
  async fetch(request: Request, env: WorkersEnv, ctx: ExecutionContext): Promise<Response> {
    if (/^\/parties\/(empty|counts|naive)\//.test(new URL(request.url).pathname)) {
      return (await routeUnchecked(request, env)) ?? new Response("no such room", { status: 404 });
    }
    return service.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkersEnv>;
