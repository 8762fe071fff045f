/**
 * The channel core's effects applied over the host port, in order: frames and closes to
 * sockets, sockets' states, rows (awaited, and made durable before what follows), calls to
 * other parties and webhook deliveries (whose results go back to the core), answers to calls
 * that waited, and ticks on the room's timer.
 */
import type { WebhookSettings } from "../server/config.ts";
import type { Host, HostSocket } from "../server/host.ts";
import { sendText } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import type { TickLoop } from "../server/tick-loop.ts";
import { sendWebhook } from "../server/webhooks.ts";
import { NEW_SOCKET } from "./admission.ts";
import type { ChannelCore } from "./core.ts";
import type { Effect, PartyCall } from "./effects.ts";
import type { SocketState } from "./sockets.ts";

/** A channel room's socket. */
export type Socket = HostSocket<SocketState>;

/** Applies a channel core's effects over the host port. */
export class EffectRunner {
  readonly #host: Host<SocketState>;
  readonly #core: ChannelCore;
  readonly #ticks: TickLoop;
  readonly #webhook: WebhookSettings | null;
  /** Calls this room took that its core answers later (an `answer` effect), by ticket. */
  readonly #answers = new Map<number, (value: unknown) => void>();

  constructor(host: Host<SocketState>, core: ChannelCore, ticks: TickLoop, webhook: WebhookSettings | null) {
    this.#host = host;
    this.#core = core;
    this.#ticks = ticks;
    this.#webhook = webhook;
  }

  /** Applies an input's effects without the engine's callback waiting (it cannot): a failure is logged. */
  run(effects: Effect[], fresh?: Socket): void {
    this.apply(effects, fresh).catch((error) => console.error("presence: applying the room's effects failed", error));
  }

  /** Applies effects in order; a write is awaited (and everything after it waits). `fresh`: the socket being connected. */
  async apply(effects: readonly Effect[], fresh?: Socket): Promise<void> {
    const storage = this.#host.storage;
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          for (const socket of this.#targets(effect.to, effect.instance, fresh)) sendText(socket, effect.text);
          break;
        case "broadcast": {
          const except = effect.except;
          if (except) {
            for (const socket of this.#host.sockets()) if (!except.has(socket.state?.instance ?? NEW_SOCKET)) sendText(socket, effect.text);
          } else for (const socket of this.#host.sockets()) sendText(socket, effect.text);
          break;
        }
        case "close":
          for (const socket of this.#targets(effect.to, effect.instance, fresh)) closeQuietly(socket, effect.code, effect.reason);
          break;
        case "remember":
          for (const socket of this.#targets(effect.to, undefined, fresh)) if (socket.state === null || socket.state.instance === effect.instance) socket.setState(effect.state);
          break;
        case "write":
          await putAll(storage, effect.put);
          await deleteAll(storage, effect.delete);
          break;
        case "sync":
          await storage.sync();
          break;
        case "call":
          this.#call(effect.ticket, effect.call);
          break;
        case "webhook":
          this.#deliver(effect.batch);
          break;
        case "answer":
          this.#answers.get(effect.ticket)?.(effect.value);
          this.#answers.delete(effect.ticket);
          break;
        case "tick":
          this.#ticks.schedule();
          break;
      }
    }
  }

  /** The sockets of a connection id (the one of `instance` when given; NEW_SOCKET: the one not accepted yet). */
  *#targets(to: string, instance: string | undefined, fresh: Socket | undefined): Iterable<Socket> {
    const matches = (socket: Socket) => instance === undefined || (instance === NEW_SOCKET ? socket.state === null : socket.state?.instance === instance);
    if (fresh && fresh.id === to && matches(fresh)) {
      yield fresh;
      return;
    }
    for (const socket of this.#host.sockets(to)) if (matches(socket)) yield socket;
  }

  /** A call of the core's to another party; its reply goes back to the core. */
  #call(ticket: number, call: PartyCall): void {
    const back = (result: { reply: unknown } | { error: string }) => this.run(this.#core.replied(ticket, result, this.#host.now(), this.#host.parties.reachable));
    (this.#host.parties.call as (party: string, room: string, name: string, args: unknown) => Promise<unknown>)(call.party, call.room, call.name, call.args).then(
      (reply) => back({ reply }),
      (error: unknown) => back({ error: error instanceof Error ? error.message : String(error) }),
    );
  }

  /** One webhook attempt; it goes back to the core, which hands out the next batch when due. */
  #deliver(batch: Parameters<typeof sendWebhook>[1]): void {
    const settings = this.#webhook;
    if (!settings) return;
    sendWebhook(settings, batch)
      .then((attempt) => this.run(this.#core.webhookSettled(batch.n, attempt, this.#host.now())))
      .catch((error) => console.error("presence: webhook delivery failed", error));
  }

  /** Waits for the answer the core gives later under `ticket`. */
  answerLater(ticket: number): Promise<unknown> {
    return new Promise((resolve) => this.#answers.set(ticket, resolve));
  }
}

/** Closes a socket; one that is closed already is left alone. */
function closeQuietly(socket: Socket, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // Already closed: nothing to do.
  }
}
