/**
 * A channel room (the `main` party) with valid settings: its parts built once and each host
 * callback handed to the part whose job it is. A connect goes to `Admission`, a frame to the
 * `Inbox`, a tick to the `Publisher`, a socket's end to `Departures`, HTTP and calls to
 * `ChannelRoutes` (HTTP clients' heartbeats to `Heartbeats`). Written against the host port alone.
 */
import type { Config } from "../server/config.ts";
import type { Host, RoomService } from "../server/host.ts";
import { TickLoop } from "../server/tick-loop.ts";
import { WebhookDispatch } from "../server/webhooks.ts";
import { CloseCode } from "../protocol/index.ts";
import { withCors } from "../server/envelope.ts";
import { Admission } from "./admission.ts";
import { Broadcaster } from "./broadcaster.ts";
import { Departures } from "./departures.ts";
import { Heartbeats } from "./heartbeats.ts";
import { HistoryRows } from "./history-rows.ts";
import { httpConnectionId, type HttpClientRow, HttpClientRows } from "./http-client-rows.ts";
import { DirectoryReporter } from "./directory-reporter.ts";
import { Inbox } from "./inbox.ts";
import { IndexReporter } from "./index-reporter.ts";
import { type LiveClient, PresenceState } from "./presence.ts";
import { Publisher } from "./publisher.ts";
import { ChannelPushes } from "./pushes.ts";
import { SocketRegistry } from "./registry.ts";
import { ChannelRoutes } from "./routes.ts";
import { ChannelSockets, type Socket, type SocketState } from "./sockets.ts";
import { StatsCounters } from "./stats.ts";
import { ChannelStore, type Meta } from "./store.ts";
import { WatchRegistry } from "./watchers.ts";
import { Watching } from "./watching.ts";

/** One channel room's live behaviour. */
export class ChannelService implements RoomService<SocketState> {
  readonly #host: Host<SocketState>;
  readonly #config: Config;
  readonly #state: PresenceState;
  readonly #stats = new StatsCounters();
  readonly #registry: SocketRegistry;
  readonly #sockets: ChannelSockets;
  readonly #store: ChannelStore;
  readonly #httpClients: HttpClientRows;
  readonly #history: HistoryRows;
  readonly #ticks: TickLoop;
  readonly #broadcaster: Broadcaster;
  readonly #reporter: DirectoryReporter;
  readonly #index: IndexReporter;
  readonly #webhooks: WebhookDispatch;
  readonly #pushes: ChannelPushes;
  readonly #watching: Watching;
  readonly #departures: Departures;
  readonly #admission: Admission;
  readonly #inbox: Inbox;
  readonly #publisher: Publisher;
  readonly #routes: ChannelRoutes;
  /** How many times this room has started (first load, restarts, wakes after eviction). */
  #starts = 0;

  constructor(host: Host<SocketState>, config: Config) {
    this.#host = host;
    this.#config = config;
    const channel = () => host.name;
    const schedule = () => this.#ticks.schedule();
    const state = (this.#state = new PresenceState(config));
    const stats = this.#stats;
    const registry = (this.#registry = new SocketRegistry(config));
    const sockets = (this.#sockets = new ChannelSockets(host, stats));
    const store = (this.#store = new ChannelStore(host.storage));
    const httpClients = (this.#httpClients = new HttpClientRows(host.storage));
    const history = (this.#history = new HistoryRows(host.storage, config));
    const watchers = new WatchRegistry();
    const broadcaster = (this.#broadcaster = new Broadcaster({ sockets, config, state, channel, watched: (connectionId) => watchers.usersOf(connectionId) }));
    const reporter = (this.#reporter = new DirectoryReporter({
      enabled: config.directory,
      parties: host.parties,
      parts: config.directoryParts,
      leaseMs: config.leaseMs,
      channel,
      heard: (statuses) => {
        watchers.heard(statuses);
        schedule();
      },
      retry: schedule,
    }));
    const index = (this.#index = new IndexReporter({ parties: host.parties, channel, leaseMs: config.leaseMs, retry: schedule }));
    const webhooks = (this.#webhooks = new WebhookDispatch(config.webhook, host.storage, (at) => void this.#ticks.cover(at).catch((error) => console.error("presence: alarm failed", error))));
    const pushes = (this.#pushes = new ChannelPushes({
      storage: host.storage,
      state,
      channel,
      send: (connectionId, message) => {
        // A push asks for an ack: that answer must not count against the socket's rate.
        registry.credit(connectionId, Date.now());
        sockets.sendTo(connectionId, message);
      },
    }));
    const ticks = (this.#ticks = new TickLoop({
      tickMs: () => broadcaster.tickMs(),
      storage: host.storage,
      run: (now) => this.#publisher.tick(now),
      nextDeadline: () =>
        [registry.nextExpiry(), reporter.nextRenewal(), pushes.nextExpiry(), webhooks.nextDeadline(), index.nextDeadline(), httpClients.nextDeadline(), history.nextDeadline()].reduce(earliest, state.nextDeadline()),
    }));
    const watching = (this.#watching = new Watching({ watchers, reporter, store, broadcaster, sockets, ticks }));
    const departures = (this.#departures = new Departures({ config, state, registry, sockets, stats, pushes, watching, ticks, httpClients }));
    this.#admission = new Admission({ config, state, registry, sockets, stats, broadcaster, pushes, departures, ticks });
    this.#inbox = new Inbox({ config, channel, state, registry, sockets, stats, broadcaster, pushes, watching, departures, ticks });
    const meta = () => this.#meta();
    const lastPings = () => pingsOf(host, sockets);
    this.#publisher = new Publisher({ channel, meta, lastPings, state, registry, stats, store, httpClients, history, broadcaster, webhooks, reporter, index, watching, pushes, departures, ticks });
    const heartbeats = new Heartbeats({ config, state, rows: httpClients, departures, pushes, stats, ticks });
    this.#routes = new ChannelRoutes({
      channel,
      state,
      stats,
      webhooks,
      pushes,
      watchers,
      history,
      schedule,
      starts: () => this.#starts,
      mode: () => broadcaster.mode,
      sockets: () => sockets.count(),
      heartbeats,
      httpClients: () => httpClients.liveCount,
      kick: (userId, reason) => departures.kick(userId, reason, Date.now()),
    });
  }

  /** Rebuilds the channel from storage, the sockets that survived and the stored HTTP clients, and settles what came due meanwhile. */
  async start(): Promise<void> {
    const { meta, members } = await this.#store.load();
    const httpClients = await this.#httpClients.load();
    this.#stats.restore(meta?.stats);
    this.#starts = (meta?.starts ?? 0) + 1;
    const { owners, stale } = this.#registry.adopt(this.#host.sockets());
    for (const socket of stale) this.#sockets.close(socket, CloseCode.replaced, "replaced by a newer connection with the same id");
    this.#state.restore(members, [...owners.map(liveClient), ...httpClients.map(liveHttpClient)], Date.now());
    this.#broadcaster.restore(meta?.seq ?? 0, meta?.mode);
    await this.#history.load(meta?.history);
    if (this.#host.name) await this.#store.saveMeta(this.#meta());
    await this.#watching.restore(owners);
    await this.#pushes.load();
    await this.#webhooks.load();
    await this.#ticks.load();
    // Grace or retention that ran out while the room was down is settled before anyone is served.
    await this.#ticks.flush();
  }

  connect(socket: Socket, request: Request): void {
    this.#admission.admit(socket, request);
  }

  message(socket: Socket, frame: string | ArrayBuffer | ArrayBufferView): void {
    this.#inbox.receive(socket, frame);
  }

  closed(socket: Socket): void {
    this.#departures.closed(socket);
  }

  async request(request: Request): Promise<Response> {
    return withCors(await this.#routes.answer(request), request.headers.get("origin"), this.#config.allowedOrigins);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /** The parties are reachable again: reports that waited for them go with the next tick. */
  reachable(): void {
    if (this.#reporter.pending || this.#index.pending) this.#ticks.schedule();
  }

  #meta(): Meta {
    return { seq: this.#broadcaster.seq, mode: this.#broadcaster.mode, starts: this.#starts, stats: this.#stats.saved(), history: this.#history.range };
  }
}

/** Each socket's last ping the engine answered, by connection id, read from the host once on first use. */
function pingsOf(host: Host<SocketState>, sockets: ChannelSockets): (connectionId: string) => number | null {
  let byId: Map<string, number> | null = null;
  return (connectionId) => {
    if (byId === null) {
      byId = new Map();
      for (const socket of sockets.all()) {
        const at = host.pingedAt(socket);
        if (at !== null) byId.set(socket.id, Math.max(at, byId.get(socket.id) ?? 0));
      }
    }
    return byId.get(connectionId) ?? null;
  };
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** A stored HTTP client, as the presence state takes it (one whose time ran out lapses in the first tick). */
function liveHttpClient(row: HttpClientRow): LiveClient {
  return { connectionId: httpConnectionId(row.clientId), userId: row.userId, clientType: row.clientType, lastActive: row.renewedAt, expiresAt: row.expiresAt };
}

/** A socket that survived a restart, as the presence state takes it. */
function liveClient(socket: Socket): LiveClient {
  const state = socket.state!;
  return { connectionId: socket.id, userId: state.userId, clientType: state.clientType, lastActive: state.active ?? state.at };
}
