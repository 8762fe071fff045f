/**
 * A ban replica: a room of the index party named `bans-N` (N below PRESENCE_BAN_REPLICAS) that
 * holds a copy of the root's (`index/all`) ban list in memory and answers the edge's `bans`
 * calls from it, so the isolates' reads spread over R replicas instead of all landing on the
 * root. Its copy is a `BanCache` read from the root at most once a second, and only when a
 * call asks (an idle replica costs nothing); when the root cannot be reached it keeps its last
 * copy and tries again a second later. The root then sees at most R reads a second from
 * readers, whatever the number of isolates, and each replica about isolates / R / 5 s.
 *
 * It stores nothing: the root is the one durable list, written (`ban`, `unban`) before the
 * edge is told a ban was taken. A replica that restarts or is evicted reads the root again at
 * its next call; a stored copy would only be a second, staler list to keep in step. (On
 * PartyKit the adapter keeps the room's name in storage, as for every room: that is all.)
 */
import { BAN_REPLICA_REFRESH_MS, BanCache } from "../server/ban-cache.ts";
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import { fail, HttpError } from "../server/envelope.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { CloseCode } from "../protocol/index.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";

/** A ban replica's room: the `bans` call only, from its in-memory copy of the root's list. */
export class BanReplica implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #copy: BanCache;
  readonly #calls: CallHandlers<typeof INDEX_PARTY>;

  constructor(host: Host<unknown>, options: { refreshMs?: number } = {}) {
    this.#host = host;
    this.#copy = new BanCache({ refreshMs: options.refreshMs ?? BAN_REPLICA_REFRESH_MS, now: () => host.now() });
    const rootOnly = (): never => {
      throw new HttpError(404, "not_found", `${INDEX_PARTY}/${host.name} is a ban replica: it answers \`bans\` only; every other call goes to ${INDEX_PARTY}/${INDEX_ROOM} or a shard`);
    };
    this.#calls = {
      report: rootOnly,
      "shard-report": rootOnly,
      metrics: rootOnly,
      list: rootOnly,
      ban: rootOnly,
      unban: rootOnly,
      bans: async () => ({ bans: await this.#copy.active({ parties: host.parties, room: INDEX_ROOM }) }),
    };
  }

  /** Nothing to load: the copy is read from the root at the first call. */
  async start(): Promise<void> {}

  /** No sockets: the edge refuses them before they get here. */
  connect(socket: HostSocket<unknown>): void {
    socket.close(CloseCode.policyViolation, "a ban replica takes no sockets");
  }

  message(): void {}

  closed(): void {}

  /** Calls only (`bans`); the edge refuses the outside. Any other call belongs to the root and is refused (404). */
  async request(request: Request): Promise<Response> {
    if (!isCall(request)) return fail(404, "not_found", "a ban replica is internal");
    return answerCall(INDEX_PARTY, request, this.#calls);
  }

  /** No alarm is ever set. */
  async alarm(): Promise<void> {}

  /** It calls the root only while answering a call, when the root is always reachable. */
  reachable(): void {}
}
