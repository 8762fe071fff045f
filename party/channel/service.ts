/**
 * The channel room (the `main` party) on the host port: the engine's callbacks go to the pure
 * `ChannelCore` with the time, and the effects it returns are applied here, in order: frames
 * and closes to sockets, sockets' states, rows (awaited, and made durable before what follows),
 * calls to other parties and webhook deliveries (whose results go back to the core), answers to
 * calls that waited, and ticks on one timer and the storage alarm.
 */
import type { Config } from "../server/config.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { sendText } from "../server/host.ts";
import { readHandshake } from "../server/hand-off.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { TickLoop } from "../server/tick-loop.ts";
import { sendWebhook } from "../server/webhooks.ts";
import type { HistoryEvent } from "../protocol/index.ts";
import { withCors } from "../server/envelope.ts";
import { NEW_SOCKET } from "./admission.ts";
import { ChannelCore, type PingedAt } from "./core.ts";
import type { Effect, PartyCall } from "./effects.ts";
import { historyKey } from "./history.ts";
import { ChannelRoutes } from "./routes.ts";
import type { SocketState, SocketView } from "./sockets.ts";
import { loadChannel } from "./store.ts";

/** A channel room's socket. */
export type Socket = HostSocket<SocketState>;

/** One channel room: the core, and its effects applied over the host port. */
export class ChannelService implements RoomService<SocketState> {
  readonly #host: Host<SocketState>;
  readonly #config: Config;
  readonly #ticks: TickLoop;
  readonly #routes: ChannelRoutes;
  /** Calls this room took that its core answers later (an `answer` effect), by ticket. */
  readonly #answers = new Map<number, (value: unknown) => void>();
  #core: ChannelCore | null = null;

  constructor(host: Host<SocketState>, config: Config) {
    this.#host = host;
    this.#config = config;
    this.#ticks = new TickLoop({ tickMs: () => this.#core?.tickMs() ?? config.tickMs, storage: host.storage, now: () => host.now(), run: (now) => this.#tick(now), nextDeadline: () => this.#core?.nextDeadline() ?? null });
    this.#routes = new ChannelRoutes({ core: () => this.core, apply: (effects) => this.#apply(effects), answerLater: (ticket) => this.#answerLater(ticket), storage: host.storage, sockets: () => count(host.sockets()), now: () => host.now() });
  }

  /** The room's core (made at start, when the room knows its name). */
  get core(): ChannelCore {
    if (!this.#core) throw new Error("the channel room has not started");
    return this.#core;
  }

  /** Rebuilds the channel from storage and the sockets that survived, and settles what came due meanwhile. */
  async start(): Promise<void> {
    const stored = await loadChannel(this.#host.storage, this.#config.webhook);
    this.#core = new ChannelCore(this.#config, this.#host.name);
    await this.#apply(this.#core.restore(stored, this.#host.sockets(), this.#host.now()));
    await this.#ticks.load();
    // Grace or retention that ran out while the room was down is settled before anyone is served.
    await this.#ticks.flush();
  }

  connect(socket: Socket, request: Request): void {
    const effects = this.core.connect(socket.id, crypto.randomUUID(), readHandshake(request), this.#host.now());
    this.#run(effects, socket);
  }

  message(socket: Socket, frame: string | ArrayBuffer | ArrayBufferView): void {
    this.#run(this.core.frame(socket, frame, this.#host.now()));
  }

  closed(socket: Socket): void {
    this.#run(this.core.closed(socket, this.#host.now()));
  }

  async request(request: Request): Promise<Response> {
    return withCors(await this.#routes.answer(request), request.headers.get("origin"), this.#config.allowedOrigins);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /** The parties are reachable again: reports that waited for them go now. */
  reachable(): void {
    if (this.#core?.reportsWaiting) this.#run(this.#core.reachable(this.#host.now()));
  }

  /** One tick: expired history swept (reads), then the tick's rows stored and made durable, then it goes out. */
  async #tick(now: number): Promise<void> {
    const core = this.core;
    const sweep = core.history.nextSweep();
    if (sweep !== null && now >= sweep) {
      const drops = await core.history.sweep(now, (n) => this.#readTime(n));
      await this.#apply(core.historySwept(drops, now));
    }
    try {
      await this.#apply(core.tick(now, this.#pingedAt(), this.#host.parties.reachable));
    } catch (error) {
      await this.#apply(core.abandon(this.#host.now()));
      throw error;
    }
    await this.#apply(core.publish(this.#host.now()));
  }

  /** Applies an input's effects without the engine's callback waiting (it cannot): a failure is logged. */
  #run(effects: Effect[], fresh?: Socket): void {
    this.#apply(effects, fresh).catch((error) => console.error("presence: applying the room's effects failed", error));
  }

  /** Applies effects in order; a write is awaited (and everything after it waits). `fresh`: the socket being connected. */
  async #apply(effects: readonly Effect[], fresh?: Socket): Promise<void> {
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
    const back = (result: { reply: unknown } | { error: string }) => this.#run(this.core.replied(ticket, result, this.#host.now(), this.#host.parties.reachable));
    (this.#host.parties.call as (party: string, room: string, name: string, args: unknown) => Promise<unknown>)(call.party, call.room, call.name, call.args).then(
      (reply) => back({ reply }),
      (error: unknown) => back({ error: error instanceof Error ? error.message : String(error) }),
    );
  }

  /** One webhook attempt; it goes back to the core, which hands out the next batch when due. */
  #deliver(batch: Parameters<typeof sendWebhook>[1]): void {
    const settings = this.#config.webhook;
    if (!settings) return;
    sendWebhook(settings, batch)
      .then((attempt) => this.#run(this.core.webhookSettled(batch.n, attempt, this.#host.now())))
      .catch((error) => console.error("presence: webhook delivery failed", error));
  }

  /** Waits for the answer the core gives later under `ticket`. */
  #answerLater(ticket: number): Promise<unknown> {
    return new Promise((resolve) => this.#answers.set(ticket, resolve));
  }

  /** Each socket's last ping the engine answered, by connection id, read from the host once on first use. */
  #pingedAt(): PingedAt {
    let byId: Map<string, number> | null = null;
    return (connectionId) => {
      if (byId === null) {
        byId = new Map();
        for (const socket of this.#host.sockets()) {
          const at = this.#host.pingedAt(socket);
          if (at !== null) byId.set(socket.id, Math.max(at, byId.get(socket.id) ?? 0));
        }
      }
      return byId.get(connectionId) ?? null;
    };
  }

  async #readTime(n: number): Promise<number | undefined> {
    return (await this.#host.storage.get<HistoryEvent>(historyKey(n)))?.at;
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

/** How many items an iterable holds. */
function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

export type { SocketView };
