/** The member table's rows, pure: filtered, online first then by userId, one page at a time. */
import type { ClientTypeCounts, HereNowUser, JsonValue, Member } from "../party/protocol/index.ts";

/** Rows per page of the member table. */
export const PAGE_SIZE = 100;

/** One page of the filtered, ordered members, and how many pages there are. */
export function memberPage(members: readonly Member[], filter: string, page: number, pageSize = PAGE_SIZE): { rows: Member[]; pages: number; total: number; page: number } {
  const needle = filter.trim().toLowerCase();
  const found = needle === "" ? [...members] : members.filter((m) => m.id.toLowerCase().includes(needle) || JSON.stringify(m.data).toLowerCase().includes(needle));
  found.sort((a, b) => (a.status === b.status ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.status === "online" ? -1 : 1));
  const pages = Math.max(1, Math.ceil(found.length / pageSize));
  const at = Math.min(Math.max(0, page), pages - 1);
  return { rows: found.slice(at * pageSize, (at + 1) * pageSize), pages, total: found.length, page: at };
}

/**
 * Interval mode: the herenow cursor from which the userIds starting with `prefix` are listed
 * (herenow lists the ids after its cursor, so this is a string just below `prefix`: its last
 * character one lower, then U+FFFF). Undefined (from the first member) for an empty prefix.
 */
export function prefixCursor(prefix: string): string | undefined {
  if (prefix === "") return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  const head = prefix.slice(0, -1);
  return last === 0 ? head || undefined : `${head}${String.fromCharCode(last - 1)}\uffff`;
}

/** One row of the interval-mode table: a member as herenow lists it, its clients counted. */
export type RemoteRow = { id: string; data: JsonValue; clients: number; clientTypes: ClientTypeCounts };

/**
 * Interval mode: herenow's users (not distinct: once per client, with its clientType) as one
 * row per member, in herenow's order, keeping only userIds that start with `prefix`; `more`
 * when every listed member matched (so the page after the cursor may match too).
 */
export function remoteRows(users: readonly HereNowUser[], prefix: string): { rows: RemoteRow[]; more: boolean } {
  const rows: RemoteRow[] = [];
  const byId = new Map<string, RemoteRow>();
  let more = true;
  for (const user of users) {
    if (!user.id.startsWith(prefix)) {
      more = false;
      continue;
    }
    let row = byId.get(user.id);
    if (!row) {
      row = { id: user.id, data: user.data, clients: 0, clientTypes: {} };
      byId.set(user.id, row);
      rows.push(row);
    }
    row.clients++;
    if (user.clientType !== undefined) row.clientTypes[user.clientType] = (row.clientTypes[user.clientType] ?? 0) + 1;
  }
  return { rows, more };
}
