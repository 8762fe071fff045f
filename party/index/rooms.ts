/**
 * Which service a room of the `index` party runs, by its name: `all` is the root (service.ts:
 * the dashboards' list and the bans), `s0`…`s{PRESENCE_INDEX_SHARDS-1}` are the shards
 * (shard.ts: the channels hashed to them); any other name is refused with a clear error. The
 * name is read when the room starts (an engine may not know it before), so `indexRoom` hands
 * the adapters a service that picks then and passes every event on.
 */
import type { Config } from "../server/config.ts";
import { fail } from "../server/envelope.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { CloseCode } from "../protocol/index.ts";
import { INDEX_ROOM } from "../wire/parties.ts";
import { IndexService } from "./service.ts";
import { IndexShard } from "./shard.ts";

/** What a room name of the index party is: the root, a shard, or neither (with why). */
export type IndexRoomKind = { kind: "root" } | { kind: "shard" } | { kind: "unknown"; message: string };

/** What the room `name` of the index party is with `shards` shards. */
export function indexRoomKind(name: string, shards: number): IndexRoomKind {
  if (name === INDEX_ROOM) return { kind: "root" };
  const shard = /^s(0|[1-9]\d{0,3})$/.exec(name);
  if (shard && Number(shard[1]) < shards) return { kind: "shard" };
  return { kind: "unknown", message: `the index party has the rooms ${INDEX_ROOM} and s0…s${shards - 1} (PRESENCE_INDEX_SHARDS=${shards}), not ${JSON.stringify(name)}` };
}

/** The service of an index room, picked by its name when it starts. */
export function indexRoom(host: Host<unknown>, config: Config): RoomService<unknown> {
  return new IndexRoom(host, config);
}

/** Refuses everything: a room name the index party does not have. */
class UnknownIndexRoom implements RoomService<unknown> {
  readonly #reason: string;
  constructor(reason: string) {
    this.#reason = reason;
  }
  async start(): Promise<void> {}
  connect(socket: HostSocket<unknown>): void {
    socket.close(CloseCode.policyViolation, this.#reason.slice(0, 120));
  }
  message(): void {}
  closed(): void {}
  async request(): Promise<Response> {
    return fail(404, "not_found", this.#reason);
  }
  async alarm(): Promise<void> {}
  reachable(): void {}
}

/** Picks root, shard or refusal at start, then passes every event on. */
class IndexRoom implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #config: Config;
  #service: RoomService<unknown> | null = null;

  constructor(host: Host<unknown>, config: Config) {
    this.#host = host;
    this.#config = config;
  }

  /** The service picked at start (events come after it). */
  get #picked(): RoomService<unknown> {
    if (!this.#service) throw new Error("an index room got an event before it started");
    return this.#service;
  }

  start(): Promise<void> {
    const kind = indexRoomKind(this.#host.name, this.#config.indexShards);
    const service: RoomService<unknown> =
      kind.kind === "root" ? new IndexService(this.#host, this.#config) : kind.kind === "shard" ? new IndexShard(this.#host, this.#config) : new UnknownIndexRoom(kind.message);
    this.#service = service;
    return service.start();
  }

  connect(socket: HostSocket<unknown>, request: Request): void {
    this.#picked.connect(socket, request);
  }

  message(socket: HostSocket<unknown>, frame: string | ArrayBuffer | ArrayBufferView): void {
    this.#picked.message(socket, frame);
  }

  closed(socket: HostSocket<unknown>): void {
    this.#picked.closed(socket);
  }

  request(request: Request): Promise<Response> {
    return this.#picked.request(request);
  }

  alarm(): Promise<void> {
    return this.#picked.alarm();
  }

  reachable(): void {
    this.#picked.reachable();
  }
}
