/**
 * The hand-off of an accepted connect from the edge to the channel room: the edge strips the
 * URL and puts what it accepted in a header only it sets; the room reads it in `connect`. The
 * caller of an HTTP client route travels the same way.
 */
import type { Handshake } from "../wire/handshake.ts";
import type { JsonValue } from "../wire/json.ts";
import type { Ban } from "../protocol/index.ts";

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

/** The header that carries who is calling an HTTP client route, from the edge to the room (set only by the edge). */
const CALLER_HEADER = "x-presence-caller";

/**
 * Who called an HTTP client route, as the edge checked it: the app server (the server key, an
 * admin token, or an open service in development) may act for any user; a client token only
 * for its own user, with what the token fixes.
 */
export type Caller =
  | {
      kind: "server";
      /** Bans in force of users the request's heartbeats name (the edge looked them up): those heartbeats are refused. */
      banned?: Ban[];
    }
  | {
      kind: "user";
      userId: string;
      /** The token pins the client's type. */
      clientType?: string;
      /** The token's data: the member's userData. */
      data?: JsonValue;
      /** The token fixes `data`: a heartbeat may not send its own. */
      dataLocked: boolean;
      /** When the token expires (epoch ms): the client expires no later. */
      expiresAt: number;
    };

/** The request the edge passes on to the room for an HTTP client route, with the caller in a header that overwrites anything sent under that name. */
export function forwardCaller(request: Request, caller: Caller): Request {
  const forwarded = new Request(request);
  forwarded.headers.set(CALLER_HEADER, JSON.stringify(caller));
  return forwarded;
}

/** The caller the edge checked, as the room reads it; null when the request did not pass the edge's check (never, from outside). */
export function readCaller(request: Request): Caller | null {
  const text = request.headers.get(CALLER_HEADER);
  return text === null ? null : (JSON.parse(text) as Caller);
}
