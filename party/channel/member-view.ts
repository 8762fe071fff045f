/**
 * How `PresenceState` shows its member records: as wire members (with their clients counted
 * by type), as stored rows, and as herenow's answer. Pure functions over the records.
 */
import { jsonEqual } from "../shared/json.ts";
import type { ChannelHereNow, ClientTypeCounts, Counts, HereNowOptions, HereNowUser, Member } from "../shared/protocol.ts";
import type { ClientBook } from "./client-book.ts";

/** A member as persisted: the wire member less what its clients give (their count, by type). */
export type StoredMember = Omit<Member, "clients" | "clientTypes">;

/** A member as the state holds it: the stored row and the connection ids of its clients. */
export type MemberRecord = StoredMember & { clients: Set<string> };

/** A member's counted clients by type (untyped ones are left out). */
export function clientTypesOf(record: MemberRecord, clients: ClientBook): ClientTypeCounts {
  const types: ClientTypeCounts = {};
  for (const connectionId of record.clients) {
    const type = clients.get(connectionId)?.clientType;
    if (type !== undefined) types[type] = (types[type] ?? 0) + 1;
  }
  return types;
}

/** The member as clients see it. */
export function toMember(record: MemberRecord, clients: ClientBook): Member {
  return {
    id: record.id,
    data: record.data,
    status: record.status,
    clients: record.clients.size,
    clientTypes: clientTypesOf(record, clients),
    since: record.since,
    lastSeen: record.lastSeen,
  };
}

/** The member as stored. */
export function toStored(record: MemberRecord): StoredMember {
  return { id: record.id, data: record.data, status: record.status, since: record.since, lastSeen: record.lastSeen };
}

/** Whether two stored rows are the same (a member whose row did not change is not written again). */
export function storedEqual(a: StoredMember, b: StoredMember): boolean {
  return a.status === b.status && a.since === b.since && a.lastSeen === b.lastSeen && jsonEqual(a.data, b.data);
}

/**
 * herenow in GoEasy's shape plus client types: `users` once per client with its `clientType`,
 * or with `distinct` once per user with its `clientTypes` (only when it has any, so an entry
 * without types is GoEasy's exactly).
 */
export function hereNowOf(
  channel: string,
  counts: Counts,
  members: Iterable<MemberRecord>,
  clients: ClientBook,
  options: HereNowOptions,
): ChannelHereNow {
  const result: ChannelHereNow = { channel, ...counts, clientTypes: {} };
  const users: HereNowUser[] = [];
  for (const member of members) {
    if (member.status !== "online") continue;
    const types = clientTypesOf(member, clients);
    for (const [type, n] of Object.entries(types)) result.clientTypes[type] = (result.clientTypes[type] ?? 0) + n;
    if (!options.includeUsers) continue;
    if (options.distinct) {
      users.push(Object.keys(types).length > 0 ? { id: member.id, data: member.data, clientTypes: types } : { id: member.id, data: member.data });
      continue;
    }
    for (const connectionId of member.clients) {
      const clientType = clients.get(connectionId)?.clientType;
      users.push(clientType === undefined ? { id: member.id, data: member.data } : { id: member.id, data: member.data, clientType });
    }
  }
  if (options.includeUsers) result.users = users;
  return result;
}
