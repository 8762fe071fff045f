/** The member table's rows, pure: filtered, online first then by userId, one page at a time. */
import type { Member } from "../party/shared/protocol.ts";

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
