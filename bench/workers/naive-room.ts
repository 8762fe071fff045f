/**
 * The Workers engine's naive room for `npm run bench`: bench/naive-room.ts on partyserver (one
 * broadcast per join and per update, to everyone else at once; the member list in each socket's
 * state, hibernation on; `?silent=1` joins without a list or a broadcast). Only
 * bench/workers/worker.ts mounts it, as the `naive` party.
 */
import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import { naiveUpdate, type NaiveMessage, type NaiveState } from "../floors.ts";

export class NaiveRoom extends Server {
  static override options = { hibernate: true };

  override onConnect(socket: Connection<NaiveState>, ctx: ConnectionContext) {
    const params = new URL(ctx.request.url).searchParams;
    const id = params.get("userId") ?? socket.id;
    const data: unknown = JSON.parse(params.get("userData") ?? "null");
    socket.setState({ id, data });
    if (params.get("silent") === "1") return;
    const members: NaiveState[] = [];
    for (const other of this.getConnections<NaiveState>()) if (other.state) members.push(other.state);
    socket.send(JSON.stringify({ type: "list", members } satisfies NaiveMessage));
    this.broadcast(JSON.stringify({ type: "join", id, data } satisfies NaiveMessage), [socket.id]);
  }

  override onMessage(socket: Connection<NaiveState>, message: WSMessage) {
    const update = naiveUpdate(message);
    if (update === undefined || !socket.state) return;
    socket.setState({ id: socket.state.id, data: update.data });
    this.broadcast(JSON.stringify({ type: "update", id: socket.state.id, data: update.data } satisfies NaiveMessage), [socket.id]);
  }

  override onClose(socket: Connection<NaiveState>) {
    this.#left(socket);
  }

  override onError(socket: Connection<NaiveState>) {
    this.#left(socket);
  }

  #left(socket: Connection<NaiveState>) {
    const id = socket.state?.id;
    if (id !== undefined) this.broadcast(JSON.stringify({ type: "leave", id } satisfies NaiveMessage), [socket.id]);
  }

  /** herenow in the same envelope as ours (the bench's teardown waits for clientAmount 0). */
  override onRequest() {
    let sockets = 0;
    for (const _ of this.getConnections()) sockets++;
    const channel = { channel: this.name, clientAmount: sockets, userAmount: sockets };
    return Response.json({ code: 200, content: { channels: { [this.name]: channel } } });
  }
}
