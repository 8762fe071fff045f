/**
 * The presence room: one PartyKit room per channel, hibernation on. Its static hooks are
 * the worker's edge (checks before any room, `/herenow` across channels); its callbacks go
 * to the live channel, or to the misconfigured state when the settings are invalid.
 */
import type * as Party from "partykit/server";
import { beforeConnect, beforeRequest } from "../edge/before.ts";
import { edgeFetch } from "../edge/routes.ts";
import { readConfig } from "../shared/config.ts";
import { Channel } from "./channel.ts";
import { Misconfigured } from "./misconfigured.ts";
import type { Socket } from "./sockets.ts";

export default class ChannelRoom implements Party.Server {
  static onBeforeConnect = beforeConnect;
  static onBeforeRequest = beforeRequest;
  static onFetch = edgeFetch;

  readonly options: Party.ServerOptions = { hibernate: true };
  readonly #channel: Channel | Misconfigured;

  constructor(readonly room: Party.Room) {
    const settings = readConfig(room.env);
    this.#channel = settings.ok ? new Channel(room, settings.config) : new Misconfigured(settings.message);
  }

  /** Loads the room before any other event (PartyKit holds them until it resolves). */
  onStart() {
    return this.room.blockConcurrencyWhile(() => this.#channel.start());
  }

  onConnect(socket: Socket, ctx: Party.ConnectionContext) {
    this.#channel.connect(socket, ctx);
  }

  onMessage(frame: string | ArrayBuffer | ArrayBufferView, socket: Socket) {
    this.#channel.message(frame, socket);
  }

  onClose(socket: Socket) {
    this.#channel.gone(socket);
  }

  onError(socket: Socket) {
    this.#channel.gone(socket);
  }

  onRequest(request: Party.Request) {
    return this.#channel.request(request);
  }

  onAlarm() {
    return this.#channel.alarm();
  }
}
