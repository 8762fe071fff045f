/** The member table's rows, pure: filtered, online first then by userId, one page at a time. */
import type { Member } from "../party/protocol/index.ts";

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
 * Interval mode: the cursor from which the member listing (`?members`, paged like herenow)
 * lists the userIds starting with `prefix` (it lists the ids after its cursor, so this is a
 * string just below `prefix`: its last character one lower, then U+FFFF). Undefined (from the first member) for an empty prefix.
 */
export function prefixCursor(prefix: string): string | undefined {
  if (prefix === "") return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  const head = prefix.slice(0, -1);
  return last === 0 ? head || undefined : `${head}${String.fromCharCode(last - 1)}\uffff`;
}

/**
 * Interval mode: a page of the admin member listing (`?members`, every member in full, by
 * userId) as the table's rows, keeping only userIds that start with `prefix`; `more` when
 * every listed member matched (so the page after the cursor may match too).
 */
export function listedRows(members: readonly Member[], prefix: string): { rows: Member[]; more: boolean } {
  const rows = members.filter((member) => member.id.startsWith(prefix));
  return { rows, more: rows.length === members.length };
}
