/**
 * Minting client tokens on the app server: `createPresenceToken` signs, with jose and HS256,
 * the claims the service checks (see TokenClaims in protocol.ts). Exported from
 * `partykit-presence/server`; the secret must never reach a browser.
 */
import { SignJWT } from "jose";
import { check } from "../party/wire/check.ts";
import type { JsonValue } from "../party/wire/json.ts";
import type { TokenClaims } from "../party/protocol/index.ts";
import { TokenClaimsDefs, TokenClaimsSchema } from "../party/wire/schemas.generated.ts";

/** What a token says about its client. */
export type PresenceTokenOptions = {
  /** The userId (`sub`); leave out with `observer: true`. */
  userId?: string;
  /** userData the app vouches for: the client shows it and cannot change it unless `dataWritable`. */
  data?: JsonValue;
  /** With `data`: let the client send `update` anyway. */
  dataWritable?: boolean;
  /** Channel names or `prefix*` patterns the token opens (default: every channel). */
  channels?: string[];
  /** Pins the client's type. */
  clientType?: string;
  /** An observer token: no userId, sees presence, is not counted. */
  observer?: boolean;
  /** Lifetime in seconds (default 3600). Clients with a provider get a fresh token on reconnect. */
  ttlSeconds?: number;
  /** `iss`, when the service checks PRESENCE_AUTH_ISSUER. */
  issuer?: string;
  /** `aud`, when the service checks PRESENCE_AUTH_AUDIENCE. */
  audience?: string | string[];
};

/** The shortest PRESENCE_AUTH_SECRET the service accepts. */
const MIN_SECRET_LENGTH = 32;

/** Signs a client token with the service's PRESENCE_AUTH_SECRET (HS256). Throws on options the service would refuse. */
export async function createPresenceToken(options: PresenceTokenOptions, secret: string): Promise<string> {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`the secret must be at least ${MIN_SECRET_LENGTH} characters, like PRESENCE_AUTH_SECRET`);
  const ttl = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error("ttlSeconds must be a positive whole number of seconds");
  const claims: TokenClaims = {};
  if (options.userId !== undefined) claims.sub = options.userId;
  if (options.data !== undefined) claims.data = options.data;
  if (options.dataWritable !== undefined) claims.dataWritable = options.dataWritable;
  if (options.channels !== undefined) claims.channels = options.channels;
  if (options.clientType !== undefined) claims.clientType = options.clientType;
  if (options.observer !== undefined) claims.observer = options.observer;
  const problem = check(TokenClaimsSchema, claims, TokenClaimsDefs);
  if (problem) throw new Error(`token claims: ${problem}`);
  if (claims.sub === undefined && claims.observer !== true) throw new Error("a token needs a userId, or observer: true");
  if (claims.sub !== undefined && claims.observer === true) throw new Error("an observer token has no userId");
  const { sub, ...rest } = claims;
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime(`${ttl}s`);
  if (sub !== undefined) jwt.setSubject(sub);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
