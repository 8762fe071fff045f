/**
 * The baseline for `npm run bench`: a hand-rolled presence room as people usually write it
 * on PartyKit. On connect it sends the joiner the full member list (ids and userData) and
 * broadcasts a `join` to everyone else at once; on close it broadcasts a `leave`; an `update`
 * (`{"type":"update","data":…}`, as our client sends it) replaces the sender's data and is
 * broadcast to everyone else at once. No batching, no grace, no storage. Its member list lives
 * in each socket's state (the PartyKit way with hibernation, as our room runs), so both rooms
 * run under the same engine mode. A connect with `?silent=1` (the latency bench filling a room,
 * bench/lib/latency.mjs) gets no list and tells no one: the room then holds N members without
 * the N² messages of announcing them, and the lone joins and updates timed after are broadcast.
 *
 * Not part of the service: only bench/partykit.json mounts it, as the `naive` party
 * (bench/workers/naive-room.ts is the same on partyserver).
 */
import type * as Party from "partykit/server";
import { naiveUpdate, type NaiveMessage, type NaiveState as State } from "./floors.ts";

export default class NaiveRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  onConnect(socket: Party.Connection<State>, ctx: Party.ConnectionContext) {
    const params = new URL(ctx.request.url).searchParams;
    const id = params.get("userId") ?? socket.id;
    const data: unknown = JSON.parse(params.get("userData") ?? "null");
    socket.setState({ id, data });
    if (params.get("silent") === "1") return;
    const members: State[] = [];
    for (const other of this.room.getConnections<State>()) if (other.state) members.push(other.state);
    send(socket, { type: "list", members });
    this.room.broadcast(JSON.stringify({ type: "join", id, data } satisfies NaiveMessage), [socket.id]);
  }

  /** An `update` replaces the sender's data and goes to everyone else at once; anything else (pings) is ignored. */
  onMessage(message: string | ArrayBuffer | ArrayBufferView, socket: Party.Connection<State>) {
    const data = naiveUpdate(message);
    if (data === undefined || !socket.state) return;
    socket.setState({ id: socket.state.id, data: data.data });
    this.room.broadcast(JSON.stringify({ type: "update", id: socket.state.id, data: data.data } satisfies NaiveMessage), [socket.id]);
  }

  onClose(socket: Party.Connection<State>) {
    this.#left(socket);
  }

  onError(socket: Party.Connection<State>) {
    this.#left(socket);
  }

  #left(socket: Party.Connection<State>) {
    const id = socket.state?.id;
    if (id !== undefined) this.room.broadcast(JSON.stringify({ type: "leave", id } satisfies NaiveMessage), [socket.id]);
  }

  /** herenow in the same envelope as the real room, listing one user per socket. */
  onRequest(request: Party.Request) {
    const url = new URL(request.url);
    const users: State[] = [];
    for (const socket of this.room.getConnections<State>()) if (socket.state) users.push({ id: socket.state.id, data: socket.state.data });
    const distinctUsers = new Set(users.map((user) => user.id)).size;
    const channel = {
      channel: this.room.id,
      clientAmount: users.length,
      userAmount: distinctUsers,
      ...(url.searchParams.get("includeUsers") === "true" ? { users } : {}),
    };
    return Response.json({ code: 200, content: { channels: { [this.room.id]: channel } } });
  }
}

function send(socket: Party.Connection, message: NaiveMessage) {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // Closed meanwhile.
  }
}
