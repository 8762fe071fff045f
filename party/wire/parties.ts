/**
 * The service's parties, by the names partykit.json (and wrangler.jsonc) give them: the URLs
 * `/parties/PARTY/ROOM` and the call table (protocol/calls.ts) use them. Client-safe: the
 * dashboard opens the index's socket with them.
 */

/** The channel rooms: `/parties/main/CHANNEL`. */
export const CHANNEL_PARTY = "main";

/** The user directory's parts: `/parties/directory/PART` (internal). */
export const DIRECTORY_PARTY = "directory";

/** The channel index and its one room: `/parties/index/all` (dashboards' sockets). */
export const INDEX_PARTY = "index";
export const INDEX_ROOM = "all";
