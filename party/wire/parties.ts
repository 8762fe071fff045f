/**
 * The service's parties, by the names partykit.json (and wrangler.jsonc) give them: the URLs
 * `/parties/PARTY/ROOM` and the call table (protocol/calls.ts) use them. Client-safe: the
 * dashboard opens the index's socket with them.
 */

/** The channel rooms: `/parties/main/CHANNEL`. */
export const CHANNEL_PARTY = "main";

/** The user directory's parts: `/parties/directory/PART` (internal). */
export const DIRECTORY_PARTY = "directory";

/** The channel index and its root room: `/parties/index/all` (dashboards' sockets); its shards are `s0`… (internal, see server/parts.ts). */
export const INDEX_PARTY = "index";
export const INDEX_ROOM = "all";

/**
 * The HTTP client route a room path names: `/parties/main/CHANNEL/clients` (the batch and the
 * list: `clientId` null) or `/parties/main/CHANNEL/clients/CLIENT_ID`; null for any other path.
 * The client id comes back as sent (still percent-encoded, if it was): the room checks it.
 */
export function httpClientRoute(pathname: string): { clientId: string | null } | null {
  const match = /^\/parties\/[^/]+\/[^/]+\/clients(?:\/([^/]*))?\/?$/.exec(pathname);
  if (!match) return null;
  return { clientId: match[1] === undefined || match[1] === "" ? null : match[1] };
}
