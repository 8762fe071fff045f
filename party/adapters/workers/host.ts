/**
 * The host port on Cloudflare Workers (`partyserver` on Durable Objects, hibernation on): a
 * `Server` as the core sees it. Its connections keep their state in the socket's attachment,
 * the name comes from the object's id (alarms included), and the other parties are reached by
 * their Durable Object bindings; pings are answered by the engine (`setWebSocketAutoResponse`)
 * and read back per socket (`getWebSocketAutoResponseTimestamp`).
 */
import { partiesOver, type Parties } from "../../server/calls.ts";
import type { Host, HostSocket, HostStorage } from "../../server/host.ts";
import type { PartyName } from "../../protocol/index.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY } from "../../wire/parties.ts";

/** The Durable Object binding of each party (wrangler.jsonc); partyserver routes `/parties/<kebab-case of the binding>/ROOM`. */
export const BINDINGS = { [CHANNEL_PARTY]: "Main", [DIRECTORY_PARTY]: "Directory", [INDEX_PARTY]: "Index" } as const satisfies Record<PartyName, string>;

/** The party a binding serves. */
export function partyOfBinding(binding: string): PartyName | undefined {
  return (Object.keys(BINDINGS) as PartyName[]).find((party) => BINDINGS[party] === binding);
}

/** What the worker's environment holds: the parties' bindings, and the PRESENCE_* settings. */
export type WorkersEnv = Record<(typeof BINDINGS)[PartyName], DurableObjectNamespace> & Record<string, unknown>;

/** The other parties through their bindings: a call is a request straight to the object, past the edge. */
export function workersParties(env: WorkersEnv): Parties {
  return partiesOver((party, room, init) => {
    const namespace = env[BINDINGS[party]];
    return namespace.get(namespace.idFromName(room)).fetch(new Request(`https://internal/parties/${party}/${encodeURIComponent(room)}`, init as RequestInit<CfProperties>));
  });
}

/** What the host reads of its partyserver `Server` (server.ts): its name, and its open connections. */
export type ServerSide = { readonly name: string; getConnections(tag?: string): Iterable<unknown> };

/** A partyserver `Server` behind the host port. */
export class WorkersHost<State> implements Host<State> {
  readonly #server: ServerSide;
  readonly #ctx: DurableObjectState;
  readonly storage: HostStorage;
  readonly parties: Parties;

  constructor(server: ServerSide, ctx: DurableObjectState, env: WorkersEnv) {
    this.#server = server;
    this.#ctx = ctx;
    this.storage = ctx.storage as unknown as HostStorage;
    this.parties = workersParties(env);
  }

  get name(): string {
    return this.#server.name;
  }

  sockets(connectionId?: string): Iterable<HostSocket<State>> {
    return this.#server.getConnections(connectionId) as Iterable<HostSocket<State>>;
  }

  now(): number {
    return Date.now();
  }

  pingedAt(socket: HostSocket<State>): number | null {
    return this.#ctx.getWebSocketAutoResponseTimestamp(socket as unknown as WebSocket)?.getTime() ?? null;
  }
}
