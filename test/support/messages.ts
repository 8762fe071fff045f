/**
 * Server messages on the compact wire: built by hand for the client's unit tests (member list
 * and transport), and read back into member records for the tests that watch raw sockets.
 */
import { decodeDiffBody, decodeMember, encodeDiffBody, encodeMember } from "../../party/wire/member-wire.ts";
import type { ChannelMode, DiffMessage, Member, PresenceAction, PresenceEvent, ServerMessage, SyncMessage } from "../../party/protocol/index.ts";

/** A member record, online with one untyped client unless `over` says otherwise. */
export const member = (id: string, over: Partial<Member> = {}): Member => ({
  id,
  data: null,
  status: "online",
  clients: 1,
  clientTypes: {},
  since: 1,
  lastSeen: 1,
  ...over,
});

/** The channel counts a list of members implies. */
export function countsOf(members: Member[]) {
  const online = members.filter((x) => x.status === "online");
  return { clientAmount: online.reduce((n, x) => n + x.clients, 0), userAmount: online.length };
}

/** A snapshot (or one part of it, with `more`), with heartbeat settings long enough that no ping fires in a test. */
export function syncMessage(seq: number, members: Member[], more = false, mode: ChannelMode = "full"): SyncMessage {
  return {
    type: "sync",
    channel: "room",
    seq,
    more,
    self: { connectionId: "me-1", userId: "me" },
    mode,
    members: members.map((m) => encodeMember(m, NOW)),
    settings: { heartbeatIntervalMs: 600_000, heartbeatTimeoutMs: 1_200_000 },
    now: NOW,
    ...countsOf(members),
  };
}

/** The room's clock in these messages. */
const NOW = 1000;

/** A diff of `events` (and quiet members, and ids out of view), with the counts `c`. */
export function diffMessage(
  seq: number,
  events: Array<[PresenceAction, Member]>,
  quiet: Member[] = [],
  c = { clientAmount: 0, userAmount: 0 },
  out: string[] = [],
): DiffMessage {
  const body = encodeDiffBody({ events: events.map(([action, member]) => ({ action, member })), quiet, out }, NOW);
  return { type: "diff", seq, now: NOW, ...c, ...body };
}

/** A snapshot read back: members as records. */
export type ReadSync = Omit<SyncMessage, "members"> & { members: Member[] };
/** A diff read back: its events in order (each with the message's counts), quiet members, ids out of view. */
export type ReadDiff = Omit<DiffMessage, "join" | "online" | "update" | "offline" | "leave" | "quiet" | "out"> & {
  events: PresenceEvent[];
  quiet: Member[];
  out: string[];
};
/** A server message as the tests read it: snapshots and diffs with member records, the rest as sent. */
export type ReadMessage = Exclude<ServerMessage, { type: "sync" | "diff" }> | ReadSync | ReadDiff;

/**
 * Reads one socket's messages into records, as a client would: it keeps the members it has
 * seen, so a `leave` (sent as a bare id) is reported with the member it had.
 */
export class WireReader {
  readonly #known = new Map<string, Member>();

  read(message: ServerMessage): ReadMessage {
    if (message.type === "sync") {
      const members = message.members.map((wire) => decodeMember(wire, message.now));
      for (const m of members) this.#known.set(m.id, m);
      return { ...message, members };
    }
    if (message.type !== "diff") return message;
    const { join: _j, online: _o, update: _u, offline: _f, leave: _l, quiet: _q, out: _t, ...head } = message;
    const decoded = decodeDiffBody(message, (id) => this.#known.get(id));
    for (const m of decoded.quiet) this.#known.set(m.id, m);
    for (const { member: m } of decoded.events) this.#known.set(m.id, m);
    const counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    return { ...head, events: decoded.events.map((event) => ({ ...event, ...counts })), quiet: decoded.quiet, out: decoded.out };
  }
}
