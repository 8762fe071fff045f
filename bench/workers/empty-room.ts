/**
 * The Workers engine's floor for `npm run bench`: bench/empty-room.ts on partyserver (a room
 * that accepts sockets and does nothing, hibernation on; its herenow a made-up page). Only
 * bench/workers/worker.ts mounts it, as the `empty` party.
 */
import { Server } from "partyserver";
import { floorHereNow } from "../floors.ts";

export class EmptyRoom extends Server {
  static override options = { hibernate: true };

  override onRequest(request: Request) {
    return floorHereNow(this.name, new URL(request.url).searchParams);
  }
}
