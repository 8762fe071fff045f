/**
 * Tokens for the tests: HS256 ones from the real `createPresenceToken`, raw ones signed with
 * jose (to forge, tamper, expire), an RSA key pair and a JWKS served over local HTTP.
 */
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createPresenceToken, type PresenceTokenOptions } from "../../client/tokens.ts";

/** The HS256 secret the auth tests configure (40 characters). */
export const SECRET = "test-secret-0123456789-abcdefghijklmnopq";

/** A token from the helper app servers use. */
export function token(options: PresenceTokenOptions, secret = SECRET): Promise<string> {
  return createPresenceToken(options, secret);
}

/** A token with any claims and times, signed HS256 with `secret` (for expired, not-yet-valid, odd claims). */
export async function rawToken(
  claims: Record<string, unknown>,
  times: { exp?: number | null; nbf?: number; iss?: string; aud?: string } = {},
  secret = SECRET,
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  const exp = times.exp === undefined ? Math.floor(Date.now() / 1000) + 3600 : times.exp;
  if (exp !== null) jwt.setExpirationTime(exp);
  if (times.nbf !== undefined) jwt.setNotBefore(times.nbf);
  if (times.iss !== undefined) jwt.setIssuer(times.iss);
  if (times.aud !== undefined) jwt.setAudience(times.aud);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`) with these claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

/** The same token with its payload replaced (the signature no longer matches). */
export function tamper(jwt: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, payload, signature] = jwt.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify(change(claims))).toString("base64url")}.${signature}`;
}

/** An RSA key pair, its public JWKS served on 127.0.0.1, and a signer of RS256 tokens. */
export type JwksServer = {
  url: string;
  publicJwk: JWK;
  sign(claims: Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  /** An HS256 token whose HMAC key is the public key's JSON: the classic algorithm-confusion forgery. */
  confused(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
};

/** Starts a local JWKS endpoint. */
export async function startJwks(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const server: Server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    publicJwk,
    sign: (claims, ttlSeconds = 3600) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "test-key" }).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(privateKey),
    confused: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: "test-key" })
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
