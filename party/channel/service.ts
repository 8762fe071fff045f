/**
 * The channel room (the `main` party) on the host port: the engine's callbacks go to the pure
 * `ChannelCore` with the time, and the effects it returns go to the `EffectRunner`, which
 * applies them in order (effect-runner.ts); HTTP goes to `ChannelRoutes`, ticks to `TickLoop`.
 */
import type { Config } from "../server/config.ts";
import type { Host, RoomService } from "../server/host.ts";
import { readHandshake } from "../server/hand-off.ts";
import { TickLoop } from "../server/tick-loop.ts";
import type { HistoryEvent } from "../protocol/index.ts";
import { withCors } from "../server/envelope.ts";
import { ChannelCore, type PingedAt } from "./core.ts";
import { EffectRunner, type Socket } from "./effect-runner.ts";
import { historyKey } from "./history.ts";
import { ChannelRoutes } from "./routes.ts";
import type { SocketState, SocketView } from "./sockets.ts";
import { loadChannel } from "./store.ts";

/** What a started room has: its core, the runner of its effects, its HTTP. */
type Started = { core: ChannelCore; effects: EffectRunner; routes: ChannelRoutes };

/** One channel room: the core, and its effects applied over the host port. */
export class ChannelService implements RoomService<SocketState> {
  readonly #host: Host<SocketState>;
  readonly #config: Config;
  readonly #ticks: TickLoop;
  #room: Started | null = null;

  constructor(host: Host<SocketState>, config: Config) {
    this.#host = host;
    this.#config = config;
    this.#ticks = new TickLoop({ tickMs: () => this.#room?.core.tickMs() ?? config.tickMs, storage: host.storage, now: () => host.now(), run: (now, sendFrom) => this.#tick(now, sendFrom), nextDeadline: () => this.#room?.core.nextDeadline() ?? null });
  }

  /** The room's core (made at start, when the room knows its name). */
  get core(): ChannelCore {
    return this.#started.core;
  }

  /** Rebuilds the channel from storage and the sockets that survived, and settles what came due meanwhile. */
  async start(): Promise<void> {
    const host = this.#host;
    const stored = await loadChannel(host.storage, this.#config.webhook);
    const core = new ChannelCore(this.#config, host.name);
    const effects = new EffectRunner(host, core, this.#ticks, this.#config.webhook);
    this.#room = { core, effects, routes: new ChannelRoutes({ core, effects, host }) };
    await effects.apply(core.restore(stored, host.sockets(), host.now()));
    await this.#ticks.load();
    // Grace or retention that ran out while the room was down is settled before anyone is served.
    if (stored.meta !== undefined) await this.#ticks.flush();
    // A room that never stored anything has nothing to settle: its first tick comes at once, and
    // usually holds the join that woke it (one tick, one report and one put, not two of each).
    else this.#ticks.schedule();
  }

  connect(socket: Socket, request: Request): void {
    const { core, effects } = this.#started;
    effects.run(core.connect(socket.id, crypto.randomUUID(), readHandshake(request), this.#host.now()), socket);
  }

  message(socket: Socket, frame: string | ArrayBuffer | ArrayBufferView): void {
    const { core, effects } = this.#started;
    effects.run(core.frame(socket, frame, this.#host.now()));
  }

  closed(socket: Socket): void {
    const { core, effects } = this.#started;
    effects.run(core.closed(socket, this.#host.now()));
  }

  async request(request: Request): Promise<Response> {
    return withCors(await this.#started.routes.answer(request), request.headers.get("origin"), this.#config.allowedOrigins);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /** The parties are reachable again: reports that waited for them go now. */
  reachable(): void {
    const room = this.#room;
    if (room?.core.reportsWaiting) room.effects.run(room.core.reachable(this.#host.now()));
  }

  get #started(): Started {
    if (!this.#room) throw new Error("the channel room has not started");
    return this.#room;
  }

  /**
   * One tick: expired history swept (reads), then the tick's rows stored and made durable, then
   * it goes out. True when it sent a diff.
   */
  async #tick(now: number, sendFrom: number | null): Promise<boolean> {
    const { core, effects } = this.#started;
    const sweep = core.history.nextSweep();
    if (sweep !== null && now >= sweep) {
      const drops = await core.history.sweep(now, (n) => this.#readTime(n));
      await effects.apply(core.historySwept(drops, now));
    }
    try {
      await effects.apply(core.tick(now, this.#pingedAt(), this.#host.parties.reachable, sendFrom));
    } catch (error) {
      await effects.apply(core.abandon(this.#host.now()));
      throw error;
    }
    const sending = core.diffPending;
    await effects.apply(core.publish(this.#host.now()));
    return sending;
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

export type { Socket, SocketView };
