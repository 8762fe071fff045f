/**
 * The presence client: one channel over a `partysocket`, with a live member list, typed
 * events, herenow, userData updates, leave versus close, heartbeats and resync built in.
 * Web-standard only: it runs unchanged in browsers, Deno and Node (pass `WebSocket` from
 * the `ws` package on Node 20).
 */
import type { PartySocket } from "partysocket";
import { check } from "../party/wire/check.ts";
import { channelProblem, parseHandshake } from "../party/wire/handshake.ts";
import { DEFAULT_MAX_USER_DATA_BYTES, jsonEqual, type JsonValue, userDataProblem } from "../party/wire/json.ts";
import type {
  ChannelHereNow,
  ChannelMode,
  ClientMessage,
  ClientSettings,
  Counts,
  HereNowOptions,
  Member,
  PushResult,
  SyncMessage,
  UserStatus,
} from "../party/protocol/index.ts";
import { MAX_USERS_PER_REQUEST, MAX_WINDOW } from "../party/wire/limits.ts";
import { PushIdDefs, PushIdSchema, UserIdDefs, UserIdSchema } from "../party/wire/schemas.generated.ts";
import { Emitter } from "./emitter.ts";
import { readServerMessage } from "./frames.ts";
import { fetchHereNow, type HereNowResult } from "./http.ts";
import { type ClientPresenceEvent, type ListChange, MemberList } from "./member-list.ts";
import { Heartbeat } from "./heartbeat.ts";
import { PendingRequests } from "./requests.ts";
import { WatchList } from "./watch-list.ts";
import { runPushHandlers } from "./push-handlers.ts";
import { type PushAnswer, type PushHandler, PushInbox } from "./push-inbox.ts";
import { dial } from "./socket.ts";
import type { ConnectionStatus, PresenceClientEvents, PresenceClientOptions } from "./types.ts";

export type * from "../party/protocol/index.ts";
export type { JsonValue } from "../party/wire/json.ts";
export { PresenceHttpError, type HereNowResult, type PresenceApiOptions } from "./http.ts";
export { MemberList, type ClientPresenceEvent, type ListChange, type DiffOutcome } from "./member-list.ts";
export { WatchList, type WatchOutcome } from "./watch-list.ts";
export { PushInbox, type PushAnswer, type PushArrival, type PushHandler, type PushInfo } from "./push-inbox.ts";
export type { ConnectionStatus, PresenceClientEvents, PresenceClientOptions, TokenSource } from "./types.ts";

/** A live presence subscription to one channel. */
export class PresenceClient {
  readonly channel: string;
  readonly userId: string | null;
  readonly socket: PartySocket;
  #options: PresenceClientOptions;
  #events = new Emitter<PresenceClientEvents>();
  #list = new MemberList();
  #watch = new WatchList();
  #inbox = new PushInbox();
  readonly #pushHandlers = new Set<PushHandler>();
  #userData: JsonValue;
  #window: number;
  /** An update sent and not yet seen back from the room (undefined: none). */
  #sentData: JsonValue | undefined = undefined;
  readonly #heartbeat: Heartbeat;
  #requests = new PendingRequests();
  #nextRequest = 1;
  #left = false;
  /** The socket (re)opened: the watch list must be sent again with its first snapshot. */
  #rewatch = false;
  /** Set when the room refused this client: later socket events are old news. */
  #gaveUp = false;
  #ready: Promise<void>;
  #resolveReady!: () => void;
  #settings: ClientSettings | null = null;

  constructor(options: PresenceClientOptions) {
    const problem = channelProblem(options.channel);
    if (problem) throw new Error(problem);
    const maxBytes = options.maxUserDataBytes ?? DEFAULT_MAX_USER_DATA_BYTES;
    const params = new URLSearchParams();
    if (options.userId !== undefined) params.set("userId", options.userId);
    if (options.userData !== undefined) params.set("userData", JSON.stringify(options.userData));
    if (options.clientType !== undefined) params.set("clientType", options.clientType);
    if (options.id !== undefined) params.set("_pk", options.id);
    if (options.window !== undefined) params.set("window", String(options.window));
    const handshake = parseHandshake(params, maxBytes);
    if (!handshake.ok) throw new Error(handshake.message);

    this.#options = options;
    this.channel = options.channel;
    this.userId = handshake.value.userId;
    this.#userData = handshake.value.userData;
    this.#window = handshake.value.window;
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.#heartbeat = new Heartbeat({
      open: () => this.socket.readyState === 1,
      ping: () => this.#send({ type: "ping" }),
      // Nothing heard for too long: the connection is half-open. Start over.
      silent: () => this.socket.reconnect(4001, "no answer from the room"),
    });
    this.socket = dial(options, () => this.#query());
    this.socket.addEventListener("open", () => this.#onOpen());
    this.socket.addEventListener("message", (event) => this.#onMessage(event.data));
    this.socket.addEventListener("close", (event) => this.#onClose(event.code, event.reason));
    this.#events.emit("status", "connecting");
  }

  /**
   * Resolves once the first complete snapshot has arrived and, for a member, once the room
   * has announced this user online (the tick after the connect), so the list includes itself.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Subscribes to an event; returns the function that unsubscribes. `push` handlers get
   * `(data, info)`: the push is acknowledged when they return (or their promise resolves),
   * negatively when one throws or rejects.
   */
  on(event: "push", handler: PushHandler): () => void;
  on<K extends keyof PresenceClientEvents>(event: K, handler: (payload: PresenceClientEvents[K]) => void): () => void;
  on(event: string, handler: (...args: never[]) => unknown): () => void {
    if (event !== "push") return this.#events.on(event as keyof PresenceClientEvents, handler as (payload: unknown) => void);
    this.#pushHandlers.add(handler as PushHandler);
    return () => this.#pushHandlers.delete(handler as PushHandler);
  }

  /**
   * Pushes to another member's clients in this channel (the service must allow it:
   * PRESENCE_CLIENT_PUSH=true). Resolves with which of them acknowledged.
   */
  async push(userId: string, data: JsonValue, options: { id?: string; timeoutMs?: number } = {}): Promise<PushResult> {
    const id = options.id ?? `c-${crypto.randomUUID()}`;
    const problem = check(PushIdSchema, id, PushIdDefs) ?? check(UserIdSchema, userId, UserIdDefs);
    if (problem) throw new Error(problem);
    const message: ClientMessage = { type: "push", id, userId, data };
    if (options.timeoutMs !== undefined) message.timeoutMs = options.timeoutMs;
    return this.#request<PushResult>(`push:${id}`, message, (options.timeoutMs ?? 5000) + this.#timeout());
  }

  /** The members this client knows, online and offline. */
  get members(): Member[] {
    return this.#list.members;
  }

  /** The online members only. */
  get online(): Member[] {
    return this.members.filter((member) => member.status === "online");
  }

  /** One member by userId. */
  member(userId: string): Member | undefined {
    return this.#list.member(userId);
  }

  /** The channel's counts as of the last message. */
  get counts(): Counts {
    return this.#list.counts;
  }

  /**
   * `full`: `members` is every member of the channel. `interval` (a channel past the service's
   * PRESENCE_ANNOUNCE_MAX): `members` is this client's view only (itself, the users it
   * watches, its window); `counts` stay exact and herenow pages through everyone.
   */
  get mode(): ChannelMode {
    return this.#list.mode;
  }

  /**
   * In interval mode, follow the first `limit` members by userId (0 to 100; 0: only yourself
   * and the users you watch). Kept across reconnects; in full mode it waits for interval mode.
   */
  setWindow(limit: number): void {
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_WINDOW) throw new Error(`window must be a whole number from 0 to ${MAX_WINDOW}`);
    this.#window = limit;
    this.#send({ type: "window", limit });
  }

  /** The room's settings from its last snapshot (heartbeat, grace, retention), or null before the first. */
  get settings(): ClientSettings | null {
    return this.#settings;
  }

  /** This connection's id (stable across reconnects). */
  get connectionId(): string {
    return this.socket.id;
  }

  /**
   * herenow: for this channel over the socket, or over HTTP for several channels
   * (`channels`) or while the socket is not open. Answers in GoEasy's shape:
   * `{code: 200, content: {channels: {…}}}`.
   */
  async hereNow(options: HereNowOptions & { channels?: string[] } = {}): Promise<HereNowResult> {
    const channels = options.channels ?? [this.channel];
    // Over the socket when it can answer; over HTTP otherwise (other channels, or reconnecting).
    if (channels.length === 1 && channels[0] === this.channel && !this.#left && this.socket.readyState === 1) {
      const id = String(this.#nextRequest++);
      const { channels: _omit, ...flags } = options;
      const result = await this.#request<ChannelHereNow>(id, { type: "herenow", id, ...flags });
      return { code: 200, content: { channels: { [this.channel]: result } } };
    }
    return fetchHereNow(
      { host: this.#options.host, protocol: this.#httpProtocol(), fetch: this.#options.fetch, party: this.#options.party },
      { channels, includeUsers: options.includeUsers, distinct: options.distinct, token: await this.#token() },
    );
  }

  /**
   * Watches up to 1,000 users' status across all channels (replacing the list; `[]` stops):
   * `user` fires for each change, `users` after each, and `watched` holds the list. The room
   * is asked again after every reconnect and whenever a message was missed.
   */
  watchUsers(userIds: readonly string[]): void {
    if (userIds.length > MAX_USERS_PER_REQUEST) throw new Error(`watch at most ${MAX_USERS_PER_REQUEST} users`);
    for (const id of userIds) {
      const problem = check(UserIdSchema, id, UserIdDefs);
      if (problem) throw new Error(problem);
    }
    this.#watch.set(userIds);
    this.#send({ type: "watch", userIds: this.#watch.ids });
  }

  /** The watched users' statuses, in the order asked (those the room has answered). */
  get watched(): UserStatus[] {
    return this.#watch.statuses;
  }

  /** One watched user's status. */
  watchedUser(userId: string): UserStatus | undefined {
    return this.#watch.status(userId);
  }

  /** Replaces this user's userData; everyone sees an `update`. */
  setUserData(data: JsonValue): void {
    if (this.userId === null) throw new Error("an observer has no userData");
    const problem = userDataProblem(data, this.#options.maxUserDataBytes ?? DEFAULT_MAX_USER_DATA_BYTES);
    if (problem) throw new Error(problem.message);
    this.#userData = data;
    this.#sentData = data;
    this.#send({ type: "update", data });
  }

  /** Unsubscribes: others see `leave` at once. Then closes the socket. */
  async leave(): Promise<void> {
    if (this.userId !== null && !this.#left && this.socket.readyState === 1) {
      await this.#request("leave", { type: "leave" });
    }
    this.#left = true;
    this.close();
  }

  /** Disconnects: others see `offline` after the room's grace period, unless it comes back. */
  close(): void {
    this.#heartbeat.stop();
    this.socket.close(1000, "client closed");
    this.#requests.rejectAll(new Error("presence client closed"));
  }

  async #query(): Promise<Record<string, string>> {
    const query: Record<string, string> = {};
    if (this.userId !== null && !this.#left) {
      query.userId = this.userId;
      query.userData = JSON.stringify(this.#userData);
      if (this.#options.clientType !== undefined) query.clientType = this.#options.clientType;
    }
    if (this.#window > 0) query.window = String(this.#window);
    const token = await this.#token();
    if (token !== undefined) query.token = token;
    return query;
  }

  /** The token to send now: the given one, or a fresh one from the provider. */
  async #token(): Promise<string | undefined> {
    const source = this.#options.token;
    return typeof source === "function" ? await source() : source;
  }

  #httpProtocol(): "http" | "https" | undefined {
    if (!this.#options.protocol) return undefined;
    return this.#options.protocol === "wss" ? "https" : "http";
  }

  #onOpen() {
    this.#rewatch = true;
    this.#heartbeat.heard();
    this.#list.reconnected();
    this.#events.emit("status", "open");
  }

  /**
   * The room refused this socket (1013 follows), a newer client replaced it (4002 follows) or
   * the operator disconnected its user (4004 follows):
   * report it now and stop reconnecting; the app decides when to try again.
   */
  #gaveUpWith(code: number, reason: string) {
    this.#gaveUp = true;
    this.close();
    this.#events.emit("close", { code, reason });
    this.#events.emit("status", "closed");
  }

  #onClose(code: number, reason: string) {
    if (this.#gaveUp) return;
    this.#heartbeat.stop();
    this.#events.emit("close", { code, reason });
    this.#events.emit("status", "closed");
  }

  #onMessage(data: unknown) {
    this.#heartbeat.heard();
    const message = readServerMessage(data);
    if (!message) return;
    switch (message.type) {
      case "sync":
        return this.#onSync(message);
      case "diff": {
        const outcome = this.#list.applyDiff(message);
        if (outcome.kind === "gap") return this.#send({ type: "sync" });
        if (outcome.kind === "applied") this.#report(outcome.change);
        return;
      }
      case "herenow":
        return this.#requests.settle(message.id, message.result);
      case "left":
        return this.#requests.settle("leave", undefined);
      case "pong":
        return;
      case "push": {
        const { id, data, channel, from } = message;
        const arrival = this.#inbox.receive(id, Date.now());
        if (arrival === "new") {
          void runPushHandlers(this.#pushHandlers, data, { id, channel, from }).then((answer) => {
            for (let owed = this.#inbox.answered(id, answer); owed > 0; owed--) this.#send(ackOf(id, answer));
          });
        } else if (arrival !== "waiting") this.#send(ackOf(id, arrival));
        return;
      }
      case "pushed":
        return this.#requests.settle(`push:${message.result.id}`, message.result);
      case "users": {
        const outcome = this.#watch.apply(message);
        if (outcome.kind === "resync") return this.#send({ type: "watch", userIds: this.#watch.ids });
        for (const status of outcome.changed) this.#events.emit("user", status);
        this.#events.emit("users", this.watched);
        return;
      }
      case "error":
        this.#events.emit("error", { code: message.code, message: message.message });
        if (message.code === "room_full" || message.code === "user_full") this.#gaveUpWith(1013, message.message);
        else if (message.code === "replaced") this.#gaveUpWith(4002, message.message);
        else if (message.code === "kicked") this.#gaveUpWith(4004, message.message);
        return;
      default:
        return message satisfies never;
    }
  }

  #onSync(message: SyncMessage) {
    const change = this.#list.applySync(message);
    if (!change) return;
    // A new connection starts a new watch stream (the room's own snapshots, on a change of mode or view, do not).
    if (this.#rewatch && this.#watch.ids.length > 0) {
      this.#watch.reconnected();
      this.#send({ type: "watch", userIds: this.#watch.ids });
    }
    this.#rewatch = false;
    this.#settings = message.settings;
    this.#heartbeat.start(message.settings);
    if (change.modeChanged) this.#events.emit("mode", this.mode);
    for (const event of change.events) this.#fire(event);
    this.#adoptOwnData();
    this.#events.emit("sync", { members: this.members, counts: this.counts, seq: this.#list.seq, mode: this.mode });
    this.#events.emit("members", this.members);
    this.#checkReady();
  }

  /** Reports what a diff changed. */
  #report(change: ListChange) {
    for (const event of change.events) this.#fire(event);
    this.#adoptOwnData();
    if (change.changed) this.#events.emit("members", this.members);
    this.#checkReady();
  }

  #checkReady() {
    if (this.userId === null || this.#left || this.member(this.userId)?.status === "online") this.#resolveReady();
  }

  /** Keeps this client's userData in step with its member, so a reconnect does not bring back old data. */
  #adoptOwnData() {
    const own = this.userId === null || this.#left ? undefined : this.member(this.userId);
    if (!own) return;
    // Until the room echoes this client's own update, the local value is the newer one.
    if (this.#sentData !== undefined) {
      if (!jsonEqual(own.data, this.#sentData)) return;
      this.#sentData = undefined;
    }
    this.#userData = own.data;
  }

  #fire(event: ClientPresenceEvent) {
    this.#events.emit(event.action, event);
    this.#events.emit("presence", event);
  }

  #send(message: ClientMessage) {
    if (this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  #request<T>(id: string, message: ClientMessage, timeoutMs = this.#timeout()): Promise<T> {
    if (this.socket.readyState !== 1) return Promise.reject(new Error("presence client is not connected"));
    return this.#requests.wait<T>(id, message.type, timeoutMs, () => this.#send(message));
  }

  #timeout(): number {
    return this.#options.requestTimeoutMs ?? 10_000;
  }
}

/** The `ack` that answers push `id`. */
function ackOf(id: string, answer: PushAnswer): ClientMessage {
  return answer.ok ? { type: "ack", id, ok: true } : { type: "ack", id, ok: false, error: answer.error };
}
