/**
 * The service's parties, by the names partykit.json (and wrangler.jsonc) give them: the URLs
 * `/parties/PARTY/ROOM` and the call table (protocol/calls.ts) use them. Client-safe: the
 * dashboard opens the index's socket with them.
 */

/** The channel rooms: `/parties/main/CHANNEL`. */
export const CHANNEL_PARTY = "main";

/** The user directory's parts: `/parties/directory/PART` (internal). */
export const DIRECTORY_PARTY = "directory";

/** The channel index and its root room: `/parties/index/all` (dashboards' sockets; the bans, stored); its shards are `s0`… (internal, see server/parts.ts). */
export const INDEX_PARTY = "index";
export const INDEX_ROOM = "all";

/** The index's ban replicas (internal): `bans-0`…`bans-{PRESENCE_BAN_REPLICAS-1}`, each a copy of the root's bans the edge reads. */
export function banReplicaRoom(n: number): string {
  return `bans-${n}`;
}

/** The number of a ban replica's room name (`bans-N`, N written plainly), or null for another name. */
export function banReplicaNumber(room: string): number | null {
  const match = /^bans-(0|[1-9][0-9]{0,3})$/.exec(room);
  return match ? Number(match[1]) : null;
}

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
