/**
 * Client tokens, verified with jose before any room is touched: HS256 with
 * PRESENCE_AUTH_SECRET and/or the asymmetric keys of PRESENCE_AUTH_JWKS_URL, the allowed
 * algorithms always named, `exp` required, issuer, audience and a small clock tolerance.
 * Every refusal says which check failed.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { z } from "zod";
import type { AuthSettings } from "../server/config.ts";
import { TokenClaims } from "../protocol/index.ts";

const HMAC_ALGORITHMS = ["HS256"];
const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** A verified token and until when it is good (epoch ms), or why it was refused (401: not a valid token; 503: its keys could not be fetched). */
export type Verified =
  | { ok: true; claims: TokenClaims; expiresAt: number }
  | { ok: false; status: 401 | 503; message: string };

/** Verifies client tokens for one set of auth settings. */
export class TokenVerifier {
  readonly #settings: AuthSettings;
  readonly #secret: Uint8Array | null;
  readonly #jwks: JWTVerifyGetKey | null;
  readonly #allowed: string[];

  constructor(settings: AuthSettings) {
    this.#settings = settings;
    this.#secret = settings.secret === null ? null : new TextEncoder().encode(settings.secret);
    // jose caches the key set and refetches it when a token names an unknown kid (with a cooldown).
    this.#jwks = settings.jwksUrl === null ? null : createRemoteJWKSet(new URL(settings.jwksUrl));
    this.#allowed = [...(this.#secret ? HMAC_ALGORITHMS : []), ...(this.#jwks ? ASYMMETRIC_ALGORITHMS : [])];
  }

  /** Checks a token's signature, algorithm, times, issuer, audience and claims. */
  async verify(token: string): Promise<Verified> {
    const refuse = (message: string): Verified => ({ ok: false, status: 401, message });
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return refuse("malformed token: not a JWT (header.payload.signature)");
    }
    if (alg === undefined || !this.#allowed.includes(alg)) {
      return refuse(`token algorithm ${alg ?? "(none)"} is not allowed here; allowed: ${this.#allowed.join(", ")}`);
    }
    const hmac = HMAC_ALGORITHMS.includes(alg);
    const options = {
      algorithms: hmac ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS,
      issuer: this.#settings.issuer,
      audience: this.#settings.audience,
      clockTolerance: this.#settings.clockToleranceSec,
      requiredClaims: ["exp"],
    };
    let payload: Record<string, unknown>;
    try {
      const verified = hmac ? await jwtVerify(token, this.#secret!, options) : await jwtVerify(token, this.#jwks!, options);
      payload = verified.payload;
    } catch (error) {
      return explain(error);
    }
    const claims = TokenClaims.safeParse(payload);
    if (!claims.success) return refuse(`token claims are not valid: ${z.prettifyError(claims.error)}`);
    if (claims.data.sub === undefined && claims.data.observer !== true) {
      return refuse("token has no sub (the userId) and is no observer token (observer: true)");
    }
    if (claims.data.sub !== undefined && claims.data.observer === true) return refuse("an observer token carries no sub");
    // The socket may live as long as the token would still be accepted: its exp plus the tolerance.
    return { ok: true, claims: claims.data, expiresAt: ((payload.exp as number) + this.#settings.clockToleranceSec) * 1000 };
  }
}

/** Says which check a token failed, from jose's error. */
function explain(error: unknown): Verified {
  const refuse = (message: string): Verified => ({ ok: false, status: 401, message });
  if (error instanceof errors.JWTExpired) return refuse("token expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return refuse("token is not valid yet (nbf)");
      case "iat":
        return refuse("token was issued in the future (iat)");
      case "iss":
        return refuse("token issuer (iss) is not the one this service accepts");
      case "aud":
        return refuse("token audience (aud) does not name this service");
      case "exp":
        return refuse("token has no exp: tokens must expire");
      default:
        return refuse(`token claim ${error.claim} is not valid: ${error.reason}`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refuse("token signature is not valid");
  if (error instanceof errors.JOSEAlgNotAllowed) return refuse("token algorithm is not allowed here");
  if (error instanceof errors.JWKSNoMatchingKey) return refuse("no key of the JWKS matches the token (kid)");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof TypeError) {
    return { ok: false, status: 503, message: "the keys that check tokens (PRESENCE_AUTH_JWKS_URL) could not be fetched; try again" };
  }
  if (error instanceof errors.JOSEError) return refuse(`malformed token (${error.code})`);
  return { ok: false, status: 503, message: "the token could not be checked; try again" };
}

const verifiers = new WeakMap<AuthSettings, TokenVerifier>();

/** The verifier of a set of auth settings, made once per isolate (so the JWKS cache lives on). */
export function verifierFor(settings: AuthSettings): TokenVerifier {
  let verifier = verifiers.get(settings);
  if (!verifier) verifiers.set(settings, (verifier = new TokenVerifier(settings)));
  return verifier;
}
