/**
 * A party on PartyKit: the `Party.Server` class partykit.json names, made from the party's
 * service (written against the host port) and its edge hooks. Each callback hands off in a
 * line; `onStart` holds every event until the room is loaded.
 */
import type * as Party from "partykit/server";
import { BanCache } from "../../server/ban-cache.ts";
import type { Config } from "../../server/config.ts";
import type { EdgeHost, Host, HostSocket, RoomService } from "../../server/host.ts";
import { roomFor } from "../../server/room.ts";
import { partyHooks } from "../../edge/before.ts";
import { edgeFetch } from "../../edge/routes.ts";
import { partiesOver } from "../../server/calls.ts";
import { releaseBody } from "../../server/envelope.ts";
import type { PartyName } from "../../protocol/index.ts";
import { PartyKitHost } from "./host.ts";

/** Makes a party's service for a room with valid settings. */
export type MakeService<State> = (host: Host<State>, config: Config) => RoomService<State>;

/** This isolate's copy of the ban list, read from one ban replica picked at random once per isolate. */
const bans = new BanCache();

/** The edge as PartyKit runs it: the static hooks' lobby and context. */
function edgeOf(lobby: Party.Lobby | Party.FetchLobby, ctx: Party.ExecutionContext): EdgeHost {
  return {
    env: lobby.env,
    parties: partiesOver((party, room, init) => lobby.parties[party]!.get(room).fetch(init as unknown as Party.Request) as unknown as Promise<Response>),
    waitUntil: (promise) => ctx.waitUntil(promise),
    bans,
    now: () => Date.now(),
  };
}

/** The `Party.Server` class of `party`, hibernation on. */
export function partykitParty<State>(party: PartyName, make: MakeService<State>) {
  const hooks = partyHooks[party];
  return class PartyRoom implements Party.Server {
    static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext) {
      return (await hooks.beforeConnect(request as unknown as Request, lobby.id, edgeOf(lobby, ctx))) as unknown as Party.Request | Response;
    }

    static async onBeforeRequest(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext) {
      return (await hooks.beforeRequest(request as unknown as Request, lobby.id, edgeOf(lobby, ctx))) as unknown as Party.Request | Response;
    }

    readonly options: Party.ServerOptions = { hibernate: true };
    readonly #host: PartyKitHost<State>;
    readonly #service: RoomService<State>;

    constructor(readonly room: Party.Room) {
      this.#host = new PartyKitHost<State>(room);
      this.#service = roomFor(room.env, (config) => make(this.#host, config));
    }

    onStart() {
      return this.room.blockConcurrencyWhile(async () => {
        await this.#host.load();
        await this.#service.start();
      });
    }

    onConnect(socket: Party.Connection, ctx: Party.ConnectionContext) {
      this.#wake();
      this.#service.connect(socket as unknown as HostSocket<State>, ctx.request as unknown as Request);
    }

    onMessage(frame: string | ArrayBuffer | ArrayBufferView, socket: Party.Connection) {
      this.#wake();
      this.#service.message(socket as unknown as HostSocket<State>, frame);
    }

    onClose(socket: Party.Connection) {
      this.#service.closed(socket as unknown as HostSocket<State>);
    }

    onError(socket: Party.Connection) {
      this.#service.closed(socket as unknown as HostSocket<State>);
    }

    async onRequest(request: Party.Request) {
      this.#wake();
      const response = await this.#service.request(request as unknown as Request);
      await releaseBody(request as unknown as Request);
      return response;
    }

    onAlarm() {
      return this.#service.alarm();
    }

    /** Outside alarms PartyKit lets the room reach the other parties: work that waited for them may go. */
    #wake(): void {
      if (this.#host.capture()) this.#service.reachable();
    }
  };
}

/** The worker's `onFetch` on PartyKit: the edge's own routes. */
export function partykitFetch(request: Party.Request, lobby: Party.FetchLobby, ctx: Party.ExecutionContext): Promise<Response> {
  return edgeFetch(request as unknown as Request, edgeOf(lobby, ctx));
}
