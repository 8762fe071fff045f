/** Server messages built by hand for the client's unit tests (member list and transport). */
import type { DiffMessage, Member, PresenceAction, SyncMessage } from "../../party/shared/protocol.ts";

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
export function syncMessage(seq: number, members: Member[], more = false): SyncMessage {
  return {
    type: "sync",
    channel: "room",
    seq,
    more,
    self: { connectionId: "me-1", userId: "me" },
    members,
    settings: { heartbeatIntervalMs: 600_000, heartbeatTimeoutMs: 1_200_000 },
    now: 0,
    ...countsOf(members),
  };
}

/** A diff of `events`, each with the counts `c`. */
export function diffMessage(seq: number, events: Array<[PresenceAction, Member]>, quiet: Member[] = [], c = { clientAmount: 0, userAmount: 0 }): DiffMessage {
  return { type: "diff", seq, events: events.map(([action, m]) => ({ action, member: m, ...c })), quiet, ...c };
}
