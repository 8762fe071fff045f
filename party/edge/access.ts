/**
 * Who may do what, decided at the edge before any room is touched: the origin of a browser,
 * the client token of a connect (which userId, userData and clientType it may take, in which
 * channels), and the credentials of an HTTP call (the server key, or a token that opens the
 * channels asked for).
 */
import type { Config } from "../server/config.ts";
import type { Caller } from "../server/hand-off.ts";
import type { Handshake } from "../wire/handshake.ts";
import { userDataProblem } from "../wire/json.ts";
import { bannedRefusal } from "../server/ban-cache.ts";
import { type Ban, channelAllowed, type ErrorCode, type TokenClaims } from "../protocol/index.ts";
import { verifierFor } from "./tokens.ts";
import { refusedCredentialMessage, verifyAdminToken } from "./admin.ts";

/** A refusal: the status, the error code and the sentence for the envelope, and the reason counted in stats. */
export type Refusal = { status: 400 | 401 | 403 | 503; error: ErrorCode; message: string };

/** A connect the edge admits: the handshake as the room must take it. */
export type Admitted = Handshake & {
  /** The token fixed the userData and did not allow `update`. */
  dataLocked: boolean;
  /** When the token expires (epoch ms); null without auth. */
  expiresAt: number | null;
};

const unauthorized = (message: string): Refusal => ({ status: 401, error: "unauthorized", message });
const forbidden = (message: string): Refusal => ({ status: 403, error: "forbidden", message });

/** A browser's origin that the settings do not allow (a request without Origin is not a browser's: allowed). */
export function originRefusal(request: Request, config: Config): Refusal | null {
  const origin = request.headers.get("origin");
  if (origin === null || config.allowedOrigins === null || config.allowedOrigins.includes(origin)) return null;
  return forbidden(`origin ${origin} is not allowed to use this service (PRESENCE_ALLOWED_ORIGINS)`);
}

/**
 * Decides who a connect to `channel` may be. Without auth settings the handshake stands as
 * sent. With them, the token in `?token=` decides: its `sub` is the userId, its `data` the
 * userData, its `clientType` pins the type, its `channels` must open this channel.
 */
export async function admitConnect(params: URLSearchParams, channel: string, handshake: Handshake, config: Config): Promise<Admitted | Refusal> {
  if (config.auth === null) return { ...handshake, dataLocked: false, expiresAt: null };
  const tokens = params.getAll("token");
  if (tokens.length > 1) return unauthorized("token is given more than once");
  const token = tokens[0];
  if (token === undefined || token === "") {
    if (config.auth.allowAnonymousObservers && handshake.userId === null) return { ...handshake, dataLocked: false, expiresAt: null };
    return unauthorized(
      config.auth.allowAnonymousObservers ? "missing token: only observers (no userId) may connect without ?token=" : "missing token: connect with ?token=JWT",
    );
  }
  // The dashboard's admin token (see admin.ts) connects observers to any channel.
  const adminUntil = await verifyAdminToken(token, config);
  if (adminUntil !== null) {
    if (handshake.userId !== null) return forbidden("an admin token connects observers only: leave out userId");
    return { ...handshake, userData: null, dataLocked: false, expiresAt: adminUntil };
  }
  const verified = await verifierFor(config.auth).verify(token);
  if (!verified.ok) return { status: verified.status, error: verified.status === 503 ? "unavailable" : "unauthorized", message: verified.message };
  const claims = verified.claims;
  if (!channelAllowed(claims.channels, channel)) return forbidden(`the token does not open channel ${channel}`);
  if (claims.observer === true) {
    if (handshake.userId !== null) return forbidden("an observer token cannot join as a user: leave out userId");
    return { ...handshake, userData: null, dataLocked: false, expiresAt: verified.expiresAt };
  }
  return identityFromClaims(claims, handshake, config, verified.expiresAt);
}

/** The member a user token makes: its userId, userData and clientType, each checked against what the connect asked. */
function identityFromClaims(claims: TokenClaims, handshake: Handshake, config: Config, expiresAt: number): Admitted | Refusal {
  const userId = claims.sub!;
  if (handshake.userId !== null && handshake.userId !== userId) return forbidden(`the token is for user ${userId}, not ${handshake.userId}`);
  if (claims.clientType !== undefined && handshake.clientType !== undefined && handshake.clientType !== claims.clientType) {
    return forbidden(`the token pins clientType ${claims.clientType}, not ${handshake.clientType}`);
  }
  const clientType = claims.clientType ?? handshake.clientType;
  if (claims.data === undefined) return { ...handshake, userId, clientType, dataLocked: false, expiresAt };
  const problem = userDataProblem(claims.data, config.maxUserDataBytes);
  if (problem) return { status: 400, error: "bad_request", message: `the token's data: ${problem.message}` };
  // The app vouches for this data: what the connect sent is not used.
  return { ...handshake, userId, clientType, userData: claims.data, dataLocked: claims.dataWritable !== true, expiresAt };
}

/** What an HTTP call needs: the server key, or read access to some channels (herenow), by a token whose user is not banned (`banOf`, which the edge always gives). */
export type Need = { serverKey: true } | { channels: string[]; banOf?: (userId: string) => Promise<Ban | null> };

/**
 * Checks an HTTP call's credentials: `Authorization: Bearer SERVER_KEY`, or (for herenow, with
 * auth on) a token in `?token=` or `Authorization: Bearer` whose channels open every channel asked.
 * Without auth settings and without a server key the service is open, for development.
 */
export async function authorizeRequest(request: Request, url: URL, need: Need, config: Config): Promise<Refusal | null> {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
  if (config.serverKey !== null && bearer !== undefined && (await sameSecret(bearer, config.serverKey))) return null;
  // A short-lived admin token (the dashboard's) stands in for the server key.
  if (bearer !== undefined && (await verifyAdminToken(bearer, config)) !== null) return null;
  if ("serverKey" in need) {
    if (config.serverKey !== null) return unauthorized(bearer === undefined ? "missing server key: send Authorization: Bearer PRESENCE_SERVER_KEY" : refusedCredentialMessage(bearer));
    return config.auth === null ? null : forbidden("this route needs the server key, and PRESENCE_SERVER_KEY is not set");
  }
  if (config.auth === null) return null;
  const token = url.searchParams.get("token") ?? bearer;
  if (token === undefined || token === null) return unauthorized("missing credentials: send the server key, or a token in ?token=");
  const verified = await verifierFor(config.auth).verify(token);
  if (!verified.ok) return { status: verified.status, error: verified.status === 503 ? "unavailable" : "unauthorized", message: verified.message };
  const closed = need.channels.filter((channel) => !channelAllowed(verified.claims.channels, channel));
  if (closed.length > 0) return forbidden(`the token does not open ${closed.map((c) => `channel ${c}`).join(", ")}`);
  const ban = verified.claims.sub === undefined ? null : await need.banOf?.(verified.claims.sub);
  return ban ? bannedRefusal(ban) : null;
}

/**
 * Who may call an HTTP client route (`/parties/main/CHANNEL/clients…`): the server key or an
 * admin token (any user; listing needs one of them), an open service in development, or a
 * user token (in `Authorization: Bearer` or `?token=`) whose channels open this channel. The
 * room then holds the user caller to its own userId and to what its token fixes.
 */
export async function authorizeHttpClient(request: Request, url: URL, channel: string, config: Config, listing: boolean): Promise<Caller | Refusal> {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
  if (config.serverKey !== null && bearer !== undefined && (await sameSecret(bearer, config.serverKey))) return { kind: "server" };
  if (bearer !== undefined && (await verifyAdminToken(bearer, config)) !== null) return { kind: "server" };
  if (config.serverKey === null && config.auth === null) return { kind: "server" };
  if (listing || config.auth === null) {
    // Only the server key will do.
    if (config.serverKey === null) return forbidden("this route needs the server key, and PRESENCE_SERVER_KEY is not set");
    return unauthorized(bearer === undefined ? "missing server key: send Authorization: Bearer PRESENCE_SERVER_KEY" : refusedCredentialMessage(bearer));
  }
  const tokens = url.searchParams.getAll("token");
  if (tokens.length > 1) return unauthorized("token is given more than once");
  const token = tokens[0] ?? bearer;
  if (token === undefined || token === "") return unauthorized("missing credentials: send the server key, or the client's token in Authorization: Bearer or ?token=");
  const verified = await verifierFor(config.auth).verify(token);
  if (!verified.ok) return { status: verified.status, error: verified.status === 503 ? "unavailable" : "unauthorized", message: verified.message };
  const claims = verified.claims;
  if (!channelAllowed(claims.channels, channel)) return forbidden(`the token does not open channel ${channel}`);
  if (claims.observer === true || claims.sub === undefined) return forbidden("an observer token keeps no client: use a user's token or the server key");
  const caller: Caller = { kind: "user", userId: claims.sub, dataLocked: false, expiresAt: verified.expiresAt };
  if (claims.clientType !== undefined) caller.clientType = claims.clientType;
  if (claims.data !== undefined) {
    const problem = userDataProblem(claims.data, config.maxUserDataBytes);
    if (problem) return { status: 400, error: "bad_request", message: `the token's data: ${problem.message}` };
    caller.data = claims.data;
    caller.dataLocked = claims.dataWritable !== true;
  }
  return caller;
}

const encoder = new TextEncoder();

/** Compares two secrets in time that does not depend on where they differ (SHA-256 of each, then every byte). */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([given, expected].map(async (text) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)))));
  let difference = 0;
  for (let i = 0; i < a!.length; i++) difference |= a![i]! ^ b![i]!;
  return difference === 0;
}
