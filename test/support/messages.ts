/**
 * Server messages on the compact wire: built by hand for the client's unit tests (member list
 * and transport), and read back into member records for the tests that watch raw sockets.
 * The wire is written and read here from the protocol's own description (`WireMember` and
 * `diff` in docs/protocol.md), not with the code the room and the client use
 * (party/wire/member-wire.ts), so a mistake made the same way on both sides still shows.
 */
import type { ChannelMode, ClientTypeCounts, DiffMessage, Member, PresenceAction, PresenceEvent, ServerMessage, SyncMessage, WireMember } from "../../party/protocol/index.ts";

/**
 * A member on the wire, by the protocol: `[id, data, ago, extra]`, `ago` the ms from its
 * `since` to the message's `now` (left out when 0), and in `extra` only what is not the
 * default: `o: 1` offline; `c` its clients (default 1 online, 0 offline); `t` the one
 * client's type as a string, or the counts by type; `l` the ms from last seen to `now`
 * (default: its `since`). `extra` is left out when empty.
 */
export function writeMember(member: Member, now: number): WireMember {
  const online = member.status === "online";
  const extra: Record<string, unknown> = {};
  if (!online) extra.o = 1;
  const types = Object.entries(member.clientTypes);
  if (types.length === 1 && member.clients === 1 && types[0]![1] === 1) extra.t = types[0]![0];
  else {
    if (member.clients !== (online ? 1 : 0)) extra.c = member.clients;
    if (types.length > 0) extra.t = member.clientTypes;
  }
  if (member.lastSeen !== member.since) extra.l = now - member.lastSeen;
  const ago = now - member.since;
  if (Object.keys(extra).length > 0) return [member.id, member.data, ago, extra] as WireMember;
  return ago === 0 ? [member.id, member.data] : [member.id, member.data, ago];
}

/** A member read from the wire, by the protocol (see `writeMember`). */
export function readMember(wire: WireMember, now: number): Member {
  const [id, data, ago, extra] = wire;
  const offline = extra?.o === 1;
  const one = typeof extra?.t === "string" ? extra.t : null;
  const clientTypes: ClientTypeCounts = one !== null ? { [one]: 1 } : ((extra?.t as ClientTypeCounts | undefined) ?? {});
  const since = now - (ago ?? 0);
  return {
    id,
    data,
    status: offline ? "offline" : "online",
    clients: extra?.c ?? (one !== null ? 1 : offline ? 0 : 1),
    clientTypes,
    since,
    lastSeen: extra?.l === undefined ? since : now - extra.l,
  };
}

/** The event groups of a diff, in the order the protocol says to apply them (after `quiet`; `leave`, by id, last). */
const GROUPS = ["join", "online", "update", "offline"] as const;

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
    members: members.map((m) => writeMember(m, NOW)),
    settings: { heartbeatIntervalMs: 600_000, heartbeatTimeoutMs: 1_200_000, graceMs: 5000, retentionMs: 604_800_000 },
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
  const body: Partial<DiffMessage> = {};
  for (const [action, member] of events) {
    if (action === "leave") (body.leave ??= []).push(member.id);
    else (body[action] ??= []).push(writeMember(member, NOW));
  }
  if (quiet.length > 0) body.quiet = quiet.map((member) => writeMember(member, NOW));
  if (out.length > 0) body.out = out;
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
      const members = message.members.map((wire) => readMember(wire, message.now));
      for (const m of members) this.#known.set(m.id, m);
      return { ...message, members };
    }
    if (message.type !== "diff") return message;
    const { join: _j, online: _o, update: _u, offline: _f, leave: _l, quiet: _q, out: _t, ...head } = message;
    const counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    const quiet = (message.quiet ?? []).map((wire) => readMember(wire, message.now));
    for (const m of quiet) this.#known.set(m.id, m);
    const events: PresenceEvent[] = [];
    for (const action of GROUPS) {
      for (const wire of message[action] ?? []) {
        const m = readMember(wire, message.now);
        this.#known.set(m.id, m);
        events.push({ action, member: m, ...counts });
      }
    }
    // A leave names the user only: reported with the member as this reader last held it, now without clients.
    for (const id of message.leave ?? []) {
      const before = this.#known.get(id) ?? { id, data: null, status: "online" as const, since: message.now, lastSeen: message.now };
      events.push({ action: "leave", member: { ...before, clients: 0, clientTypes: {} }, ...counts });
    }
    return { ...head, events, quiet, out: message.out ?? [] };
  }
}
