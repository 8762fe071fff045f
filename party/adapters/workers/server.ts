/**
 * A party on Cloudflare Workers: a `partyserver` `Server` (a Durable Object class) made from the
 * party's service, with hibernation on, each callback handing off in a line. partyserver runs
 * `onStart` before any other event (inside `blockConcurrencyWhile`) after every wake.
 */
import { Server } from "partyserver";
import type { Config } from "../../server/config.ts";
import type { Host, HostSocket, RoomService } from "../../server/host.ts";
import { roomFor } from "../../server/room.ts";
import { WorkersHost, type WorkersEnv } from "./host.ts";

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

    override onRequest(request: Request) {
      return this.#service.request(request);
    }

    override onAlarm() {
      return this.#service.alarm();
    }
  };
}
