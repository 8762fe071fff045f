/**
 * What a socket sends, as the room takes it: only from the socket that owns its connection id;
 * it counts as activity; the token bucket, then the decoder, may refuse it (an error frame,
 * counted; a socket that keeps at it is closed); a message that passes goes to its handler,
 * one per message type. A handler that throws costs one `internal` error, never the room.
 */
import type { Config } from "../server/config.ts";
import { DEFAULT_PUSH_TIMEOUT_MS, pushOf } from "../server/pushes.ts";
import type { TickLoop } from "../server/tick-loop.ts";
import type { ParsedClientMessage } from "../protocol/index.ts";
import { jsonProblem } from "../wire/json.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { Departures } from "./departures.ts";
import { type Decoded, decodeFrame } from "./frames.ts";
import type { PresenceState } from "./presence.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketRegistry } from "./registry.ts";
import type { ChannelSockets, Socket } from "./sockets.ts";
import type { StatsCounters } from "./stats.ts";
import type { Watching } from "./watching.ts";

/** A refused message: the protocol's error code and sentence, and whether it was well-formed (which ends a run of rejections). */
export type Refusal = Extract<Decoded, { ok: false }>;

/** The parts messages touch. */
export type InboxParts = {
  config: Config;
  /** The channel's name. */
  channel: () => string;
  state: PresenceState;
  registry: SocketRegistry;
  sockets: ChannelSockets;
  stats: StatsCounters;
  broadcaster: Broadcaster;
  pushes: ChannelPushes;
  watching: Watching;
  departures: Departures;
  ticks: TickLoop;
};

type Handlers = {
  [T in ParsedClientMessage["type"]]: (socket: Socket, message: Extract<ParsedClientMessage, { type: T }>, now: number) => void;
};

/** The room's inbox. */
export class Inbox {
  readonly #parts: InboxParts;
  readonly #handlers: Handlers;

  constructor(parts: InboxParts) {
    this.#parts = parts;
    this.#handlers = handlers(parts, (socket, refusal) => this.#reject(socket, refusal));
  }

  /** One frame from a socket. */
  receive(socket: Socket, frame: string | ArrayBuffer | ArrayBufferView): void {
    try {
      this.#take(socket, frame);
    } catch (error) {
      // A bug must cost one answer, not the room: say so to the sender and carry on.
      console.error("presence: message handler failed", error);
      this.#parts.stats.count("rejectedMessages", "internal");
      this.#parts.sockets.send(socket, { type: "error", code: "internal", message: "the room failed to handle this message" });
    }
  }

  #take(socket: Socket, frame: string | ArrayBuffer | ArrayBufferView): void {
    const { config, state, registry } = this.#parts;
    if (!registry.isCurrent(socket)) return;
    const now = Date.now();
    state.alive(socket.id, now);
    registry.noteActivity(socket, now);
    if (!registry.admit(socket, now)) {
      return this.#reject(socket, { ok: false, code: "rate_limited", message: `over ${config.ratePerSec} messages/s (burst ${config.rateBurst})`, parsed: false });
    }
    const decoded = decodeFrame(frame, config);
    if (!decoded.ok) return this.#reject(socket, decoded);
    registry.forgive(socket);
    const handle = this.#handlers[decoded.message.type] as (socket: Socket, message: ParsedClientMessage, now: number) => void;
    handle(socket, decoded.message, now);
  }

  /** Answers a refused message with an error, counts it, and closes a socket that keeps at it. */
  #reject(socket: Socket, refusal: Refusal): void {
    const { registry, sockets, stats, departures } = this.#parts;
    stats.count("rejectedMessages", refusal.code);
    if (refusal.parsed) registry.forgive(socket);
    const { strikes, close } = registry.strike(socket);
    if (!close) return sockets.send(socket, { type: "error", code: refusal.code, message: refusal.message });
    sockets.send(socket, { type: "error", code: refusal.code, message: `${refusal.message}; closing after ${strikes} rejected messages in a row` });
    departures.abusive(socket, refusal.code);
  }
}

/** One handler per message type; `reject` answers a message the room refuses. */
function handlers(parts: InboxParts, reject: (socket: Socket, refusal: Refusal) => void): Handlers {
  const { config, channel, state, sockets, broadcaster, pushes, watching, ticks } = parts;
  const refuse = (socket: Socket, code: Refusal["code"], message: string) => reject(socket, { ok: false, code, message, parsed: true });
  return {
    ping: (socket, _message, now) => sockets.send(socket, { type: "pong", now }),

    update(socket, message) {
      if (socket.state!.dataLocked && socket.state!.userId !== null) {
        return refuse(socket, "forbidden", "this client's token fixes its userData (dataWritable is not set)");
      }
      if (!state.update(socket.id, message.data)) return refuse(socket, "not_a_member", "observers and clients that left have no userData");
      ticks.schedule();
    },

    leave(socket, _message, now) {
      if (!state.leave(socket.id)) return refuse(socket, "not_a_member", "this client is not a member");
      // The socket stays open as an observer.
      socket.setState({ ...socket.state!, userId: null });
      state.connect({ connectionId: socket.id, userId: null, data: null }, now);
      sockets.send(socket, { type: "left" });
      ticks.schedule();
    },

    herenow: (socket, message) => sockets.send(socket, { type: "herenow", id: message.id, result: state.hereNow(channel(), message) }),

    sync: (socket) => broadcaster.snapshot(socket),

    window(socket, message) {
      const { window: _old, ...rest } = socket.state!;
      socket.setState(message.limit > 0 ? { ...rest, window: message.limit } : rest);
      broadcaster.viewChanged(socket);
    },

    ack: (socket, message) => pushes.ack(socket.id, message.id, message.ok, message.error),

    /** A member pushes to another member's clients here (PRESENCE_CLIENT_PUSH): the room names the sender and answers `pushed`. */
    push(socket, message, now) {
      if (!config.clientPush) return refuse(socket, "disabled", "pushes from clients are off (PRESENCE_CLIENT_PUSH)");
      const from = socket.state!.userId;
      if (from === null) return refuse(socket, "not_a_member", "only members may push");
      const problem = jsonProblem(message.data, config.maxPushBytes, "push data");
      if (problem) return refuse(socket, problem.code, problem.message);
      const timeoutMs = Math.min(message.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS, config.maxPushTimeoutMs);
      pushes
        .run(pushOf(message.userId, { id: message.id, data: message.data }, from, timeoutMs, now))
        .then((result) => sockets.send(socket, { type: "pushed", result }))
        .catch((error) => console.error("presence: a client push failed", error));
    },

    watch(socket, message) {
      if (!config.directory) return refuse(socket, "disabled", "the user directory is off (PRESENCE_DIRECTORY=off)");
      watching.set(socket.id, message.userIds);
      // Watching nobody is answered at once: an empty full list.
      if (message.userIds.length === 0) sockets.send(socket, { type: "users", seq: 1, full: true, users: [] });
    },
  };
}
