/**
 * A party on Cloudflare Workers: a `partyserver` `Server` (a Durable Object class) made from the
 * party's service, with hibernation on, each callback handing off in a line (partyserver runs
 * `onStart` before any other event, inside `blockConcurrencyWhile`, after every wake); and the
 * worker's `fetch`: partyserver's routing to the rooms through the edge's hooks, the edge's own
 * routes for every other path.
 */
import { routePartykitRequest, Server } from "partyserver";
import { noSuchParty, partyHooks } from "../../edge/before.ts";
import { edgeFetch } from "../../edge/routes.ts";
import { BanCache } from "../../server/ban-cache.ts";
import type { Config } from "../../server/config.ts";
import { releaseBody } from "../../server/envelope.ts";
import type { EdgeHost, Host, HostSocket, RoomService } from "../../server/host.ts";
import { roomFor } from "../../server/room.ts";
import { partyOfBinding, type WorkersEnv, WorkersHost, workersParties } from "./host.ts";

/** The ping frame clients send and the engine answers without waking the room (protocol: `ping`, `pong`). */
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';

/** Makes a party's service for a room with valid settings. */
export type MakeService<State> = (host: Host<State>, config: Config) => RoomService<State>;

/** The Durable Object class of a party. */
export function workersParty<State>(make: MakeService<State>) {
  return class PartyRoom extends Server<WorkersEnv> {
    static override options = { hibernate: true };
    readonly #service: RoomService<State>;

    constructor(ctx: DurableObjectState, env: WorkersEnv) {
      super(ctx, env);
      // Heartbeats that do not wake the room: the engine answers them, the room reads their times.
      ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
      const host = new WorkersHost<State>(this, ctx, env);
      this.#service = roomFor(env, (config) => make(host, config));
    }

    override onStart() {
      return this.#service.start();
    }

    override onConnect(socket: unknown, ctx: { request: Request }) {
      this.#service.connect(socket as HostSocket<State>, ctx.request);
    }

    override onMessage(socket: unknown, frame: string | ArrayBuffer | ArrayBufferView) {
      this.#service.message(socket as HostSocket<State>, frame);
    }

    override onClose(socket: unknown) {
      this.#service.closed(socket as HostSocket<State>);
    }

    override onError(socket: unknown) {
      this.#service.closed(socket as HostSocket<State>);
    }

    override async onRequest(request: Request) {
      const response = await this.#service.request(request);
      await releaseBody(request);
      return response;
    }

    override onAlarm() {
      return this.#service.alarm();
    }
  };
}

/** This isolate's copy of the ban list, read from one ban replica picked at random once per isolate. */
const bans = new BanCache();

/** The worker's `fetch` on Workers: `/parties/PARTY/ROOM` to the room through the edge's hooks, anything else to the edge's own routes. */
export async function workersFetch(request: Request, env: WorkersEnv, ctx: ExecutionContext): Promise<Response> {
  const edge: EdgeHost = { env, parties: workersParties(env), waitUntil: (promise) => ctx.waitUntil(promise), bans, now: () => Date.now() };
  const hooksOf = (className: string) => {
    const party = partyOfBinding(className);
    return party ? partyHooks[party] : noSuchParty;
  };
  const routed = await routePartykitRequest(request, env as never, {
    onBeforeConnect: (req, lobby) => hooksOf(lobby.className).beforeConnect(req, lobby.name, edge),
    onBeforeRequest: (req, lobby) => hooksOf(lobby.className).beforeRequest(req, lobby.name, edge),
  });
  return routed ?? edgeFetch(request, edge);
}

/** partyserver's routing of `/parties/PARTY/ROOM` with no hooks at all (the bench's floors). */
export function routeUnchecked(request: Request, env: WorkersEnv): Promise<Response | null> {
  return routePartykitRequest(request, env as never);
}
