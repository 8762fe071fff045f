/**
 * A channel with valid settings: each PartyKit callback of the room handed to the parts
 * that do the work (presence state, socket registry, frame decoder, tick loop, store,
 * snapshot cache, stats, routes). Only this file knows all of them.
 */
import type * as Party from "partykit/server";
import type { Config } from "../shared/config.ts";
import { withCors } from "../shared/envelope.ts";
import { readHandshake } from "../shared/handshake.ts";
import { CloseCode, type ErrorCode, type ParsedClientMessage, type ServerMessage } from "../shared/protocol.ts";
import { DEFAULT_PUSH_TIMEOUT_MS } from "../shared/pushes.ts";
import { type Decoded, decodeFrame } from "./frames.ts";
import { Broadcaster } from "./broadcaster.ts";
import { type LiveClient, PresenceState, type TickDiff } from "./presence.ts";
import { answerRequest } from "./routes.ts";
import { sendText, type Socket, SocketRegistry, type SocketState } from "./sockets.ts";
import { StatsCounters } from "./stats.ts";
import { ChannelStore, type Meta } from "./store.ts";
import { TickLoop } from "../shared/tick-loop.ts";
import { PartyLink } from "../shared/party-link.ts";
import { DirectoryReporter } from "./directory-reporter.ts";
import { IndexReporter } from "./index-reporter.ts";
import { WatchRegistry } from "./watchers.ts";
import { ChannelPushes } from "./pushes.ts";
import { jsonProblem } from "../shared/json.ts";
import { WebhookDelivery } from "../shared/webhooks.ts";

type Refusal = Extract<Decoded, { ok: false }>;

/** One channel room's live behaviour. */
export class Channel {
  readonly #room: Party.Room;
  readonly #config: Config;
  readonly #sockets: SocketRegistry;
  readonly #stats = new StatsCounters();
  readonly #store: ChannelStore;
  readonly #broadcast: Broadcaster;
  readonly #ticks: TickLoop;
  readonly #link: PartyLink;
  readonly #watchers = new WatchRegistry();
  readonly #reporter: DirectoryReporter;
  readonly #index: IndexReporter;
  readonly #pushes: ChannelPushes;
  readonly #webhooks: WebhookDelivery;
  #state: PresenceState;
  /** The channel's name: alarms cannot read `room.id`, so it is kept in the meta row too. */
  #name = "";
  /** How many times this room has started (first load, restarts, wakes after eviction). */
  #starts = 0;

  constructor(room: Party.Room, config: Config) {
    this.#room = room;
    this.#config = config;
    this.#sockets = new SocketRegistry(config);
    this.#store = new ChannelStore(room.storage);
    this.#state = new PresenceState(config);
    this.#ticks = new TickLoop({
      tickMs: () => this.#broadcast.tickMs(),
      storage: room.storage,
      run: (now) => this.#tick(now),
      nextDeadline: () =>
        [this.#sockets.nextExpiry(), this.#reporter.nextRenewal(), this.#pushes.nextExpiry(), this.#webhooks.nextDeadline(), this.#index.nextDeadline()].reduce(earliest, this.#state.nextDeadline()),
    });
    this.#link = new PartyLink(room);
    this.#broadcast = new Broadcaster({
      room,
      config,
      state: () => this.#state,
      channel: () => this.#name,
      watched: (connectionId) => this.#watchers.usersOf(connectionId),
    });
    this.#webhooks = new WebhookDelivery(config.webhook, room.storage, () => this.#ticks.schedule());
    this.#pushes = new ChannelPushes({
      storage: room.storage,
      state: () => this.#state,
      channel: () => this.#name,
      send: (connectionId, message) => {
        // A push asks for an ack: that answer must not count against the socket's rate.
        this.#sockets.credit(connectionId, Date.now());
        for (const socket of this.#room.getConnections<SocketState>(connectionId)) this.#send(socket, message);
      },
    });
    this.#reporter = new DirectoryReporter({
      enabled: config.directory,
      link: this.#link,
      parts: config.directoryParts,
      leaseMs: config.leaseMs,
      channel: () => this.#name,
      heard: (statuses) => {
        this.#watchers.heard(statuses);
        this.#ticks.schedule();
      },
      retry: () => this.#ticks.schedule(),
    });
    this.#index = new IndexReporter({ link: this.#link, channel: () => this.#name, leaseMs: config.leaseMs, retry: () => this.#ticks.schedule() });
  }

  /** Rebuilds the channel from storage and the sockets that survived, and settles what came due meanwhile. */
  async start(): Promise<void> {
    const { meta, members } = await this.#store.load();
    this.#stats.restore(meta?.stats);
    this.#name = meta?.channel ?? roomId(this.#room) ?? "";
    this.#starts = (meta?.starts ?? 0) + 1;
    if (this.#name) await this.#store.saveMeta(this.#meta());
    const { owners, stale } = this.#sockets.adopt(this.#room.getConnections<SocketState>());
    for (const socket of stale) this.#close(socket, CloseCode.replaced, "replaced by a newer connection with the same id");
    this.#state = PresenceState.rebuild(this.#config, members, owners.map(liveClient), Date.now());
    this.#broadcast.restore(meta?.seq ?? 0, meta?.mode);
    // Sockets that survived keep watching: each is owed a full list again.
    const watching = await this.#store.loadWatches();
    for (const socket of owners) {
      const userIds = watching.get(socket.id);
      if (userIds) this.#reporter.ask(this.#watchers.set(socket.id, userIds));
    }
    for (const stale of watching.keys()) if (!owners.some((socket) => socket.id === stale)) await this.#store.saveWatch(stale, []);
    this.#reporter.watch(this.#watchers.watched());
    this.#link.capture();
    await this.#pushes.load();
    await this.#webhooks.load();
    await this.#ticks.load();
    // Grace or retention that ran out while the room was down is settled before anyone is served.
    await this.#ticks.flush();
  }

  connect(socket: Socket, ctx: Party.ConnectionContext): void {
    this.#capture();
    const { userId, userData, clientType, window, dataLocked, expiresAt } = readHandshake(ctx.request as unknown as Request);
    const now = Date.now();
    // A reconnect of the same partysocket reuses the id: it is not a new client.
    const replacing = this.#sockets.owned(socket.id);
    if (!replacing && this.#state.liveClientCount() >= this.#config.maxClients) {
      return this.#refuse(socket, "room_full", `room is full (${this.#config.maxClients} clients); try again later`);
    }
    if (userId !== null && !replacing && this.#state.liveClientCount(userId) >= this.#config.maxClientsPerUser) {
      return this.#refuse(socket, "user_full", `user ${userId} has ${this.#config.maxClientsPerUser} clients here already`);
    }
    const instance = crypto.randomUUID();
    const state: SocketState = { instance, userId, clientType, at: now };
    if (dataLocked) state.dataLocked = true;
    if (expiresAt !== null) state.expiresAt = expiresAt;
    if (window > 0) state.window = window;
    this.#sockets.accept(socket, state);
    // Compared by instance: with hibernation, getConnections() returns new wrapper objects.
    for (const other of this.#room.getConnections<SocketState>(socket.id)) {
      if (other.state?.instance !== instance) this.#close(other, CloseCode.replaced, "replaced by a newer connection with the same id");
    }
    this.#state.connect({ connectionId: socket.id, userId, clientType, data: userData }, now);
    if (userId !== null) this.#applyPolicy(socket.id, userId, clientType, now);
    this.#broadcast.snapshot(socket);
    // After the snapshot: pushes for this user still waiting for this client.
    if (userId !== null) this.#pushes.connected(socket.id, userId, clientType);
    this.#ticks.schedule();
  }

  message(frame: string | ArrayBuffer | ArrayBufferView, socket: Socket): void {
    try {
      this.#handle(frame, socket);
    } catch (error) {
      // A bug must cost one answer, not the room: say so to the sender and carry on.
      console.error("presence: message handler failed", error);
      this.#stats.count("rejectedMessages", "internal");
      this.#send(socket, { type: "error", code: "internal", message: "the room failed to handle this message" });
    }
  }

  /** A socket closed or failed: its client goes into grace, unless a newer socket took its id. */
  gone(socket: Socket): void {
    if (!this.#sockets.isCurrent(socket)) return;
    this.#release(socket.id);
    this.#state.drop(socket.id, Date.now());
    this.#ticks.schedule();
  }

  /** Takes the other parties while PartyKit allows it; work that waited for them goes out with the next tick. */
  #capture(): void {
    const had = this.#link.ready;
    this.#link.capture();
    if (!had && this.#link.ready && (this.#reporter.pending || this.#index.pending)) this.#ticks.schedule();
  }

  /** A member pushes to another member's clients here (PRESENCE_CLIENT_PUSH): the room names the sender and answers `pushed`. */
  #clientPush(socket: Socket, message: Extract<ParsedClientMessage, { type: "push" }>): void {
    if (!this.#config.clientPush) return this.#reject(socket, { ok: false, code: "disabled", message: "pushes from clients are off (PRESENCE_CLIENT_PUSH)", parsed: true });
    const from = socket.state!.userId;
    if (from === null) return this.#notAMember(socket, "only members may push");
    const problem = jsonProblem(message.data, this.#config.maxPushBytes, "push data");
    if (problem) return this.#reject(socket, { ok: false, code: problem.code, message: problem.message, parsed: true });
    const timeoutMs = Math.min(message.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS, this.#config.maxPushTimeoutMs);
    this.#pushes
      .run(message.userId, { id: message.id, data: message.data }, from, timeoutMs)
      .then((result) => this.#send(socket, { type: "pushed", result }))
      .catch((error) => console.error("presence: a client push failed", error));
  }

  /** Forgets a socket the room no longer serves: its ownership and flood state, what it watched, its pushes. */
  #release(connectionId: string): void {
    this.#sockets.release(connectionId);
    this.#pushes.gone(connectionId);
    if (this.#watchers.usersOf(connectionId)) this.#setWatch(connectionId, []);
  }

  /** Replaces a socket's watch list, tells the directory, and keeps it across a restart. */
  #setWatch(connectionId: string, userIds: readonly string[]): void {
    this.#reporter.ask(this.#watchers.set(connectionId, userIds));
    this.#reporter.watch(this.#watchers.watched());
    this.#store.saveWatch(connectionId, userIds).catch((error) => console.error("presence: saving a watch list failed", error));
    // In interval mode the watched users are in the socket's view: it gets them in a fresh snapshot.
    for (const socket of this.#room.getConnections<SocketState>(connectionId)) this.#broadcast.viewChanged(socket);
    this.#ticks.schedule();
  }

  async request(request: Party.Request): Promise<Response> {
    this.#capture();
    const response = await answerRequest(request, {
      channel: this.#name,
      state: this.#state,
      stats: this.#stats,
      starts: this.#starts,
      mode: this.#broadcast.mode,
      sockets: () => [...this.#room.getConnections()].length,
      watched: (statuses) => {
        this.#watchers.heard(statuses);
        this.#ticks.schedule();
      },
      deliver: (push) => this.#pushes.deliver(push),
      webhooks: this.#webhooks,
      push: (userId, request, timeoutMs) => this.#pushes.run(userId, request, null, timeoutMs),
    });
    return withCors(response, request.headers.get("origin"), this.#config.allowedOrigins);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  #handle(frame: string | ArrayBuffer | ArrayBufferView, socket: Socket): void {
    if (!this.#sockets.isCurrent(socket)) return;
    this.#capture();
    const now = Date.now();
    this.#state.touch(socket.id, now);
    this.#sockets.noteActivity(socket, now);
    if (!this.#sockets.admit(socket, now)) {
      const { ratePerSec, rateBurst } = this.#config;
      return this.#reject(socket, { ok: false, code: "rate_limited", message: `over ${ratePerSec} messages/s (burst ${rateBurst})`, parsed: false });
    }
    const decoded = decodeFrame(frame, this.#config);
    if (!decoded.ok) return this.#reject(socket, decoded);
    this.#sockets.forgive(socket);
    const message = decoded.message;
    switch (message.type) {
      case "ping":
        return this.#send(socket, { type: "pong", now });
      case "update":
        if (socket.state!.dataLocked && socket.state!.userId !== null) {
          return this.#reject(socket, { ok: false, code: "forbidden", message: "this client's token fixes its userData (dataWritable is not set)", parsed: true });
        }
        if (!this.#state.update(socket.id, message.data)) return this.#notAMember(socket, "observers and clients that left have no userData");
        return this.#ticks.schedule();
      case "leave":
        if (!this.#state.leave(socket.id)) return this.#notAMember(socket, "this client is not a member");
        // The socket stays open as an observer.
        socket.setState({ ...socket.state!, userId: null });
        this.#state.connect({ connectionId: socket.id, userId: null, data: null }, now);
        this.#send(socket, { type: "left" });
        return this.#ticks.schedule();
      case "herenow":
        return this.#send(socket, { type: "herenow", id: message.id, result: this.#state.hereNow(this.#name, message) });
      case "sync":
        return this.#broadcast.snapshot(socket);
      case "window": {
        const { window: _old, ...rest } = socket.state!;
        socket.setState(message.limit > 0 ? { ...rest, window: message.limit } : rest);
        return this.#broadcast.viewChanged(socket);
      }
      case "ack":
        return this.#pushes.ack(socket.id, message.id, message.ok, message.error);
      case "push":
        return this.#clientPush(socket, message);
      case "watch":
        if (!this.#config.directory) {
          return this.#reject(socket, { ok: false, code: "disabled", message: "the user directory is off (PRESENCE_DIRECTORY=off)", parsed: true });
        }
        this.#setWatch(socket.id, message.userIds);
        // Watching nobody is answered at once: an empty full list.
        if (message.userIds.length === 0) this.#send(socket, { type: "users", seq: 1, full: true, users: [] });
        return;
      default:
        return message satisfies never;
    }
  }

  /** One tick: deadlines, then the diff to storage and then to every socket. */
  async #tick(now: number): Promise<void> {
    for (const connectionId of this.#state.expire(now)) this.#closeIdle(connectionId);
    for (const connectionId of this.#sockets.expired(now)) this.#closeExpired(connectionId, now);
    await this.#pushes.sweep(now);
    // In interval mode changes gather for a whole interval, whatever woke the loop.
    const due = this.#broadcast.due(now);
    if (!due) this.#ticks.schedule();
    const diff = due ? this.#state.takeDiff() : null;
    if (diff) await this.#publish(diff, now);
    else if (this.#stats.dirty) await this.#store.saveMeta(this.#meta());
    // Webhooks and the directory hear of the tick after the clients, off their path.
    this.#webhooks.deliver();
    if (diff) this.#reporter.changes(diff, now);
    if (this.#reporter.renewalDue(now)) this.#reporter.renew(this.#state.online(), now);
    this.#reporter.flush();
    this.#index.note({ ...this.#state.counts(), members: this.#state.size, mode: this.#broadcast.mode }, now);
    this.#index.flush(now);
    for (const message of this.#watchers.take()) {
      const { connectionId, ...rest } = message;
      const text = JSON.stringify({ type: "users", ...rest } satisfies ServerMessage);
      for (const socket of this.#room.getConnections(connectionId)) sendText(socket, text);
    }
  }

  /** A diff to storage, then to the sockets. */
  async #publish(diff: TickDiff, now: number): Promise<void> {
    // From here a snapshot shows the new state at the new number; the diff, sent below,
    // is then old news to a socket that got that snapshot meanwhile.
    const prepared = this.#broadcast.prepare(diff, now);
    this.#queueWebhook(diff, prepared.seq);
    // Stored before anyone hears of it: no client ever saw a change that a crash could lose,
    // and no webhook batch is lost either (it is in the same tick's writes).
    await this.#store.saveMembers(diff.upserts, diff.deletes);
    await this.#webhooks.save();
    await this.#store.saveMeta(this.#meta());
    prepared.send();
  }

  /** One tick's events (those the settings want) as one webhook batch, in order, numbered by the tick's diff. */
  #queueWebhook(diff: TickDiff, seq: number): void {
    if (!this.#webhooks.enabled) return;
    const events = diff.events
      .filter((event) => this.#webhooks.wants(event.action))
      .map((event) => ({ type: event.action, channel: this.#name, seq, member: event.member, clientAmount: event.clientAmount, userAmount: event.userAmount }));
    if (events.length === 0) return;
    this.#webhooks.enqueue({ type: "presence.events", timestamp: new Date().toISOString(), data: { channel: this.#name, events } }, Date.now());
  }

  #meta(): Meta {
    return { channel: this.#name, seq: this.#broadcast.seq, mode: this.#broadcast.mode, starts: this.#starts, stats: this.#stats.saved() };
  }

  /** Closes the sockets the state judged idle; it already stopped counting them as live. */
  #closeIdle(connectionId: string): void {
    this.#release(connectionId);
    for (const socket of this.#room.getConnections(connectionId)) {
      this.#close(socket, CloseCode.heartbeatTimeout, `no message for ${this.#config.heartbeatTimeoutMs} ms`);
    }
  }

  /** Closes the sockets whose token expired: their clients go into grace, where a reconnect with a fresh token finds them. */
  #closeExpired(connectionId: string, now: number): void {
    this.#release(connectionId);
    this.#state.drop(connectionId, now);
    for (const socket of this.#room.getConnections(connectionId)) this.#close(socket, CloseCode.tokenExpired, "token expired: reconnect with a fresh one");
  }

  /**
   * One-client policies: a new socket of a user replaces the user's others here
   * (newest-per-user), or those of the same clientType (newest-per-type). The replaced ones
   * are told why and closed; the user stays online throughout, so nobody sees an event.
   */
  #applyPolicy(connectionId: string, userId: string, clientType: string | undefined, now: number): void {
    const policy = this.#config.clientPolicy;
    if (policy === "multi") return;
    for (const other of this.#state.clientsOf(userId)) {
      if (other.connectionId === connectionId || (policy === "newest-per-type" && other.clientType !== clientType)) continue;
      this.#release(other.connectionId);
      this.#state.evict(other.connectionId, now);
      const reason = `replaced by a newer client of ${userId}${policy === "newest-per-type" ? ` (${clientType ?? "untyped"})` : ""}`;
      for (const socket of this.#room.getConnections<SocketState>(other.connectionId)) {
        this.#stats.count("replacedClients", policy);
        this.#send(socket, { type: "error", code: "replaced", message: reason });
        this.#close(socket, CloseCode.replacedByPolicy, reason);
      }
    }
  }

  #notAMember(socket: Socket, message: string): void {
    this.#reject(socket, { ok: false, code: "not_a_member", message, parsed: true });
  }

  /** Answers a refused message with an error, counts it, and closes a socket that keeps at it. */
  #reject(socket: Socket, refusal: Refusal): void {
    this.#stats.count("rejectedMessages", refusal.code);
    if (refusal.parsed) this.#sockets.forgive(socket);
    const { strikes, close } = this.#sockets.strike(socket);
    if (!close) return this.#send(socket, { type: "error", code: refusal.code, message: refusal.message });
    this.#send(socket, { type: "error", code: refusal.code, message: `${refusal.message}; closing after ${strikes} rejected messages in a row` });
    this.gone(socket);
    this.#close(socket, CloseCode.policyViolation, `too many rejected messages (${refusal.code})`);
  }

  /**
   * Refuses an accepted socket. The error frame goes first: with hibernatable sockets a close
   * made while handling another event can take until the next hibernation to end the TCP
   * connection, so clients learn why from the frame, at once.
   */
  #refuse(socket: Socket, reason: Extract<ErrorCode, "room_full" | "user_full">, message: string): void {
    this.#stats.count("refusedConnections", reason);
    this.#send(socket, { type: "error", code: reason, message });
    this.#close(socket, CloseCode.tryAgainLater, message);
  }

  #close(socket: Party.Connection, code: number, reason: string): void {
    this.#stats.countClose(code);
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      // Already closed: nothing to do.
    }
  }

  #send(socket: Socket, message: ServerMessage): void {
    sendText(socket, JSON.stringify(message));
  }
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function liveClient(socket: Socket): LiveClient {
  const state = socket.state!;
  return { connectionId: socket.id, userId: state.userId, clientType: state.clientType, lastActive: state.active ?? state.at };
}

function roomId(room: Party.Room): string | null {
  try {
    return room.id;
  } catch {
    // Inside an alarm, room.id throws (partykit 0.0.115).
    return null;
  }
}
