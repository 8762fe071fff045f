/**
 * The host port in memory: a room's storage (a Map, with an alarm), its sockets (that record
 * what they are sent), and parties that route calls to other in-memory rooms. It runs the
 * same core the engines run, without an engine, for unit tests (with vitest's fake timers)
 * and for bench/room-heap.ts. Not an engine: no hibernation, no network, no edge.
 */
import { partiesOver, type Parties } from "../../party/server/calls.ts";
import type { Host, HostSocket, HostStorage, ListOptions, RoomService } from "../../party/server/host.ts";
import type { PartyName } from "../../party/protocol/index.ts";

/**
 * Errors thrown by rooms' alarms, which nothing awaits (the storage's timer rings them): the
 * unit project fails the test during which one was thrown (test/support/unit-setup.ts) instead
 * of only logging it.
 */
export const alarmFailures: Array<{ room: string; error: unknown }> = [];

/** Throws (and forgets them) when rooms' alarms threw since the last call: what the unit project runs after each test. */
export function throwAlarmFailures(): void {
  const failures = alarmFailures.splice(0);
  if (failures.length === 0) return;
  const list = failures.map(({ room, error }) => `${room}: ${error instanceof Error ? error.message : String(error)}`).join("; ");
  throw new Error(`${failures.length} room alarm(s) threw during this test: ${list}`, { cause: failures[0]!.error });
}

/**
 * A Map behind the storage port; `alarm` is when the room asked to be woken, and `ring` is
 * called then (on the test's clock). With `lazy` set, writes are not durable until `sync`
 * (which takes `syncMs` of the test's clock), as on an engine that confirms writes after `put`
 * resolved: `crash()` then keeps only what was confirmed.
 */
export class MemoryStorage implements HostStorage {
  rows = new Map<string, unknown>();
  /** Writes are durable only once `sync` confirms them. */
  lazy = false;
  /** How long `sync` takes (on the test's clock). */
  syncMs = 0;
  /** The rows as of the last `sync` (lazy mode). */
  #durable = new Map<string, unknown>();
  alarm: number | null = null;
  ring: () => void = () => {};
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Writes counted (puts and deletes), to tell a test what a path cost. */
  writes = 0;

  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.rows.get(key)) as T | undefined;
  }

  async list<T>({ prefix, start, end, limit }: ListOptions): Promise<Map<string, T>> {
    const keys = [...this.rows.keys()]
      .filter((key) => key.startsWith(prefix) && (start === undefined || key >= start) && (end === undefined || key < end))
      .sort()
      .slice(0, limit);
    return new Map(keys.map((key) => [key, structuredClone(this.rows.get(key)) as T]));
  }

  put<T>(key: string, value: T): Promise<void>;
  put<T>(entries: Record<string, T>): Promise<void>;
  async put<T>(keyOrEntries: string | Record<string, T>, value?: T): Promise<void> {
    const entries = typeof keyOrEntries === "string" ? { [keyOrEntries]: value } : keyOrEntries;
    if (Object.keys(entries).length > 128) throw new Error("storage takes at most 128 keys per put");
    for (const [key, entry] of Object.entries(entries)) this.rows.set(key, structuredClone(entry));
    this.writes++;
  }

  delete(key: string): Promise<boolean>;
  delete(keys: string[]): Promise<number>;
  async delete(keyOrKeys: string | string[]): Promise<boolean | number> {
    this.writes++;
    if (typeof keyOrKeys === "string") return this.rows.delete(keyOrKeys);
    if (keyOrKeys.length > 128) throw new Error("storage takes at most 128 keys per delete");
    return keyOrKeys.filter((key) => this.rows.delete(key)).length;
  }

  async sync(): Promise<void> {
    const confirmed = new Map(this.rows);
    if (this.syncMs > 0) await new Promise((done) => setTimeout(done, this.syncMs));
    if (this.lazy) this.#durable = confirmed;
  }

  /** Loses every write `sync` did not confirm (lazy mode): what a crash of the engine leaves. */
  crash(): void {
    this.rows = new Map(this.#durable);
  }

  /** The engine is gone: the alarm never rings again. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.ring = () => undefined;
  }

  async getAlarm(): Promise<number | null> {
    return this.alarm;
  }

  async setAlarm(at: number): Promise<void> {
    this.alarm = at;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.alarm = null;
      this.ring();
    }, Math.max(0, at - Date.now()));
  }
}

/** A socket that records what it is sent; `closed` holds its close code once closed. */
export class MemorySocket<State = unknown> implements HostSocket<State> {
  state: State | null = null;
  /** Every text sent, parsed (or counted only, with `keep: false`). */
  readonly sent: any[] = [];
  sentCount = 0;
  closed: { code: number; reason: string } | null = null;

  constructor(
    readonly id: string,
    readonly keep = true,
  ) {}

  setState(state: State): State {
    this.state = state;
    return state;
  }

  send(text: string): void {
    if (this.closed) throw new Error("socket is closed");
    this.sentCount++;
    if (this.keep) this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = ""): void {
    this.closed ??= { code, reason };
  }

  /** The messages of one type it was sent. */
  of(type: string): any[] {
    return this.sent.filter((message) => message.type === type);
  }
}

/** The rooms of every party in one world: calls between them go through the real call code. */
export class MemoryWorld {
  readonly rooms = new Map<string, MemoryHost<any>>();
  /** Calls that went out, by party, room and name (what reached another room). */
  readonly calls: Array<{ party: PartyName; room: string; call: string }> = [];
  readonly #makers = new Map<PartyName, (host: MemoryHost<any>) => RoomService<any>>();

  /** Which service a room of `party` runs (a party without one answers every call 404). */
  serve<State>(party: PartyName, make: (host: MemoryHost<State>) => RoomService<State>): void {
    this.#makers.set(party, make as (host: MemoryHost<any>) => RoomService<any>);
  }

  /** The room `name` of `party`, made and started on first use. */
  async room<State>(party: PartyName, name: string): Promise<MemoryHost<State>> {
    const key = `${party}/${name}`;
    let host = this.rooms.get(key);
    if (!host) {
      const make = this.#makers.get(party);
      if (!make) throw new Error(`no service for party ${party}`);
      host = new MemoryHost(this, name, party);
      host.service = make(host);
      this.rooms.set(key, host);
      await host.service.start();
    }
    return host as MemoryHost<State>;
  }

  /** Rooms killed (`kill`): gone, with their timers; calls to them fail. */
  readonly #killed = new Set<string>();

  /** Kills a room as `kill -9` would: no more alarms or answers, and calls to it fail from now on. */
  kill(party: PartyName, name: string): void {
    const key = `${party}/${name}`;
    this.#killed.add(key);
    this.rooms.get(key)?.storage.stop();
    this.rooms.delete(key);
  }

  /** Parties that reach this world's rooms (`from`: the calling room's `party/name`; a killed room reaches nothing). */
  parties(from?: string): Parties {
    return partiesOver((party, name, init) => {
      if (from !== undefined && this.#killed.has(from)) return Promise.reject(new Error(`${from} was killed`));
      const body = JSON.parse(init.body as string) as { call: string };
      this.calls.push({ party, room: name, call: body.call });
      if (!this.#makers.has(party)) return Promise.resolve(new Response("no such party", { status: 404 }));
      if (this.#killed.has(`${party}/${name}`)) return Promise.reject(new Error(`${party}/${name} was killed`));
      return this.room(party, name).then((host) => host.service.request(new Request(`http://memory/parties/${party}/${name}`, init)));
    });
  }
}

/** One room in memory. */
export class MemoryHost<State> implements Host<State> {
  readonly storage = new MemoryStorage();
  readonly parties: Parties;
  readonly open = new Map<string, MemorySocket<State>[]>();
  service!: RoomService<State>;

  constructor(
    world: MemoryWorld,
    readonly name: string,
    party?: PartyName,
  ) {
    this.parties = world.parties(party === undefined ? undefined : `${party}/${name}`);
    this.storage.ring = () =>
      void this.service.alarm().catch((error: unknown) => {
        alarmFailures.push({ room: name, error });
        console.error(`memory host: the alarm of room ${name} failed`, error);
      });
  }

  /** When each socket's last ping was answered by the engine (a test sets it to play the Workers engine's auto-response). */
  readonly pings = new Map<string, number>();

  /** The test's clock (vitest's fake timers move it). */
  now(): number {
    return Date.now();
  }

  pingedAt(socket: HostSocket<State>): number | null {
    return this.pings.get(socket.id) ?? null;
  }

  sockets(connectionId?: string): Iterable<HostSocket<State>> {
    if (connectionId !== undefined) return (this.open.get(connectionId) ?? []).filter((socket) => !socket.closed);
    return [...this.open.values()].flat().filter((socket) => !socket.closed);
  }

  /** Opens a socket with the request the edge would pass on. */
  connect(socket: MemorySocket<State>, request: Request): MemorySocket<State> {
    const list = this.open.get(socket.id) ?? [];
    list.push(socket);
    this.open.set(socket.id, list);
    this.service.connect(socket, request);
    return socket;
  }

  /** The client sends a message. */
  send(socket: MemorySocket<State>, message: unknown): void {
    this.service.message(socket, typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The client's socket closes (or is lost). */
  drop(socket: MemorySocket<State>): void {
    socket.close(1006, "lost");
    this.service.closed(socket);
  }
}
