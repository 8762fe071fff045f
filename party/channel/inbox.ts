/**
 * What a socket sends, as the channel takes it: only from the socket that owns its connection
 * id; it counts as activity; the token bucket, then the decoder, may refuse it (an error frame,
 * counted; a socket that keeps at it is closed); a message that passes goes to its handler,
 * one per message type. A handler that throws costs one `internal` error, never the room.
 */
import { DEFAULT_PUSH_TIMEOUT_MS, pushOf } from "../server/pushes.ts";
import type { ParsedClientMessage } from "../protocol/index.ts";
import { jsonProblem } from "../wire/json.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { Channel } from "./channel.ts";
import type { Departures } from "./departures.ts";
import { type Decoded, decodeFrame } from "./frames.ts";
import type { ChannelPushes } from "./pushes.ts";
import type { SocketView } from "./sockets.ts";
import type { Watching } from "./watching.ts";

/** A refused message: the protocol's error code and sentence, and whether it was well-formed (which ends a run of rejections). */
export type Refusal = Extract<Decoded, { ok: false }>;

/** A socket whose frame is being handled: its id, and the instance that owns it. */
type From = { id: string; instance: string };

/** The channel's inbox. */
export class Inbox {
  readonly #channel: Channel;
  readonly #broadcaster: Broadcaster;
  readonly #pushes: ChannelPushes;
  readonly #watching: Watching;
  readonly #departures: Departures;

  constructor(channel: Channel, broadcaster: Broadcaster, pushes: ChannelPushes, watching: Watching, departures: Departures) {
    this.#channel = channel;
    this.#broadcaster = broadcaster;
    this.#pushes = pushes;
    this.#watching = watching;
    this.#departures = departures;
  }

  /** One frame from a socket. */
  receive(socket: SocketView, frame: string | ArrayBuffer | ArrayBufferView, now: number): void {
    const { config, members, sockets, stats, out } = this.#channel;
    if (!sockets.isCurrent(socket)) return;
    const from: From = { id: socket.id, instance: socket.state!.instance };
    try {
      members.alive(from.id, now);
      sockets.noteActivity(from.id, now);
      if (!sockets.admit(from.id, now)) {
        return this.#reject(from, { ok: false, code: "rate_limited", message: `over ${config.ratePerSec} messages/s (burst ${config.rateBurst})`, parsed: false }, now);
      }
      const decoded = decodeFrame(frame, config);
      if (!decoded.ok) return this.#reject(from, decoded, now);
      sockets.forgive(from.id);
      this.#handle(from, decoded.message, now);
    } catch (error) {
      // A bug must cost one answer, not the room: say so to the sender and carry on.
      console.error("presence: message handler failed", error);
      stats.count("rejectedMessages", "internal");
      out.send(from.id, { type: "error", code: "internal", message: "the room failed to handle this message" }, from.instance);
    }
  }

  /** Answers a refused message with an error, counts it, and closes a socket that keeps at it. */
  #reject(from: From, refusal: Refusal, now: number): void {
    const { sockets, stats, out } = this.#channel;
    stats.count("rejectedMessages", refusal.code);
    if (refusal.parsed) sockets.forgive(from.id);
    const { strikes, close } = sockets.strike(from.id);
    if (!close) return out.send(from.id, { type: "error", code: refusal.code, message: refusal.message }, from.instance);
    out.send(from.id, { type: "error", code: refusal.code, message: `${refusal.message}; closing after ${strikes} rejected messages in a row` }, from.instance);
    this.#departures.abusive({ id: from.id, state: sockets.stateOf(from.id) ?? null }, refusal.code, now);
  }

  #refuse(from: From, code: Refusal["code"], message: string, now: number): void {
    this.#reject(from, { ok: false, code, message, parsed: true }, now);
  }

  /** One handler per message type. */
  #handle(from: From, message: ParsedClientMessage, now: number): void {
    const { config, members, sockets, out, name } = this.#channel;
    const state = sockets.stateOf(from.id)!;
    switch (message.type) {
      case "ping":
        return out.send(from.id, { type: "pong", now }, from.instance);
      case "update":
        if (state.dataLocked && state.userId !== null) return this.#refuse(from, "forbidden", "this client's token fixes its userData (dataWritable is not set)", now);
        if (!members.update(from.id, message.data)) return this.#refuse(from, "not_a_member", "observers and clients that left have no userData", now);
        return out.tick();
      case "leave":
        if (!members.leave(from.id)) return this.#refuse(from, "not_a_member", "this client is not a member", now);
        // The socket stays open as an observer.
        sockets.update(from.id, (s) => ({ ...s, userId: null }));
        members.connect({ connectionId: from.id, userId: null, data: null }, now);
        out.send(from.id, { type: "left" }, from.instance);
        return out.tick();
      case "herenow":
        return out.send(from.id, { type: "herenow", id: message.id, result: members.hereNow(name, message) }, from.instance);
      case "sync":
        return this.#broadcaster.snapshot(from.id, now);
      case "window":
        sockets.update(from.id, ({ window: _old, ...rest }) => (message.limit > 0 ? { ...rest, window: message.limit } : rest));
        return this.#broadcaster.viewChanged(from.id, now);
      case "ack":
        return this.#pushes.ack(from.id, message.id, message.ok, message.error);
      case "push": {
        // A member pushes to another member's clients here (PRESENCE_CLIENT_PUSH): the room names the sender and answers `pushed`.
        if (!config.clientPush) return this.#refuse(from, "disabled", "pushes from clients are off (PRESENCE_CLIENT_PUSH)", now);
        if (state.userId === null) return this.#refuse(from, "not_a_member", "only members may push", now);
        const problem = jsonProblem(message.data, config.maxPushBytes, "push data");
        if (problem) return this.#refuse(from, problem.code, problem.message, now);
        const timeoutMs = Math.min(message.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS, config.maxPushTimeoutMs);
        return this.#pushes.run(pushOf(message.userId, { id: message.id, data: message.data }, state.userId, timeoutMs, now), { connectionId: from.id, instance: from.instance }, now);
      }
      case "watch":
        if (!config.directory) return this.#refuse(from, "disabled", "the user directory is off (PRESENCE_DIRECTORY=off)", now);
        this.#watching.set(from.id, message.userIds, now);
        // Watching nobody is answered at once: an empty full list.
        if (message.userIds.length === 0) out.send(from.id, { type: "users", seq: 1, full: true, users: [] }, from.instance);
        return;
      default:
        return message satisfies never;
    }
  }
}
