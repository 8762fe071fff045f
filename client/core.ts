/**
 * The presence client's core, as pure logic (h11's shape): the room's messages, already read
 * and checked, and the socket's opening and closing go in; what to emit and what to send come
 * out, as data. It owns the member list, the watch list, the push ids answered, the userData
 * kept in step with its member, the window, the room's settings, and when `ready()` resolves.
 * No socket, no timer, no fetch: `PresenceClient` (index.ts) feeds it and performs its output.
 */
import { channelProblem, parseHandshake } from "../party/wire/handshake.ts";
import { DEFAULT_MAX_USER_DATA_BYTES, jsonEqual, type JsonValue, userDataProblem } from "../party/wire/json.ts";
import { MAX_USERS_PER_REQUEST, MAX_WINDOW } from "../party/wire/limits.ts";
import { check } from "../party/wire/check.ts";
import { UserIdDefs, UserIdSchema } from "../party/wire/schemas.generated.ts";
import type { ClientMessage, ClientSettings, ErrorCode, ServerMessage } from "../party/protocol/index.ts";
import { type ListChange, MemberList } from "./member-list.ts";
import { type PushAnswer, PushInbox, type PushInfo } from "./push-inbox.ts";
import type { PresenceClientEvents, PresenceClientOptions } from "./types.ts";
import { WatchList } from "./watch-list.ts";

/** What the core asks of its transport: the client's public events, and these. */
export type CoreEvents = PresenceClientEvents & {
  /** `ready()` resolves (once). */
  ready: undefined;
  /** The answer to a request: herenow by its id, `leave`, `push:ID`; and its value. */
  answer: [id: string, value: unknown];
  /** A new push: run the app's handlers and report their answer with `pushAnswered`. */
  push: { data: JsonValue; info: PushInfo };
  /** A snapshot announced the room's settings: (re)start the heartbeat at them. */
  heartbeat: ClientSettings;
  /** The room refused this client (full, replaced, kicked): close for good, without reconnecting. */
  stop: undefined;
};

/** One event: its name, and its payload unless it has none. */
export type CoreEvent = { [K in keyof CoreEvents]: undefined extends CoreEvents[K] ? [K] : [K, CoreEvents[K]] }[keyof CoreEvents];

/** What one input came to: the events in order, and the messages to send (before them). */
export type CoreOutput = { events: CoreEvent[]; send: ClientMessage[] };

/** The member list as the core's users read it. */
export type ListView = Pick<MemberList, "members" | "member" | "counts" | "mode" | "seq" | "window" | "current">;

/** The watch list as the core's users read it. */
export type WatchView = Pick<WatchList, "ids" | "statuses" | "status">;

/** Who the client is: the options the core needs (the transport's are ignored). */
export type CoreOptions = Pick<PresenceClientOptions, "channel" | "userId" | "userData" | "clientType" | "id" | "window" | "maxUserDataBytes">;

/** Error codes with which the room refuses this client for good, and the close code each stands for. */
const REFUSALS: Partial<Record<ErrorCode, number>> = { room_full: 1013, user_full: 1013, replaced: 4002, kicked: 4004 };

/** One client of one channel, without I/O. */
export class ClientCore {
  /** null: an observer. */
  readonly userId: string | null;
  readonly #clientType: string | undefined;
  readonly #maxBytes: number;
  readonly #list = new MemberList();
  readonly #watch = new WatchList();
  /** The member list, to read: members, counts, mode, seq (only the core changes it). */
  readonly list: ListView = this.#list;
  /** The watch list, to read: ids and statuses (only the core changes it). */
  readonly watchList: WatchView = this.#watch;
  readonly #inbox = new PushInbox();
  /** The userData a (re)connect carries: the latest set here, or the member's as the room has it. */
  #userData: JsonValue;
  /** An update sent and not yet seen back from the room (undefined: none). */
  #sentData: JsonValue | undefined;
  #window: number;
  #settings: ClientSettings | null = null;
  #left = false;
  /** The socket (re)opened: the watch list must be sent again with its first snapshot. */
  #rewatch = false;
  /** The room refused this client: the socket's later close is old news. */
  #refused = false;
  #ready = false;
  readonly #events: CoreEvent[] = [];
  readonly #send: ClientMessage[] = [];

  /** Validates like the service: throws on a bad channel, userId, userData, clientType, id or window. */
  constructor(options: CoreOptions) {
    const problem = channelProblem(options.channel);
    if (problem) throw new Error(problem);
    this.#maxBytes = options.maxUserDataBytes ?? DEFAULT_MAX_USER_DATA_BYTES;
    const params = new URLSearchParams();
    if (options.userId !== undefined) params.set("userId", options.userId);
    if (options.userData !== undefined) params.set("userData", JSON.stringify(options.userData));
    if (options.clientType !== undefined) params.set("clientType", options.clientType);
    if (options.id !== undefined) params.set("_pk", options.id);
    if (options.window !== undefined) params.set("window", String(options.window));
    const handshake = parseHandshake(params, this.#maxBytes);
    if (!handshake.ok) throw new Error(handshake.message);
    this.userId = handshake.value.userId;
    this.#userData = handshake.value.userData;
    this.#window = handshake.value.window;
    this.#clientType = options.clientType;
  }

  /** The room's settings from its last snapshot, or null before the first. */
  get settings(): ClientSettings | null {
    return this.#settings;
  }

  /** Whether this client left (unsubscribed): it reconnects, if ever, as an observer. */
  get left(): boolean {
    return this.#left;
  }

  /** The query of the next (re)connect, but its token: who this is, its latest userData, its window. */
  query(): Record<string, string> {
    const query: Record<string, string> = {};
    if (this.userId !== null && !this.#left) {
      query.userId = this.userId;
      query.userData = JSON.stringify(this.#userData);
      if (this.#clientType !== undefined) query.clientType = this.#clientType;
    }
    if (this.#window > 0) query.window = String(this.#window);
    return query;
  }

  /** The socket opened: diffs wait for its snapshot, which the watch list is sent again after. */
  opened(): CoreOutput {
    this.#rewatch = true;
    this.#list.reconnected();
    this.#events.push(["status", "open"]);
    return this.#flush();
  }

  /** The socket closed (the transport reconnects unless the room refused this client). */
  closed(code: number, reason: string): CoreOutput {
    if (!this.#refused) this.#events.push(["close", { code, reason }], ["status", "closed"]);
    return this.#flush();
  }

  /** A message from the room, read and checked; `now` is this client's clock (for the push ids it keeps). */
  received(message: ServerMessage, now: number): CoreOutput {
    switch (message.type) {
      case "sync":
        this.#synced(message);
        break;
      case "diff": {
        const outcome = this.#list.applyDiff(message);
        if (outcome.kind === "gap") this.#send.push({ type: "sync" });
        else if (outcome.kind === "applied") this.#report(outcome.change, false);
        break;
      }
      case "herenow":
        this.#events.push(["answer", [message.id, message.result]]);
        break;
      case "left":
        this.#events.push(["answer", ["leave", undefined]]);
        break;
      case "pushed":
        this.#events.push(["answer", [`push:${message.result.id}`, message.result]]);
        break;
      case "pong":
        break;
      case "push": {
        const { id, data, channel, from } = message;
        const arrival = this.#inbox.receive(id, now);
        if (arrival === "new") this.#events.push(["push", { data, info: { id, channel, from } }]);
        else if (arrival !== "waiting") this.#send.push(ackOf(id, arrival));
        break;
      }
      case "users": {
        const outcome = this.#watch.apply(message);
        if (outcome.kind === "resync") this.#send.push({ type: "watch", userIds: this.#watch.ids });
        else this.#events.push(...outcome.changed.map((status): CoreEvent => ["user", status]), ["users", this.#watch.statuses]);
        break;
      }
      case "error": {
        this.#events.push(["error", { code: message.code, message: message.message }]);
        const code = REFUSALS[message.code];
        if (code === undefined) break;
        this.#refused = true;
        this.#events.push(["stop"], ["close", { code, reason: message.message }], ["status", "closed"]);
        break;
      }
      default:
        message satisfies never;
    }
    return this.#flush();
  }

  /** The app's handlers answered push `id`: the ack, once for each time it arrived meanwhile. */
  pushAnswered(id: string, answer: PushAnswer): CoreOutput {
    for (let owed = this.#inbox.answered(id, answer); owed > 0; owed--) this.#send.push(ackOf(id, answer));
    return this.#flush();
  }

  /** Replaces this user's userData (throws for an observer, or data the room would refuse). */
  setUserData(data: JsonValue): CoreOutput {
    if (this.userId === null) throw new Error("an observer has no userData");
    const problem = userDataProblem(data, this.#maxBytes);
    if (problem) throw new Error(problem.message);
    this.#userData = this.#sentData = data;
    this.#send.push({ type: "update", data });
    return this.#flush();
  }

  /** Follows the first `limit` members in interval mode (kept for reconnects; throws outside 0–100). */
  setWindow(limit: number): CoreOutput {
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_WINDOW) throw new Error(`window must be a whole number from 0 to ${MAX_WINDOW}`);
    this.#window = limit;
    this.#send.push({ type: "window", limit });
    return this.#flush();
  }

  /** Replaces the watch list (throws on more than 1,000 ids or a bad one). */
  watch(userIds: readonly string[]): CoreOutput {
    if (userIds.length > MAX_USERS_PER_REQUEST) throw new Error(`watch at most ${MAX_USERS_PER_REQUEST} users`);
    for (const id of userIds) {
      const problem = check(UserIdSchema, id, UserIdDefs);
      if (problem) throw new Error(problem);
    }
    this.#watch.set(userIds);
    this.#send.push({ type: "watch", userIds: this.#watch.ids });
    return this.#flush();
  }

  /** This client left: no more userData, and a reconnect, if any, is an observer's. */
  leave(): void {
    this.#left = true;
  }

  #synced(message: Extract<ServerMessage, { type: "sync" }>) {
    const change = this.#list.applySync(message);
    if (!change) return;
    // A new connection starts a new watch stream (the room's own snapshots, on a change of mode or view, do not).
    if (this.#rewatch && this.#watch.ids.length > 0) {
      this.#watch.reconnected();
      this.#send.push({ type: "watch", userIds: this.#watch.ids });
    }
    this.#rewatch = false;
    this.#settings = message.settings;
    this.#events.push(["heartbeat", message.settings]);
    if (change.modeChanged) this.#events.push(["mode", this.#list.mode]);
    this.#report(change, true);
  }

  /** Reports what a snapshot or a diff changed. */
  #report(change: ListChange, snapshot: boolean) {
    for (const event of change.events) this.#events.push([event.action, event] as CoreEvent, ["presence", event]);
    this.#adoptOwnData();
    if (snapshot) this.#events.push(["sync", { members: this.#list.members, counts: this.#list.counts, seq: this.#list.seq, mode: this.#list.mode }]);
    if (change.changed) this.#events.push(["members", this.#list.members]);
    if (!this.#ready && (this.userId === null || this.#left || this.#list.member(this.userId)?.status === "online")) {
      this.#ready = true;
      this.#events.push(["ready"]);
    }
  }

  /** Keeps this client's userData in step with its member, so a reconnect does not bring back old data. */
  #adoptOwnData() {
    const own = this.userId === null || this.#left ? undefined : this.#list.member(this.userId);
    if (!own) return;
    // Until the room echoes this client's own update, the local value is the newer one.
    if (this.#sentData !== undefined) {
      if (!jsonEqual(own.data, this.#sentData)) return;
      this.#sentData = undefined;
    }
    this.#userData = own.data;
  }

  /** This input's output; the next starts empty. */
  #flush(): CoreOutput {
    return { events: this.#events.splice(0), send: this.#send.splice(0) };
  }
}

/** The `ack` that answers push `id`. */
function ackOf(id: string, answer: PushAnswer): ClientMessage {
  return answer.ok ? { type: "ack", id, ok: true } : { type: "ack", id, ok: false, error: answer.error };
}
