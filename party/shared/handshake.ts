/**
 * A WebSocket connect: its validation, shared by the edge (before the upgrade) and the client
 * (before it dials), so both refuse the same input with the same words; and the hand-off of
 * the validated handshake from the edge to the channel room, which lives here with it.
 */
import { check } from "./check.ts";
import { type JsonValue, userDataProblem } from "./json.ts";
import { MAX_WINDOW } from "./limits.ts";
import { ChannelNameDefs, ChannelNameSchema, ConnectQueryDefs, ConnectQuerySchema } from "./schemas.generated.ts";

/** A connect that passed validation. */
export type Handshake = {
  /** partysocket's `_pk`: the connection id, reused across reconnects. Absent: PartyKit makes one. */
  connectionId: string | undefined;
  /** null: an observer. */
  userId: string | null;
  userData: JsonValue;
  clientType: string | undefined;
  /** Interval mode: how many members, first by userId, it follows. */
  window: number;
};

/** The result of validating a connect: the handshake, or the sentence that says what is wrong. */
export type HandshakeResult = { ok: true; value: Handshake } | { ok: false; message: string };

/** Checks a channel name; returns the problem, or null. */
export function channelProblem(channel: string): string | null {
  const problem = check(ChannelNameSchema, channel, ChannelNameDefs);
  return problem === null ? null : `bad channel name ${JSON.stringify(channel.slice(0, 140))}: ${problem}`;
}

/** Validates `?userId=…&userData=…&clientType=…&_pk=…&window=…` (userData is URL-encoded JSON); other parameters are ignored. */
export function parseHandshake(params: URLSearchParams, maxUserDataBytes: number): HandshakeResult {
  const raw: Record<string, string> = {};
  for (const key of ["userId", "userData", "clientType", "_pk", "window"] as const) {
    const all = params.getAll(key);
    if (all.length > 1) return { ok: false, message: `${key} is given ${all.length} times` };
    if (all[0] !== undefined) raw[key] = all[0];
  }
  const problem = check(ConnectQuerySchema, raw, ConnectQueryDefs);
  if (problem) return { ok: false, message: problem };
  const { userId, userData: dataText, clientType, _pk: connectionId } = raw;
  const window = Number(raw.window ?? 0);
  if (window > MAX_WINDOW) return { ok: false, message: `window is at most ${MAX_WINDOW} members` };

  let userData: JsonValue = null;
  if (dataText !== undefined) {
    if (userId === undefined) return { ok: false, message: "userData needs a userId (observers have no userData)" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(dataText);
    } catch {
      return { ok: false, message: "userData is not valid JSON" };
    }
    const dataProblem = userDataProblem(parsed, maxUserDataBytes);
    if (dataProblem) return { ok: false, message: dataProblem.message };
    userData = parsed as JsonValue;
  }
  return { ok: true, value: { connectionId, userId: userId ?? null, userData, clientType, window } };
}

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
