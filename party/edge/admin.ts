/**
 * Admin tokens for the dashboard: short-lived HS256 JWTs signed with a key derived from
 * PRESENCE_SERVER_KEY (HMAC-SHA256 of the server key and a fixed label, so they never verify
 * as client tokens, whatever PRESENCE_AUTH_SECRET is). One stands in for the server key on
 * HTTP routes, opens the channel index's socket, and connects observers to any channel.
 */
import { decodeJwt, jwtVerify, SignJWT } from "jose";
import type { Config } from "../server/config.ts";
import { HttpError } from "../server/envelope.ts";

/** The audience every admin token carries; tokens without it are never checked as admin tokens. */
export const ADMIN_AUDIENCE = "presence-admin";
/** How long a minted admin token lives. */
export const ADMIN_TOKEN_TTL_SEC = 600;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<Uint8Array>>();

/** The signing key of admin tokens for one server key. */
function keyFor(serverKey: string): Promise<Uint8Array> {
  let key = keys.get(serverKey);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(serverKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then(async (hmac) => new Uint8Array(await crypto.subtle.sign("HMAC", hmac, encoder.encode("partykit-presence admin token v1"))));
    keys.set(serverKey, key);
  }
  return key;
}

/** Signs an admin token; null when no server key is set (there is nothing to derive it from). */
export async function mintAdminToken(config: Config, now = Date.now(), ttlSec = ADMIN_TOKEN_TTL_SEC): Promise<{ token: string; expiresAt: number } | null> {
  if (config.serverKey === null) return null;
  const issuedAt = Math.floor(now / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(ADMIN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSec)
    .sign(await keyFor(config.serverKey));
  return { token, expiresAt: (issuedAt + ttlSec) * 1000 };
}

/** Whether a string is a valid, unexpired admin token of this service: its expiry (epoch ms), or null. */
export async function verifyAdminToken(token: string, config: Config): Promise<number | null> {
  if (config.serverKey === null) return null;
  try {
    // Cheap look first: only tokens meant as admin tokens are checked (client tokens go on to their own checks).
    const aud = decodeJwt(token).aud;
    if (aud !== ADMIN_AUDIENCE && !(Array.isArray(aud) && aud.includes(ADMIN_AUDIENCE))) return null;
    const { payload } = await jwtVerify(token, await keyFor(config.serverKey), { algorithms: ["HS256"], audience: ADMIN_AUDIENCE, requiredClaims: ["exp"] });
    return payload.exp! * 1000;
  } catch {
    return null;
  }
}

/**
 * Why a credential offered in place of the server key was refused, as the sentence to show:
 * a JWT says whether it is unreadable, no admin token, expired, or signed with another key;
 * anything else is a wrong server key.
 */
export function refusedCredentialMessage(credential: string, now = Date.now()): string {
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential)) return "wrong server key";
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(credential);
  } catch {
    return "not the server key, nor an admin token: it cannot be read as a JWT";
  }
  const aud = claims.aud;
  if (aud !== ADMIN_AUDIENCE && !(Array.isArray(aud) && aud.includes(ADMIN_AUDIENCE))) return "not the server key, nor an admin token (a client token does not open the dashboard)";
  if (typeof claims.exp === "number" && claims.exp * 1000 <= now) return `the admin token expired at ${new Date(claims.exp * 1000).toISOString()}: get a new one with the server key (POST /admin/token)`;
  return "bad admin token: not signed with this service's server key";
}

/** Whether the dashboard needs no credentials: no server key and no client auth (development). */
export function adminOpen(config: Config): boolean {
  return config.serverKey === null && config.auth === null;
}

/** Admits a dashboard socket (`?token=ADMIN_TOKEN`), or throws why not (401, or 403 when the service has no server key). */
export async function checkAdminSocket(params: URLSearchParams, config: Config): Promise<void> {
  if (adminOpen(config)) return;
  if (config.serverKey === null) throw new HttpError(403, "forbidden", "the dashboard needs PRESENCE_SERVER_KEY when client auth is on");
  const token = params.get("token");
  if (!token) throw new HttpError(401, "unauthorized", "missing admin token: connect with ?token= from POST /admin/token");
  if ((await verifyAdminToken(token, config)) === null) throw new HttpError(401, "unauthorized", "bad or expired admin token");
}
