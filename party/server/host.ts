/**
 * The host port: everything the service's rooms and edge know of the engine that runs them.
 * The channel room, the directory and the index are written against these types alone; one
 * adapter per engine (party/adapters/) implements them and is the only code that imports the
 * engine or knows its quirks. A test double (test/support/memory-host.ts) runs the same core
 * in memory.
 */
import type { BanCache } from "./ban-cache.ts";
import type { Parties } from "./calls.ts";

/**
 * A room's socket: its connection id (partysocket's `_pk`, reused across reconnects), its state
 * (kept in the socket's attachment by the engine, so it survives hibernation), send and close.
 */
export interface HostSocket<State = unknown> {
  readonly id: string;
  /** null until the room sets it. */
  readonly state: Readonly<State> | null;
  /** Replaces the socket's state (stored with the socket: keep it small). */
  setState(state: State): unknown;
  /** Throws when the socket is closed; callers that broadcast use `sendText`. */
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** Sends without throwing: a socket may close between iteration and send (its close event accounts for it). */
export function sendText(socket: HostSocket<unknown>, text: string): void {
  try {
    socket.send(text);
  } catch {
    // The close handler will account for it.
  }
}

/** Which rows a `list` reads (Durable Objects' own options, so both engines take them as they are). */
export type ListOptions = { prefix: string; start?: string; end?: string; limit?: number };

/** A room's durable storage: keys to structured-cloneable values, and one alarm. */
export interface HostStorage {
  get<T>(key: string): Promise<T | undefined>;
  /** Rows whose keys start with `prefix`, in key order; from `start` (inclusive) to `end` (exclusive), at most `limit` of them. */
  list<T>(options: ListOptions): Promise<Map<string, T>>;
  put<T>(key: string, value: T): Promise<void>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(key: string): Promise<boolean>;
  delete(keys: string[]): Promise<number>;
  /**
   * Resolves when every write made so far is durable: a crash after it loses none of them.
   * Durable Objects confirm writes after `put` resolves and hold outgoing messages until then
   * (output gates); this makes the order explicit, whatever the engine holds back.
   */
  sync(): Promise<void>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** What a room's service gets from its engine. */
export interface Host<State = unknown> {
  /** The room's name: the channel, the directory part, `all`. Known in every callback, alarms included. */
  readonly name: string;
  readonly storage: HostStorage;
  /** The room's open sockets, or those of one connection id (a reconnect may briefly hold two). */
  sockets(connectionId?: string): Iterable<HostSocket<State>>;
  /**
   * When the engine last answered a ping of this socket by itself, without waking the room
   * (epoch ms), or null: an engine without such answers, or no ping since the socket connected.
   */
  pingedAt(socket: HostSocket<State>): number | null;
  /** The other parties' rooms. */
  readonly parties: Parties;
  /** The time now (epoch ms): the room's clock, the only one its services read. */
  now(): number;
}

/**
 * A room's behaviour, whatever the party: the adapter calls these from the engine's callbacks.
 * Every room has this one shape (a room whose settings are invalid gets `Misconfigured`, in room.ts).
 */
export interface RoomService<State = unknown> {
  /** Loads the room before any other event (the adapter holds events until it resolves). */
  start(): Promise<void>;
  /** A socket the edge admitted; `request` is the upgrade request as the edge passed it on. */
  connect(socket: HostSocket<State>, request: Request): void;
  message(socket: HostSocket<State>, frame: string | ArrayBuffer | ArrayBufferView): void;
  /** The socket closed or failed. */
  closed(socket: HostSocket<State>): void;
  request(request: Request): Promise<Response>;
  /** The room's storage alarm fired. */
  alarm(): Promise<void>;
  /** The other parties became reachable (see `Parties.reachable`): work that waited for them may go. */
  reachable(): void;
}

/** What the edge (the worker's hooks before any room) gets from its engine. */
export interface EdgeHost {
  /** The service's environment: the PRESENCE_* settings. */
  readonly env: Readonly<Record<string, unknown>>;
  readonly parties: Parties;
  /** Lets work finish after the answer went out (counting a refusal). */
  waitUntil(promise: Promise<unknown>): void;
  /** The isolate's copy of the ban list (one per isolate: the adapter makes it once). */
  readonly bans: BanCache;
  /** The time now (epoch ms): the edge's clock (tokens' own times are checked by jose against the real one). */
  now(): number;
}
