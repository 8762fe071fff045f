/**
 * The presence room: one PartyKit room per channel. It validates and parses what arrives,
 * hands it to the pure `PresenceState`, and once per tick broadcasts the coalesced diff,
 * persists the changed members and sets the storage alarm for the next deadline.
 */
import type * as Party from "partykit/server";
import { type Config, loadConfig } from "./config.ts";
import { chunkByBytes } from "./chunk.ts";
import { channelProblem, parseHandshake } from "./handshake.ts";
import { fail, methodNotAllowed, ok, preflight } from "./http.ts";
import { hereNowAcrossChannels } from "./herenow.ts";
import { PresenceState, type StoredMember, type TickDiff } from "./presence.ts";
import {
  ClientMessage,
  CloseCode,
  type ErrorCode,
  exceedsDepth,
  HereNowQuery,
  type JsonValue,
  MAX_JSON_DEPTH,
  type Member,
  type PresenceEvent,
  type RoomStats,
  type ServerMessage,
  type SyncMessage,
  type Counts,
  userDataProblem,
  utf8Bytes,
} from "./protocol.ts";
import { TokenBucket } from "./rate-limit.ts";
import { z } from "zod";

/** What each socket keeps in its connection state (survives hibernation; keep it small). */
type SocketState = {
  /** Unique per socket: partysocket reuses the connection id across reconnects. */
  sid: string;
  userId: string | null;
  clientType?: string | undefined;
  /** When the socket was accepted; the newest of two sockets with one id wins. */
  at: number;
  /**
   * When it last sent a message, written at most once per ACTIVE_WRITE_MS: memory is lost
   * when the room hibernates, and a silent socket must not look fresh after every wake.
   */
  active?: number;
  /** Set once the client has left: the socket is an observer from then on. */
  left?: boolean;
};
type Socket = Party.Connection<SocketState>;

/** Carries the validated userData from `onBeforeConnect` to `onConnect`, off the URL. */
const USER_DATA_HEADER = "x-presence-user-data";
/** Marks the worker's own requests to a room; refused when it comes from outside. */
const INTERNAL_HEADER = "x-presence-internal";
/** Largest single WebSocket message the room sends (workerd's cap is 1 MiB). */
const MAX_OUTGOING_BYTES = 512 * 1024;
/** How stale a socket's saved last-activity time may get; the idle check allows for it. */
const ACTIVE_WRITE_MS = 1000;
const MEMBER_PREFIX = "m:";
const META_KEY = "meta";

type Meta = { channel: string; seq: number; stats?: Pick<RoomStats, "refusedConnections" | "rejectedMessages" | "closes"> };

/** Per-socket flood bookkeeping, in memory only. */
type Abuse = { bucket: TokenBucket; strikes: number };

export default class PresenceRoom implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };

  #config: Config | null = null;
  #configError: string | null = null;
  #state!: PresenceState;
  #channel = "";
  #seq = 0;
  /** The socket (by sid) that owns each connection id now. */
  #owner = new Map<string, string>();
  #abuse = new Map<string, Abuse>();
  #stats = { refusedConnections: {}, rejectedMessages: {}, closes: {} } as NonNullable<Meta["stats"]>;
  #statsDirty = false;
  #tick: ReturnType<typeof setTimeout> | null = null;
  /** The serialised snapshot, valid until the next diff. */
  #snapshot: { seq: number; counts: Counts; parts: string[] } | null = null;
  #alarmAt: number | null = null;

  constructor(readonly room: Party.Room) {}

  // ---------------------------------------------------------------- before the room

  /** Refuses a bad channel or handshake with a 400 before any room is touched. */
  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext) {
    const problem = channelProblem(lobby.id);
    if (problem) return fail(400, "bad_request", problem);
    let maxUserDataBytes: number;
    try {
      maxUserDataBytes = loadConfig(lobby.env).maxUserDataBytes;
    } catch (error) {
      return fail(500, "misconfigured", String((error as Error).message));
    }
    const url = new URL(request.url);
    const handshake = parseHandshake(url.searchParams, maxUserDataBytes);
    if (!handshake.ok) {
      // Count it in the room's stats without delaying the answer.
      ctx.waitUntil(
        lobby.parties.main!.get(lobby.id)
          .fetch({ method: "POST", headers: { [INTERNAL_HEADER]: "refused", "content-type": "text/plain" }, body: "bad_handshake" })
          .catch(() => undefined),
      );
      return fail(400, "bad_request", `refused: ${handshake.message}`);
    }
    // PartyKit keeps the request URL in the socket's 2 KB state: pass on only the validated,
    // bounded parameters, and carry userData in a header.
    const { connectionId, userId, clientType } = handshake.value;
    const kept = new URLSearchParams();
    if (connectionId !== undefined) kept.set("_pk", connectionId);
    if (userId !== null) kept.set("userId", userId);
    if (clientType !== undefined) kept.set("clientType", clientType);
    const forwarded = new Request(`${url.origin}${url.pathname}?${kept}`, request as unknown as Request);
    forwarded.headers.set(USER_DATA_HEADER, JSON.stringify(handshake.value.userData));
    return forwarded as unknown as Party.Request;
  }

  /** Refuses a bad channel name, and forged internal requests, before any room is touched. */
  static onBeforeRequest(request: Party.Request, lobby: Party.Lobby) {
    const problem = channelProblem(lobby.id);
    if (problem) return fail(400, "bad_request", problem);
    if (request.headers.has(INTERNAL_HEADER)) return fail(403, "bad_request", `${INTERNAL_HEADER} is for the service's own use`);
    return request;
  }

  /** Routes outside the rooms: `/herenow` across channels; everything else is a 404. */
  static async onFetch(request: Party.Request, lobby: Party.FetchLobby) {
    const url = new URL(request.url);
    if (url.pathname === "/herenow" || url.pathname === "/herenow/") {
      if (request.method === "OPTIONS") return preflight();
      if (request.method !== "GET") return methodNotAllowed(["GET"]);
      return hereNowAcrossChannels(url, (channel, query) => lobby.parties.main!.get(channel).fetch(`/?${query}`));
    }
    return fail(404, "not_found", `no route ${url.pathname}; see GET /herenow or /parties/main/CHANNEL`);
  }

  // ---------------------------------------------------------------- start and rebuild

  /** Loads the room from storage and the sockets that survived, before any other event. */
  async onStart() {
    await this.room.blockConcurrencyWhile(() => this.#load());
  }

  async #load() {
    try {
      this.#config = loadConfig(this.room.env);
    } catch (error) {
      this.#configError = (error as Error).message;
      console.error(this.#configError);
      this.#config = null;
    }
    const config = this.#config ?? loadConfig({});
    const meta = await this.room.storage.get<Meta>(META_KEY);
    this.#seq = meta?.seq ?? 0;
    if (meta?.stats) this.#stats = meta.stats;
    // onAlarm cannot read room.id: remember the channel name.
    this.#channel = meta?.channel ?? this.#roomId() ?? "";
    if (!meta && this.#channel) await this.room.storage.put<Meta>(META_KEY, { channel: this.#channel, seq: 0 });

    const stored = await this.room.storage.list<StoredMember>({ prefix: MEMBER_PREFIX });
    const now = Date.now();
    const live = this.#liveSockets();
    this.#state = PresenceState.rebuild(config, stored.values(), live.map(socketToClient), now);
    this.#alarmAt = await this.room.storage.getAlarm();
    // Settle what came due while the room was down (grace, retention) before anyone is
    // served, so a first snapshot never shows a member that has already left.
    await this.#flush();
  }

  #roomId(): string | null {
    try {
      return this.room.id;
    } catch {
      return null;
    }
  }

  /** The open sockets, keeping one per connection id (the newest) and closing the rest. */
  #liveSockets(): Socket[] {
    const byId = new Map<string, Socket>();
    for (const socket of this.room.getConnections<SocketState>()) {
      const state = socket.state;
      if (!state) continue;
      const other = byId.get(socket.id);
      if (other && other.state!.at >= state.at) {
        this.#close(socket, CloseCode.replaced, "replaced by a newer connection with the same id");
        continue;
      }
      if (other) this.#close(other, CloseCode.replaced, "replaced by a newer connection with the same id");
      byId.set(socket.id, socket);
    }
    for (const socket of byId.values()) this.#owner.set(socket.id, socket.state!.sid);
    return [...byId.values()];
  }

  // ---------------------------------------------------------------- sockets

  onConnect(socket: Socket, ctx: Party.ConnectionContext) {
    if (this.#configError || !this.#config) {
      socket.close(CloseCode.internalError, "room misconfigured: see the server log");
      return;
    }
    const config = this.#config;
    const url = new URL(ctx.request.url);
    const userId = url.searchParams.get("userId");
    const clientType = url.searchParams.get("clientType") ?? undefined;
    const userData = JSON.parse(ctx.request.headers.get(USER_DATA_HEADER) ?? "null") as JsonValue;
    const now = Date.now();

    // A reconnect of the same partysocket reuses the id: it is not a new client.
    const replacing = this.#owner.has(socket.id);
    if (!replacing && this.#state.liveClientCount() >= config.maxClients) {
      return this.#refuse(socket, "room_full", `room is full (${config.maxClients} clients); try again later`);
    }
    if (userId !== null && !replacing && this.#state.liveClientCount(userId) >= config.maxClientsPerUser) {
      return this.#refuse(socket, "user_full", `user ${userId} has ${config.maxClientsPerUser} clients here already`);
    }

    const state: SocketState = { sid: crypto.randomUUID(), userId, clientType, at: now };
    socket.setState(state);
    for (const other of this.room.getConnections<SocketState>(socket.id)) {
      if (other !== socket && other.state?.sid !== state.sid) {
        if (other.state) this.#abuse.delete(other.state.sid);
        this.#close(other, CloseCode.replaced, "replaced by a newer connection with the same id");
      }
    }
    this.#owner.set(socket.id, state.sid);
    this.#state.connect({ key: socket.id, userId, clientType, data: userData }, now);
    this.#sendSync(socket);
    this.#scheduleTick();
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, socket: Socket) {
    try {
      this.#handleMessage(message, socket);
    } catch (error) {
      // A bug must cost one answer, not the room: say so to the sender and carry on.
      console.error("presence: message handler failed", error);
      this.#count("rejectedMessages", "internal");
      this.#send(socket, { type: "error", code: "internal", message: "the room failed to handle this message" });
    }
  }

  #handleMessage(message: string | ArrayBuffer | ArrayBufferView, socket: Socket) {
    if (!this.#isCurrent(socket) || !this.#config) return;
    const config = this.#config;
    const now = Date.now();
    this.#state.touch(socket.id, now);
    const state = socket.state!;
    if (now - (state.active ?? state.at) >= ACTIVE_WRITE_MS) socket.setState({ ...state, active: now });

    const abuse = this.#abuseOf(socket, now);
    if (!abuse.bucket.take(now)) return this.#reject(socket, abuse, "rate_limited", `over ${config.ratePerSec} messages/s (burst ${config.rateBurst})`);
    if (typeof message !== "string") return this.#reject(socket, abuse, "binary_not_supported", "send JSON text frames, not binary");
    // A UTF-16 unit takes at most 3 UTF-8 bytes: only a frame near the cap needs encoding.
    if (message.length * 3 > config.maxMessageBytes && utf8Bytes(message) > config.maxMessageBytes) {
      return this.#reject(socket, abuse, "too_large", `message is larger than ${config.maxMessageBytes} bytes`);
    }
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return this.#reject(socket, abuse, "bad_message", "message is not valid JSON");
    }
    if (exceedsDepth(json)) return this.#reject(socket, abuse, "bad_message", `message nests deeper than ${MAX_JSON_DEPTH} levels`);
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      const known = ClientMessage.options.some((option) => option.shape.type.value === (json as { type?: unknown })?.type);
      return known
        ? this.#reject(socket, abuse, "bad_message", z.prettifyError(parsed.error))
        : this.#reject(socket, abuse, "unknown_message", `unknown message type; expected one of ${ClientMessage.options.map((o) => o.shape.type.value).join(", ")}`);
    }
    abuse.strikes = 0;
    const msg = parsed.data;
    switch (msg.type) {
      case "ping":
        return this.#send(socket, { type: "pong", now });
      case "update": {
        // Keep the data as the user sent it: zod's copy drops "__proto__" keys.
        const data = (json as { data: JsonValue }).data;
        const problem = userDataProblem(data, config.maxUserDataBytes);
        if (problem) return this.#reject(socket, abuse, problem.code, problem.message);
        if (!this.#state.update(socket.id, data)) return this.#reject(socket, abuse, "not_a_member", "observers and clients that left have no userData");
        return this.#scheduleTick();
      }
      case "leave": {
        if (!this.#state.leave(socket.id)) return this.#reject(socket, abuse, "not_a_member", "this client is not a member");
        socket.setState({ ...socket.state!, left: true });
        this.#state.connect({ key: socket.id, userId: null, data: null }, now);
        this.#send(socket, { type: "left" });
        return this.#scheduleTick();
      }
      case "herenow":
        return this.#send(socket, {
          type: "herenow",
          id: msg.id,
          result: this.#state.hereNow(this.#channel, { includeUsers: msg.includeUsers ?? false, distinct: msg.distinct ?? false }),
        });
      case "sync":
        return this.#sendSync(socket);
      default:
        return msg satisfies never;
    }
  }

  onClose(socket: Socket) {
    this.#gone(socket);
  }

  onError(socket: Socket) {
    this.#gone(socket);
  }

  /** A socket closed or failed: its client goes into grace, unless a newer socket took its id. */
  #gone(socket: Socket) {
    if (!this.#isCurrent(socket)) return;
    this.#owner.delete(socket.id);
    this.#abuse.delete(socket.state!.sid);
    this.#state.drop(socket.id, Date.now());
    this.#scheduleTick();
  }

  /** Whether this socket still owns its connection id (a stale one's late close is ignored). */
  #isCurrent(socket: Socket): boolean {
    const sid = socket.state?.sid;
    return sid !== undefined && this.#owner.get(socket.id) === sid;
  }

  // ---------------------------------------------------------------- HTTP

  async onRequest(request: Party.Request) {
    if (!this.#config) return fail(500, "misconfigured", this.#configError ?? "room not loaded");
    if (request.method === "OPTIONS") return preflight();
    if (request.method === "POST" && request.headers.get(INTERNAL_HEADER) === "refused") {
      this.#count("refusedConnections", (await request.text()).slice(0, 32) || "bad_handshake");
      return ok({});
    }
    if (request.method !== "GET") return methodNotAllowed(["GET"]);
    const url = new URL(request.url);
    if (url.searchParams.has("stats")) return ok(this.#roomStats());
    const query = HereNowQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return fail(400, "bad_request", z.prettifyError(query.error));
    return ok({ channels: { [this.#channel]: this.#state.hereNow(this.#channel, query.data) } });
  }

  #roomStats(): RoomStats {
    return {
      channel: this.#channel,
      ...this.#state.counts(),
      members: this.#state.members().length,
      sockets: [...this.room.getConnections()].length,
      ...this.#stats,
    };
  }

  // ---------------------------------------------------------------- ticks and alarms

  async onAlarm() {
    this.#alarmAt = null;
    await this.#flush();
  }

  #scheduleTick() {
    if (this.#tick !== null || !this.#config) return;
    this.#tick = setTimeout(() => {
      this.#tick = null;
      this.#flush().catch((error) => console.error("flush failed", error));
    }, this.#config.tickMs);
  }

  /** Applies deadlines, broadcasts the tick's diff, persists it, and sets the next alarm. */
  async #flush() {
    const now = Date.now();
    for (const key of this.#state.expire(now)) this.#closeIdle(key);
    const diff = this.#state.takeDiff();
    if (diff) {
      this.#snapshot = null;
      this.#broadcast(diff);
      await this.#persist(diff);
    } else if (this.#statsDirty) {
      await this.#persistMeta();
    }
    const next = this.#state.nextDeadline();
    if (next !== null && (this.#alarmAt === null || next < this.#alarmAt || this.#alarmAt <= now)) {
      this.#alarmAt = next;
      await this.room.storage.setAlarm(next);
    }
  }

  /** Closes the sockets the state judged idle; it already stopped counting them as live. */
  #closeIdle(key: string) {
    this.#owner.delete(key);
    for (const socket of this.room.getConnections<SocketState>(key)) {
      if (socket.state) this.#abuse.delete(socket.state.sid);
      this.#close(socket, CloseCode.heartbeatTimeout, `no message for ${this.#config?.heartbeatTimeoutMs} ms`);
    }
  }

  #broadcast(diff: TickDiff) {
    const items: Array<PresenceEvent | Member> = [...diff.events, ...diff.quiet];
    for (const part of chunkByBytes(items, MAX_OUTGOING_BYTES)) {
      const message: ServerMessage = {
        type: "diff",
        seq: ++this.#seq,
        clientAmount: diff.clientAmount,
        userAmount: diff.userAmount,
        events: part.filter((item): item is PresenceEvent => "action" in item),
        quiet: part.filter((item): item is Member => !("action" in item)),
      };
      const text = JSON.stringify(message);
      for (const socket of this.room.getConnections()) sendText(socket, text);
    }
  }

  /** Writes the changed members and the meta row, 128 keys per call (storage's cap). */
  async #persist(diff: TickDiff) {
    const storage = this.room.storage;
    const rows = diff.upserts.map((member) => [MEMBER_PREFIX + member.id, member] as const);
    for (let i = 0; i < rows.length; i += 128) await storage.put(Object.fromEntries(rows.slice(i, i + 128)));
    const deletes = diff.deletes.map((id) => MEMBER_PREFIX + id);
    for (let i = 0; i < deletes.length; i += 128) await storage.delete(deletes.slice(i, i + 128));
    await this.#persistMeta();
  }

  async #persistMeta() {
    this.#statsDirty = false;
    await this.room.storage.put<Meta>(META_KEY, { channel: this.#channel, seq: this.#seq, stats: this.#stats });
  }

  // ---------------------------------------------------------------- replies

  /**
   * Sends the snapshot: the channel as of the last diff (`seq`), without the open tick's
   * changes, which the next diff brings. Its member list is serialised once and reused by
   * every socket until that diff goes out, so a join storm costs one serialisation per
   * tick, not one per join.
   */
  #sendSync(socket: Socket) {
    const config = this.#config!;
    if (!this.#snapshot) {
      const { members, counts } = this.#state.committed();
      const parts = chunkByBytes(members, MAX_OUTGOING_BYTES).map((part) => JSON.stringify(part));
      this.#snapshot = { seq: this.#seq, counts, parts };
    }
    const { seq, counts, parts } = this.#snapshot;
    parts.forEach((members, i) => {
      const head: Omit<SyncMessage, "members"> = {
        type: "sync",
        channel: this.#channel,
        seq,
        more: i < parts.length - 1,
        self: { connectionId: socket.id, userId: socket.state?.left ? null : (socket.state?.userId ?? null) },
        ...counts,
        settings: { heartbeatIntervalMs: config.heartbeatIntervalMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
        now: Date.now(),
      };
      sendText(socket, `${JSON.stringify(head).slice(0, -1)},"members":${members}}`);
    });
  }

  #send(socket: Socket, message: ServerMessage) {
    sendText(socket, JSON.stringify(message));
  }

  #abuseOf(socket: Socket, now: number): Abuse {
    const sid = socket.state!.sid;
    let abuse = this.#abuse.get(sid);
    if (!abuse) {
      abuse = { bucket: new TokenBucket(this.#config!.ratePerSec, this.#config!.rateBurst, now), strikes: 0 };
      this.#abuse.set(sid, abuse);
    }
    return abuse;
  }

  /** Answers a refused message with an error, counts it, and closes a socket that keeps at it. */
  #reject(socket: Socket, abuse: Abuse, code: ErrorCode, message: string) {
    this.#count("rejectedMessages", code);
    abuse.strikes++;
    if (abuse.strikes >= this.#config!.abuseCloseAfter) {
      this.#send(socket, { type: "error", code, message: `${message}; closing after ${abuse.strikes} rejected messages in a row` });
      this.#gone(socket);
      this.#close(socket, CloseCode.policyViolation, `too many rejected messages (${code})`);
      return;
    }
    this.#send(socket, { type: "error", code, message });
  }

  /**
   * Refuses an accepted socket. The error frame goes first: with hibernatable sockets a close
   * made while handling another event can take until the next hibernation to end the TCP
   * connection, so clients learn why from the frame, at once.
   */
  #refuse(socket: Socket, reason: "room_full" | "user_full", message: string) {
    this.#count("refusedConnections", reason);
    this.#send(socket, { type: "error", code: reason, message });
    this.#close(socket, CloseCode.tryAgainLater, message);
  }

  #close(socket: Party.Connection, code: number, reason: string) {
    this.#count("closes", closeReason(code));
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      // Already closed: nothing to do.
    }
  }

  #count(group: keyof NonNullable<Meta["stats"]>, reason: string) {
    const counters = this.#stats[group];
    counters[reason] = (counters[reason] ?? 0) + 1;
    this.#statsDirty = true;
  }
}

function socketToClient(socket: Socket) {
  const state = socket.state!;
  return { key: socket.id, userId: state.left ? null : state.userId, clientType: state.clientType, lastActive: state.active ?? state.at };
}

/** Sends without throwing: a socket may close between iteration and send. */
function sendText(socket: Party.Connection, text: string) {
  try {
    socket.send(text);
  } catch {
    // The close handler will account for it.
  }
}

function closeReason(code: number): string {
  const entry = Object.entries(CloseCode).find(([, value]) => value === code);
  return entry ? entry[0] : String(code);
}
