/**
 * The hand-off of an accepted connect from the edge to the channel room: the edge strips the
 * URL and puts what it accepted in a header only it sets; the room reads it in `connect`. The
 * caller of an HTTP client route travels the same way.
 */
import { z } from "zod";
import type { JsonValue } from "../wire/json.ts";
import { AcceptedHandshake, type Ban } from "../protocol/index.ts";

export type { AcceptedHandshake } from "../protocol/index.ts";

/** The header that carries the accepted handshake from the edge to the room (set only by the edge). */
const HANDSHAKE_HEADER = "x-presence-handshake";

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

/**
 * The handshake the edge accepted, as the room reads it in `onConnect`, checked against its
 * schema (a header the edge always sets; a connect that did not pass the edge has none).
 */
export function readHandshake(request: Request): AcceptedHandshake {
  const text = request.headers.get(HANDSHAKE_HEADER);
  if (text === null) throw new Error(`${HANDSHAKE_HEADER} is missing: the connect did not pass the edge`);
  const parsed = AcceptedHandshake.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${HANDSHAKE_HEADER} is not an accepted handshake: ${z.prettifyError(parsed.error)}`);
  // Checked, and passed on as sent: zod's copy would drop `__proto__` keys of userData.
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
