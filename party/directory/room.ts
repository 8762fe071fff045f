/**
 * The user directory: a party of rooms (`p0`…, or one per user), each holding the users
 * hashed to it. Only the service's own parts reach it: the channel rooms report to it, the
 * edge asks it. Its callbacks go to the part's service, or to the misconfigured state.
 */
import type * as Party from "partykit/server";
import { Misconfigured } from "../channel/misconfigured.ts";
import { readConfig } from "../shared/config.ts";
import { fail } from "../shared/envelope.ts";
import { DirectoryService } from "./service.ts";

export default class DirectoryRoom implements Party.Server {
  /** Not for clients: the directory answers through /users and watch lists. */
  static onBeforeConnect() {
    return fail(404, "not_found", "the user directory takes no sockets; see watchUsers on a channel");
  }

  static onBeforeRequest() {
    return fail(404, "not_found", "the user directory is internal; see GET /users");
  }

  readonly options: Party.ServerOptions = { hibernate: true };
  readonly #part: DirectoryService | Misconfigured;

  constructor(readonly room: Party.Room) {
    const settings = readConfig(room.env);
    this.#part = settings.ok ? new DirectoryService(room, settings.config) : new Misconfigured(settings.message);
  }

  onStart() {
    return this.room.blockConcurrencyWhile(() => this.#part.start());
  }

  onRequest(request: Party.Request) {
    return this.#part.request(request);
  }

  onAlarm() {
    return this.#part.alarm();
  }
}
