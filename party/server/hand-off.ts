/**
 * The hand-off of an accepted connect from the edge to the channel room: the edge strips the
 * URL and puts what it accepted in a header only it sets; the room reads it in `connect`.
 */
import type { Handshake } from "../wire/handshake.ts";

/** The header that carries the accepted handshake from the edge to the room (set only by the edge). */
const HANDSHAKE_HEADER = "x-presence-handshake";

/** What the room learns of an accepted connect: who it is, and what its token allows. */
export type AcceptedHandshake = Omit<Handshake, "connectionId"> & {
  /** The token fixed the userData and does not allow `update`. */
  dataLocked: boolean;
  /** When the socket's token expires (epoch ms); null without one. */
  expiresAt: number | null;
};

/**
 * The request the edge passes on to the room: the URL keeps only `_pk` (PartyKit stores the
 * URL in the socket's ~2 KB attachment, where neither 4 KiB of userData nor a token belongs),
 * and the accepted handshake travels in a header that overwrites anything the client sent under
 * that name.
 */
export function forwardHandshake(request: Request, connectionId: string | undefined, accepted: AcceptedHandshake): Request {
  const url = new URL(request.url);
  const kept = new URLSearchParams();
  if (connectionId !== undefined) kept.set("_pk", connectionId);
  const forwarded = new Request(`${url.origin}${url.pathname}?${kept}`, request);
  const { userId, userData, clientType, window, dataLocked, expiresAt } = accepted;
  forwarded.headers.set(HANDSHAKE_HEADER, JSON.stringify({ userId, userData, clientType, window, dataLocked, expiresAt } satisfies AcceptedHandshake));
  return forwarded;
}

/** The handshake the edge accepted, as the room reads it in `onConnect`. */
export function readHandshake(request: Request): AcceptedHandshake {
  const text = request.headers.get(HANDSHAKE_HEADER);
  // Only the edge reaches a room's onConnect, and it always sets the header.
  if (text === null) throw new Error(`${HANDSHAKE_HEADER} is missing: the connect did not pass the edge`);
  return JSON.parse(text) as AcceptedHandshake;
}
