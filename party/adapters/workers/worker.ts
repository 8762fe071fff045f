/**
 * The service on Cloudflare Workers (wrangler.jsonc `main`): the three parties' Durable Object
 * classes, and the worker that routes to them (server.ts). The dashboard is static assets,
 * served before the worker runs.
 */
import { ChannelService } from "../../channel/service.ts";
import type { SocketState } from "../../channel/sockets.ts";
import { DirectoryService } from "../../directory/service.ts";
import { indexRoom } from "../../index/rooms.ts";
import type { WorkersEnv } from "./host.ts";
import { workersFetch, workersParty } from "./server.ts";

/** The channel rooms (binding `Main`: `/parties/main/CHANNEL`). */
export const ChannelRoom = workersParty<SocketState>((host, config) => new ChannelService(host, config));
/** The user directory's parts (binding `Directory`). */
export const DirectoryRoom = workersParty((host, config) => new DirectoryService(host, config));
/** The channel index: its root `all`, its shards `s0`… and its ban replicas `bans-N` (binding `Index`; each room's service by its name, index/rooms.ts). */
export const IndexRoom = workersParty(indexRoom);

export default { fetch: workersFetch } satisfies ExportedHandler<WorkersEnv>;
