/**
 * The Workers engine's floor for `npm run bench`: bench/empty-room.ts on partyserver (a room
 * that accepts sockets and does nothing, hibernation on; its herenow a made-up page). Only
 * bench/workers/worker.ts mounts it, as the `empty` party.
 */
import { Server } from "partyserver";

const MAX_PAGE = 1000;
const pages = new Map<number, unknown[]>();

function pageOf(size: number): unknown[] {
  let users = pages.get(size);
  if (!users) pages.set(size, (users = Array.from({ length: size }, (_, i) => ({ id: `u${i}`, data: { name: `User ${i}` } }))));
  return users;
}

export class EmptyRoom extends Server {
  static override options = { hibernate: true };

  override onRequest(request: Request) {
    const params = new URL(request.url).searchParams;
    const limit = Math.min(MAX_PAGE, Math.max(0, Number(params.get("limit") ?? MAX_PAGE) || 0));
    const users = params.get("includeUsers") === "true" ? pageOf(limit) : [];
    const channel = { channel: this.name, clientAmount: 0, userAmount: 0, clientTypes: {}, users };
    return Response.json({ code: 200, content: { channels: { [this.name]: channel } } });
  }
}
