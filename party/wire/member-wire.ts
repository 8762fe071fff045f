/**
 * The compact member wire: members as short tuples with times counted back from the
 * message's `now` (`WireMember` in types.ts), and diffs grouped by action. The room encodes
 * with it, the client (and the tests) read it back into `Member` records and events. No zod
 * here: the client bundles this file.
 */
import type { ClientTypeCounts, Member, PresenceAction, WireDiffBody, WireMember, WireMemberExtra } from "./types.ts";

/** The event groups of a diff, in the order a client applies them. */
export const DIFF_ACTIONS = ["join", "online", "update", "offline"] as const satisfies readonly PresenceAction[];

/** A member as the wire carries it, relative to `now`. */
export function encodeMember(member: Member, now: number): WireMember {
  const online = member.status === "online";
  const extra: WireMemberExtra = {};
  if (!online) extra.o = 1;
  const types = Object.keys(member.clientTypes);
  const onlyType = types.length === 1 && member.clients === 1 && member.clientTypes[types[0]!] === 1 ? types[0]! : null;
  if (onlyType !== null) extra.t = onlyType;
  else {
    if (member.clients !== (online ? 1 : 0)) extra.c = member.clients;
    if (types.length > 0) extra.t = member.clientTypes;
  }
  if (member.lastSeen !== member.since) extra.l = now - member.lastSeen;
  const ago = now - member.since;
  for (const _ in extra) return [member.id, member.data, ago, extra];
  return ago === 0 ? [member.id, member.data] : [member.id, member.data, ago];
}

/** A member read back from the wire, with absolute times. */
export function decodeMember(wire: WireMember, now: number): Member {
  const [id, data, ago = 0, extra = {}] = wire;
  const online = extra.o !== 1;
  const single = typeof extra.t === "string";
  const clientTypes: ClientTypeCounts = single ? { [extra.t as string]: 1 } : ((extra.t as ClientTypeCounts | undefined) ?? {});
  const since = now - ago;
  return {
    id,
    data,
    status: online ? "online" : "offline",
    clients: extra.c ?? (single || online ? 1 : 0),
    clientTypes,
    since,
    lastSeen: extra.l === undefined ? since : now - extra.l,
  };
}

/** One tick's changes as the room has them: events in order, quiet members, view changes. */
export type DiffBody = {
  events: ReadonlyArray<{ action: PresenceAction; member: Member }>;
  quiet: readonly Member[];
  /** Interval mode: userIds that went out of the socket's view. */
  out?: readonly string[];
};

/** Encodes a diff's changes (empty groups left out). */
export function encodeDiffBody(body: DiffBody, now: number): WireDiffBody {
  const wire: WireDiffBody = {};
  for (const { action, member } of body.events) {
    if (action === "leave") (wire.leave ??= []).push(member.id);
    else (wire[action] ??= []).push(encodeMember(member, now));
  }
  if (body.quiet.length > 0) wire.quiet = body.quiet.map((member) => encodeMember(member, now));
  if (body.out && body.out.length > 0) wire.out = [...body.out];
  return wire;
}

/** A diff read back: its events in the order to apply them, quiet members and view changes. */
export type DecodedDiff = {
  events: Array<{ action: PresenceAction; member: Member }>;
  quiet: Member[];
  out: string[];
};

/**
 * Reads a diff's changes. A `leave` carries only the userId: `known` gives the member as the
 * reader held it, reported with no clients (a member it never held is reported with null data).
 */
export function decodeDiffBody(message: WireDiffBody & { now: number }, known: (userId: string) => Member | undefined): DecodedDiff {
  const events: DecodedDiff["events"] = [];
  for (const action of DIFF_ACTIONS) {
    for (const wire of message[action] ?? []) events.push({ action, member: decodeMember(wire, message.now) });
  }
  for (const id of message.leave ?? []) {
    const before = known(id) ?? { id, data: null, status: "online", since: message.now, lastSeen: message.now };
    events.push({ action: "leave", member: { ...before, clients: 0, clientTypes: {} } });
  }
  return {
    events,
    quiet: (message.quiet ?? []).map((wire) => decodeMember(wire, message.now)),
    out: message.out ?? [],
  };
}
