/**
 * How `PresenceState` shows its member records: as wire members (with their clients counted
 * by type), as stored rows, as herenow's answer, and as a page of the admin member listing. Pure functions over the records.
 */
import { jsonEqual } from "../wire/json.ts";
import { type ChannelHereNow, type ClientTypeCounts, type Counts, type HereNowOptions, type HereNowUser, MAX_HERENOW_PAGE, type Member, type MembersPage } from "../protocol/index.ts";
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
 * herenow in GoEasy's shape plus client types (the channel's, as `clientTypes` gives them):
 * `users` once per client with its `clientType`,
 * or with `distinct` once per user with its `clientTypes` (only when it has any, so an entry
 * without types is GoEasy's exactly). Users are listed from `ordered` (the members by userId,
 * after the cursor), at most `limit` members, with a `cursor` when more follow.
 */
export function hereNowOf(
  channel: string,
  counts: Counts,
  clientTypes: ClientTypeCounts,
  ordered: Iterable<MemberRecord>,
  clients: ClientBook,
  options: HereNowOptions,
): ChannelHereNow {
  const result: ChannelHereNow = { channel, ...counts, clientTypes: { ...clientTypes } };
  if (!options.includeUsers) return result;
  const limit = options.limit ?? MAX_HERENOW_PAGE;
  const users: HereNowUser[] = [];
  let listed = 0;
  let last: string | undefined;
  for (const member of ordered) {
    if (member.status !== "online") continue;
    if (listed === limit) {
      result.cursor = last;
      break;
    }
    listed++;
    last = member.id;
    if (options.distinct) {
      const types = clientTypesOf(member, clients);
      users.push(Object.keys(types).length > 0 ? { id: member.id, data: member.data, clientTypes: types } : { id: member.id, data: member.data });
      continue;
    }
    for (const connectionId of member.clients) {
      const clientType = clients.get(connectionId)?.clientType;
      users.push(clientType === undefined ? { id: member.id, data: member.data } : { id: member.id, data: member.data, clientType });
    }
  }
  result.users = users;
  // GoEasy's key order: the cursor, when any, after the users.
  if (result.cursor !== undefined) {
    const { cursor, ...rest } = result;
    return { ...rest, cursor };
  }
  return result;
}

/**
 * A page of the admin member listing (`?members`): from `ordered` (the members by userId,
 * after the cursor), online and offline alike, at most `limit` of them in full, with a
 * `cursor` (the last one listed) when more follow: herenow's paging rules, without its
 * online-only filter.
 */
export function membersPageOf(channel: string, counts: Counts, ordered: Iterable<MemberRecord>, clients: ClientBook, limit: number): MembersPage {
  const members: Member[] = [];
  for (const record of ordered) {
    if (members.length === limit) return { channel, ...counts, members, cursor: members[members.length - 1]!.id };
    members.push(toMember(record, clients));
  }
  return { channel, ...counts, members };
}
