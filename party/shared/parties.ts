/**
 * How the parties reach each other: their names in partykit.json, and the header that marks
 * a request one part of the service makes to another (the edge refuses it from outside).
 */

/** The channel room's party: `/parties/main/CHANNEL`. */
export const CHANNEL_PARTY = "main";

/** Marks the service's own requests between its parts; the edge answers 403 when a client sends it. */
export const INTERNAL_HEADER = "x-presence-internal";

/** The channel index's party and its one room: `/parties/index/all` (dashboards' sockets). */
export const INDEX_PARTY = "index";
export const INDEX_ROOM = "all";
