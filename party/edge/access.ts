/**
 * Who may do what, decided at the edge before any room is touched: the origin of a browser,
 * the client token of a connect (which userId, userData and clientType it may take, in which
 * channels), and the credentials of an HTTP call (the server key, or a token that opens the
 * channels asked for). Each check throws its refusal (`HttpError`); the entry point answers it.
 */
import type { AuthSettings, Config } from "../server/config.ts";
import { HttpError } from "../server/envelope.ts";
import type { Caller } from "../server/hand-off.ts";
import type { Handshake } from "../wire/handshake.ts";
import { userDataProblem } from "../wire/json.ts";
import { bannedError } from "../server/ban-cache.ts";
import { type Ban, channelAllowed, type TokenClaims } from "../protocol/index.ts";
import { verifierFor } from "./tokens.ts";
import { refusedCredentialMessage, verifyAdminToken } from "./admin.ts";

/** A connect the edge admits: the handshake as the room must take it. */
export type Admitted = Handshake & {
  /** The token fixed the userData and did not allow `update`. */
  dataLocked: boolean;
  /** When the token expires (epoch ms); null without auth. */
  expiresAt: number | null;
};

const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);
const forbidden = (message: string, reason?: string) => new HttpError(403, "forbidden", message, { reason });

/**
 * Refuses a browser's origin that the settings do not allow (a request without Origin is not a
 * browser's: allowed); `reason` is what a room's stats count the refusal under (its code unless given).
 */
export function checkOrigin(request: Request, config: Config, reason?: string): void {
  const origin = request.headers.get("origin");
  if (origin === null || config.allowedOrigins === null || config.allowedOrigins.includes(origin)) return;
  throw forbidden(`origin ${origin} is not allowed to use this service (PRESENCE_ALLOWED_ORIGINS)`, reason);
}

/** A client token's claims and until when it is good (epoch ms); throws 401 `unauthorized`, or 503 `unavailable` when its keys could not be fetched. */
async function verified(auth: AuthSettings, token: string): Promise<{ claims: TokenClaims; expiresAt: number }> {
  const result = await verifierFor(auth).verify(token);
  if (!result.ok) throw new HttpError(result.status, result.status === 503 ? "unavailable" : "unauthorized", result.message);
  return result;
}

/** Refuses (400) a token whose data breaks the userData rule: it would be the member's userData. */
function checkTokenData(data: TokenClaims["data"], config: Config): void {
  const problem = userDataProblem(data, config.maxUserDataBytes);
  if (problem) throw new HttpError(400, "bad_request", `the token's data: ${problem.message}`);
}

/**
 * Decides who a connect to `channel` may be. Without auth settings the handshake stands as
 * sent. With them, the token in `?token=` decides: its `sub` is the userId, its `data` the
 * userData, its `clientType` pins the type, its `channels` must open this channel. Throws the
 * refusal (400, 401, 403, 503).
 */
export async function admitConnect(params: URLSearchParams, channel: string, handshake: Handshake, config: Config): Promise<Admitted> {
  if (config.auth === null) return { ...handshake, dataLocked: false, expiresAt: null };
  const tokens = params.getAll("token");
  if (tokens.length > 1) throw unauthorized("token is given more than once");
  const token = tokens[0];
  if (token === undefined || token === "") {
    if (config.auth.allowAnonymousObservers && handshake.userId === null) return { ...handshake, dataLocked: false, expiresAt: null };
    throw unauthorized(
      config.auth.allowAnonymousObservers ? "missing token: only observers (no userId) may connect without ?token=" : "missing token: connect with ?token=JWT",
    );
  }
  // The dashboard's admin token (see admin.ts) connects observers to any channel.
  const adminUntil = await verifyAdminToken(token, config);
  if (adminUntil !== null) {
    if (handshake.userId !== null) throw forbidden("an admin token connects observers only: leave out userId");
    return { ...handshake, userData: null, dataLocked: false, expiresAt: adminUntil };
  }
  const { claims, expiresAt } = await verified(config.auth, token);
  if (!channelAllowed(claims.channels, channel)) throw forbidden(`the token does not open channel ${channel}`);
  if (claims.observer === true) {
    if (handshake.userId !== null) throw forbidden("an observer token cannot join as a user: leave out userId");
    return { ...handshake, userData: null, dataLocked: false, expiresAt };
  }
  return identityFromClaims(claims, handshake, config, expiresAt);
}

/** The member a user token makes: its userId, userData and clientType, each checked against what the connect asked. */
function identityFromClaims(claims: TokenClaims, handshake: Handshake, config: Config, expiresAt: number): Admitted {
  const userId = claims.sub!;
  if (handshake.userId !== null && handshake.userId !== userId) throw forbidden(`the token is for user ${userId}, not ${handshake.userId}`);
  if (claims.clientType !== undefined && handshake.clientType !== undefined && handshake.clientType !== claims.clientType) {
    throw forbidden(`the token pins clientType ${claims.clientType}, not ${handshake.clientType}`);
  }
  const clientType = claims.clientType ?? handshake.clientType;
  if (claims.data === undefined) return { ...handshake, userId, clientType, dataLocked: false, expiresAt };
  checkTokenData(claims.data, config);
  // The app vouches for this data: what the connect sent is not used.
  return { ...handshake, userId, clientType, userData: claims.data, dataLocked: claims.dataWritable !== true, expiresAt };
}

/** What an HTTP call needs: the server key, or read access to some channels (herenow), by a token whose user is not banned (`banOf`, which the edge always gives). */
export type Need = { serverKey: true } | { channels: string[]; banOf?: (userId: string) => Promise<Ban | null> };

/**
 * Checks an HTTP call's credentials: `Authorization: Bearer SERVER_KEY`, or (for herenow, with
 * auth on) a token in `?token=` or `Authorization: Bearer` whose channels open every channel asked.
 * Without auth settings and without a server key the service is open, for development.
 * Throws the refusal (401, 403, 503, or 403 `banned`).
 */
export async function authorizeRequest(request: Request, url: URL, need: Need, config: Config): Promise<void> {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
  if (config.serverKey !== null && bearer !== undefined && (await sameSecret(bearer, config.serverKey))) return;
  // A short-lived admin token (the dashboard's) stands in for the server key.
  if (bearer !== undefined && (await verifyAdminToken(bearer, config)) !== null) return;
  if ("serverKey" in need) {
    if (config.serverKey !== null) throw unauthorized(bearer === undefined ? "missing server key: send Authorization: Bearer PRESENCE_SERVER_KEY" : refusedCredentialMessage(bearer));
    if (config.auth === null) return;
    throw forbidden("this route needs the server key, and PRESENCE_SERVER_KEY is not set");
  }
  if (config.auth === null) return;
  const token = url.searchParams.get("token") ?? bearer;
  if (token === undefined || token === null) throw unauthorized("missing credentials: send the server key, or a token in ?token=");
  const { claims } = await verified(config.auth, token);
  const closed = need.channels.filter((channel) => !channelAllowed(claims.channels, channel));
  if (closed.length > 0) throw forbidden(`the token does not open ${closed.map((c) => `channel ${c}`).join(", ")}`);
  const ban = claims.sub === undefined ? null : await need.banOf?.(claims.sub);
  if (ban) throw bannedError(ban);
}

/**
 * GoEasy's REST herenow (`GET /herenow?appkey=KEY&channel=…`) carries its key in the query, and
 * only there is a key taken from a URL: true when `appkey` is the server key; false when no
 * `appkey` is given (the usual credentials decide). A wrong key, or a key when no server key
 * is set and the service is not open, is refused (401 / 403); the key is never echoed.
 */
export async function appkeyOpens(url: URL, config: Config): Promise<boolean> {
  const keys = url.searchParams.getAll("appkey");
  if (keys.length === 0) return false;
  if (keys.length > 1) throw unauthorized("appkey is given more than once");
  if (config.serverKey !== null) {
    if (await sameSecret(keys[0]!, config.serverKey)) return true;
    throw unauthorized("appkey is not this service's server key (PRESENCE_SERVER_KEY)");
  }
  if (config.auth === null) return true;
  throw forbidden("appkey stands for the server key, and PRESENCE_SERVER_KEY is not set");
}

/**
 * Who may call an HTTP client route (`/parties/main/CHANNEL/clients…`): the server key or an
 * admin token (any user; listing needs one of them), an open service in development, or a
 * user token (in `Authorization: Bearer` or `?token=`) whose channels open this channel. The
 * room then holds the user caller to its own userId and to what its token fixes. Throws the
 * refusal (400, 401, 403, 503).
 */
export async function authorizeHttpClient(request: Request, url: URL, channel: string, config: Config, listing: boolean): Promise<Caller> {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
  if (config.serverKey !== null && bearer !== undefined && (await sameSecret(bearer, config.serverKey))) return { kind: "server" };
  if (bearer !== undefined && (await verifyAdminToken(bearer, config)) !== null) return { kind: "server" };
  if (config.serverKey === null && config.auth === null) return { kind: "server" };
  if (listing || config.auth === null) {
    // Only the server key will do.
    if (config.serverKey === null) throw forbidden("this route needs the server key, and PRESENCE_SERVER_KEY is not set");
    throw unauthorized(bearer === undefined ? "missing server key: send Authorization: Bearer PRESENCE_SERVER_KEY" : refusedCredentialMessage(bearer));
  }
  const tokens = url.searchParams.getAll("token");
  if (tokens.length > 1) throw unauthorized("token is given more than once");
  const token = tokens[0] ?? bearer;
  if (token === undefined || token === "") throw unauthorized("missing credentials: send the server key, or the client's token in Authorization: Bearer or ?token=");
  const { claims, expiresAt } = await verified(config.auth, token);
  if (!channelAllowed(claims.channels, channel)) throw forbidden(`the token does not open channel ${channel}`);
  if (claims.observer === true || claims.sub === undefined) throw forbidden("an observer token keeps no client: use a user's token or the server key");
  const caller: Caller = { kind: "user", userId: claims.sub, dataLocked: false, expiresAt };
  if (claims.clientType !== undefined) caller.clientType = claims.clientType;
  if (claims.data !== undefined) {
    checkTokenData(claims.data, config);
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
