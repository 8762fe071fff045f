/**
 * The presence client: one channel over a `partysocket`, with a live member list, typed
 * events, herenow, userData updates, leave versus close, heartbeats and resync built in.
 * Web-standard only: it runs unchanged in browsers, Deno and Node (pass `WebSocket` from
 * the `ws` package on Node 20).
 *
 * `PresenceClient` is the transport: it feeds the pure `ClientCore` (core.ts) the socket's
 * frames, opening and closing, and performs what the core returns (messages to send, events
 * to emit), with the timers, requests, HTTP and push handlers the core leaves to it.
 */
import type { PartySocket } from "partysocket";
import { check } from "../party/wire/check.ts";
import type { JsonValue } from "../party/wire/json.ts";
import type { ChannelHereNow, ChannelMode, ClientMessage, ClientSettings, Counts, HereNowOptions, Member, PushResult, UserStatus } from "../party/protocol/index.ts";
import { PushIdDefs, PushIdSchema, UserIdDefs, UserIdSchema } from "../party/wire/schemas.generated.ts";
import { ClientCore, type CoreOutput } from "./core.ts";
import { Emitter } from "./emitter.ts";
import { readServerMessage } from "./frames.ts";
import { fetchHereNow, type HereNowResult } from "./http.ts";
import { Heartbeat } from "./heartbeat.ts";
import { runPushHandlers } from "./push-handlers.ts";
import type { PushHandler } from "./push-inbox.ts";
import { PendingRequests } from "./requests.ts";
import { dial } from "./socket.ts";
import type { PresenceClientEvents, PresenceClientOptions } from "./types.ts";

export type * from "../party/protocol/index.ts";
export type { JsonValue } from "../party/wire/json.ts";
export { PresenceHttpError, type HereNowResult, type PresenceApiOptions } from "./http.ts";
export { ClientCore, type CoreEvent, type CoreEvents, type CoreOptions, type CoreOutput, type ListView, type WatchView } from "./core.ts";
export { MemberList, type ClientPresenceEvent, type ListChange, type DiffOutcome } from "./member-list.ts";
export { WatchList, type WatchOutcome } from "./watch-list.ts";
export { PushInbox, type PushAnswer, type PushArrival, type PushHandler, type PushInfo } from "./push-inbox.ts";
export type { ConnectionStatus, PresenceClientEvents, PresenceClientOptions, TokenSource } from "./types.ts";

/** A live presence subscription to one channel. */
export class PresenceClient {
  readonly channel: string;
  readonly userId: string | null;
  readonly socket: PartySocket;
  readonly #options: PresenceClientOptions;
  readonly #core: ClientCore;
  readonly #events = new Emitter<PresenceClientEvents>();
  readonly #pushHandlers = new Set<PushHandler>();
  readonly #heartbeat: Heartbeat;
  readonly #requests = new PendingRequests();
  #nextRequest = 1;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(options: PresenceClientOptions) {
    // Validates like the service: throws on a bad channel, userId, userData, clientType, id or window.
    this.#core = new ClientCore(options);
    this.#options = options;
    this.channel = options.channel;
    this.userId = this.#core.userId;
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.#heartbeat = new Heartbeat({
      open: () => this.socket.readyState === 1,
      ping: () => this.#send({ type: "ping" }),
      // Nothing heard for too long: the connection is half-open. Start over.
      silent: () => this.socket.reconnect(4001, "no answer from the room"),
    });
    this.socket = dial(options, () => this.#query());
    this.socket.addEventListener("open", () => {
      this.#heartbeat.heard();
      this.#perform(this.#core.opened());
    });
    this.socket.addEventListener("message", (event) => {
      this.#heartbeat.heard();
      const message = readServerMessage(event.data);
      if (message) this.#perform(this.#core.received(message, Date.now()));
    });
    this.socket.addEventListener("close", (event) => {
      this.#heartbeat.stop();
      this.#perform(this.#core.closed(event.code, event.reason));
    });
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
    return this.#core.list.members;
  }

  /** The online members only. */
  get online(): Member[] {
    return this.members.filter((member) => member.status === "online");
  }

  /** One member by userId. */
  member(userId: string): Member | undefined {
    return this.#core.list.member(userId);
  }

  /** The channel's counts as of the last message. */
  get counts(): Counts {
    return this.#core.list.counts;
  }

  /**
   * `full`: `members` is every member of the channel. `interval` (a channel past the service's
   * PRESENCE_ANNOUNCE_MAX): `members` is this client's view only (itself, the users it
   * watches, its window); `counts` stay exact and herenow pages through everyone.
   */
  get mode(): ChannelMode {
    return this.#core.list.mode;
  }

  /**
   * In interval mode, follow the first `limit` members by userId (0 to 100; 0: only yourself
   * and the users you watch). Kept across reconnects; in full mode it waits for interval mode.
   */
  setWindow(limit: number): void {
    this.#perform(this.#core.setWindow(limit));
  }

  /** The room's settings from its last snapshot (heartbeat, grace, retention), or null before the first. */
  get settings(): ClientSettings | null {
    return this.#core.settings;
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
    if (channels.length === 1 && channels[0] === this.channel && !this.#core.left && this.socket.readyState === 1) {
      const id = String(this.#nextRequest++);
      const { channels: _omit, ...flags } = options;
      const result = await this.#request<ChannelHereNow>(id, { type: "herenow", id, ...flags });
      return { code: 200, content: { channels: { [this.channel]: result } } };
    }
    const protocol = this.#options.protocol && (this.#options.protocol === "wss" ? "https" : "http");
    return fetchHereNow(
      { host: this.#options.host, protocol, fetch: this.#options.fetch, party: this.#options.party },
      { channels, includeUsers: options.includeUsers, distinct: options.distinct, token: await this.#token() },
    );
  }

  /**
   * Watches up to 1,000 users' status across all channels (replacing the list; `[]` stops):
   * `user` fires for each change, `users` after each, and `watched` holds the list. The room
   * is asked again after every reconnect and whenever a message was missed.
   */
  watchUsers(userIds: readonly string[]): void {
    this.#perform(this.#core.watch(userIds));
  }

  /** The watched users' statuses, in the order asked (those the room has answered). */
  get watched(): UserStatus[] {
    return this.#core.watchList.statuses;
  }

  /** One watched user's status. */
  watchedUser(userId: string): UserStatus | undefined {
    return this.#core.watchList.status(userId);
  }

  /** Replaces this user's userData; everyone sees an `update`. */
  setUserData(data: JsonValue): void {
    this.#perform(this.#core.setUserData(data));
  }

  /** Unsubscribes: others see `leave` at once. Then closes the socket. */
  async leave(): Promise<void> {
    if (this.userId !== null && !this.#core.left && this.socket.readyState === 1) {
      await this.#request("leave", { type: "leave" });
    }
    this.#core.leave();
    this.close();
  }

  /** Disconnects: others see `offline` after the room's grace period, unless it comes back. */
  close(): void {
    this.#heartbeat.stop();
    this.socket.close(1000, "client closed");
    this.#requests.rejectAll(new Error("presence client closed"));
  }

  /** Does what the core asked: sends its messages, then emits its events or acts on them. */
  #perform({ events, send }: CoreOutput): void {
    for (const message of send) this.#send(message);
    for (const event of events) {
      switch (event[0]) {
        case "ready":
          this.#resolveReady();
          break;
        case "answer":
          this.#requests.settle(...event[1]);
          break;
        case "push": {
          const { data, info } = event[1];
          void runPushHandlers(this.#pushHandlers, data, info).then((answer) => this.#perform(this.#core.pushAnswered(info.id, answer)));
          break;
        }
        case "heartbeat":
          this.#heartbeat.start(event[1]);
          break;
        case "stop":
          this.close();
          break;
        default:
          this.#events.emit(event[0], event[1] as never);
      }
    }
  }

  /** The query of a (re)connect: the core's, and a token. */
  async #query(): Promise<Record<string, string>> {
    const query = this.#core.query();
    const token = await this.#token();
    if (token !== undefined) query.token = token;
    return query;
  }

  /** The token to send now: the given one, or a fresh one from the provider. */
  async #token(): Promise<string | undefined> {
    const source = this.#options.token;
    return typeof source === "function" ? await source() : source;
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
