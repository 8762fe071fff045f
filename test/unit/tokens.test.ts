/**
 * Client tokens: what the verifier accepts and refuses (each refusal saying which check
 * failed), the helper that mints them, and channel patterns. The JWKS cases fetch keys from a
 * local HTTP server, as the edge fetches them from PRESENCE_AUTH_JWKS_URL.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPresenceToken } from "../../client/tokens.ts";
import { TokenVerifier } from "../../party/edge/tokens.ts";
import type { AuthSettings } from "../../party/server/config.ts";
import { channelAllowed } from "../../party/protocol/index.ts";
import { type JwksServer, rawToken, SECRET, startJwks, tamper, token, unsignedToken } from "../support/tokens.ts";

const settings = (over: Partial<AuthSettings> = {}): AuthSettings => ({
  secret: SECRET,
  jwksUrl: null,
  issuer: undefined,
  audience: undefined,
  clockToleranceSec: 5,
  allowAnonymousObservers: false,
  ...over,
});
const now = () => Math.floor(Date.now() / 1000);

let jwks: JwksServer;
beforeAll(async () => {
  jwks = await startJwks();
});
afterAll(async () => {
  await jwks?.close();
});

describe("TokenVerifier with an HS256 secret", () => {
  const verifier = new TokenVerifier(settings());

  it("accepts a token from createPresenceToken, with its claims and expiry", async () => {
    const jwt = await token({ userId: "Jack", data: { age: 18 }, channels: ["room-*"], clientType: "web", ttlSeconds: 60 });
    const verified = await verifier.verify(jwt);
    expect(verified).toMatchObject({ ok: true, claims: { sub: "Jack", data: { age: 18 }, channels: ["room-*"], clientType: "web" } });
    // Good for as long as it would be accepted: its exp plus the 5 s clock tolerance.
    const expiresAt = (verified as { expiresAt: number }).expiresAt;
    expect(Math.abs(expiresAt - (Date.now() + 65_000))).toBeLessThan(2_000);
  });

  it("accepts an observer token", async () => {
    expect(await verifier.verify(await token({ observer: true }))).toMatchObject({ ok: true, claims: { observer: true } });
  });

  it.each<[string, () => Promise<string> | string, RegExp]>([
    ["text that is no JWT", () => "not-a-token", /malformed token/],
    ["a JWT with a forged signature", async () => (await token({ userId: "Jack" }, "another-secret-that-is-long-enough-1234")), /signature is not valid/],
    ["a JWT whose data was changed after signing", async () => tamper(await token({ userId: "Jack", data: { role: "user" } }), (c) => ({ ...c, data: { role: "admin" } })), /signature is not valid/],
    ["a JWT whose sub was changed after signing", async () => tamper(await token({ userId: "Jack" }), (c) => ({ ...c, sub: "Ted" })), /signature is not valid/],
    ["an unsigned JWT (alg none)", () => unsignedToken({ sub: "Jack" }), /algorithm none is not allowed|algorithm \(none\)/],
    ["an RS256 JWT where only a secret is set", () => jwks.sign({ sub: "Jack" }), /algorithm RS256 is not allowed/],
    ["an expired JWT", () => rawToken({ sub: "Jack" }, { exp: now() - 60 }), /expired/],
    ["a JWT not valid for another minute", () => rawToken({ sub: "Jack" }, { nbf: now() + 60 }), /not valid yet/],
    ["a JWT without exp", () => rawToken({ sub: "Jack" }, { exp: null }), /no exp/],
    ["a JWT with neither sub nor observer", () => rawToken({ channels: ["a"] }), /no sub/],
    ["a JWT with both sub and observer", () => rawToken({ sub: "Jack", observer: true }), /observer token carries no sub/],
    ["a JWT with a channel pattern that is no pattern", () => rawToken({ sub: "Jack", channels: ["a b"] }), /channel pattern/],
    ["a JWT with an empty sub", () => rawToken({ sub: "" }), /userId is empty/],
    ["a JWT whose sub holds a NUL", () => rawToken({ sub: "Jack\u0000" }), /token claims are not valid: [^]*userId may not hold control characters/],
    ["a JWT whose sub holds a lone surrogate", () => rawToken({ sub: "Jack\ud800" }), /token claims are not valid: [^]*a surrogate without its pair/],
  ])("refuses %s, saying why", async (_what, make, why) => {
    const verified = await verifier.verify(await make());
    expect(verified).toMatchObject({ ok: false, status: 401 });
    expect((verified as { message: string }).message).toMatch(why);
  });

  it("allows a small clock difference at expiry", async () => {
    expect(await verifier.verify(await rawToken({ sub: "Jack" }, { exp: now() - 2 }))).toMatchObject({ ok: true });
    expect(await verifier.verify(await rawToken({ sub: "Jack" }, { exp: now() - 30 }))).toMatchObject({ ok: false });
  });

  it("refuses a token with any single byte changed", async () => {
    const jwt = await token({ userId: "Jack", data: { n: 1 }, channels: ["room-1"] });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=";
    await fc.assert(
      fc.asyncProperty(fc.nat(jwt.length - 1), fc.constantFrom(...alphabet), async (at, ch) => {
        fc.pre(jwt[at] !== ch);
        // Bits past the end of the base64url signature may not change its bytes: only a real change counts.
        const changed = jwt.slice(0, at) + ch + jwt.slice(at + 1);
        const sameBytes = decodes(changed) === decodes(jwt);
        const verified = await verifier.verify(changed);
        expect(verified.ok, `byte ${at} changed to ${ch}`).toBe(sameBytes);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe("TokenVerifier with issuer and audience", () => {
  const verifier = new TokenVerifier(settings({ issuer: "https://app.example", audience: "presence" }));

  it("accepts the right issuer and audience", async () => {
    expect(await verifier.verify(await rawToken({ sub: "a" }, { iss: "https://app.example", aud: "presence" }))).toMatchObject({ ok: true });
  });

  it.each<[string, { iss?: string; aud?: string }, RegExp]>([
    ["a wrong issuer", { iss: "https://evil.example", aud: "presence" }, /issuer/],
    ["no issuer", { aud: "presence" }, /issuer/],
    ["a wrong audience", { iss: "https://app.example", aud: "other" }, /audience/],
  ])("refuses %s", async (_what, times, why) => {
    const verified = await verifier.verify(await rawToken({ sub: "a" }, times));
    expect(verified).toMatchObject({ ok: false, status: 401 });
    expect((verified as { message: string }).message).toMatch(why);
  });
});

describe("TokenVerifier with a JWKS", () => {
  it("accepts an RS256 token signed by a key of the JWKS", async () => {
    const verifier = new TokenVerifier(settings({ secret: null, jwksUrl: jwks.url }));
    expect(await verifier.verify(await jwks.sign({ sub: "Jack" }))).toMatchObject({ ok: true, claims: { sub: "Jack" } });
  });

  it("refuses an HMAC token where the keys are asymmetric, the public key used as its secret included", async () => {
    const verifier = new TokenVerifier(settings({ secret: null, jwksUrl: jwks.url }));
    for (const jwt of [await jwks.confused({ sub: "Jack" }), await token({ userId: "Jack" })]) {
      const verified = await verifier.verify(jwt);
      expect(verified).toMatchObject({ ok: false, status: 401 });
      expect((verified as { message: string }).message).toMatch(/algorithm HS256 is not allowed/);
    }
  });

  it("with both a secret and a JWKS, takes each token by its algorithm, and still refuses the confusion", async () => {
    const verifier = new TokenVerifier(settings({ jwksUrl: jwks.url }));
    expect(await verifier.verify(await jwks.sign({ sub: "a" }))).toMatchObject({ ok: true });
    expect(await verifier.verify(await token({ userId: "b" }))).toMatchObject({ ok: true });
    expect(await verifier.verify(await jwks.confused({ sub: "c" }))).toMatchObject({ ok: false, message: expect.stringMatching(/signature/) });
  });

  it("answers 503 when the JWKS cannot be fetched", async () => {
    const verifier = new TokenVerifier(settings({ secret: null, jwksUrl: "http://127.0.0.1:9/none.json" }));
    expect(await verifier.verify(await jwks.sign({ sub: "a" }))).toMatchObject({ ok: false, status: 503 });
  });
});

describe("createPresenceToken", () => {
  it.each<[string, Parameters<typeof createPresenceToken>[0], RegExp]>([
    ["neither userId nor observer", {}, /needs a userId, or observer/],
    ["both userId and observer", { userId: "a", observer: true }, /observer token has no userId/],
    ["a bad clientType", { userId: "a", clientType: "a b" }, /clientType may only hold/],
    ["a bad channel pattern", { userId: "a", channels: ["a/b"] }, /channel pattern/],
    ["a ttl of zero", { userId: "a", ttlSeconds: 0 }, /ttlSeconds/],
  ])("refuses %s", async (_what, options, why) => {
    await expect(createPresenceToken(options, SECRET)).rejects.toThrow(why);
  });

  it("refuses a secret shorter than the service accepts", async () => {
    await expect(createPresenceToken({ userId: "a" }, "short")).rejects.toThrow(/at least 32/);
  });
});

describe("channelAllowed", () => {
  it.each<[string[] | undefined, string, boolean]>([
    [undefined, "anything", true],
    [["room-1"], "room-1", true],
    [["room-1"], "room-10", false],
    [["room-*"], "room-10", true],
    [["room-*"], "room-", true],
    [["room-*"], "lobby", false],
    [["team:a:*", "lobby"], "team:a:x", true],
    [["team:a:*", "lobby"], "team:b:x", false],
    [["*"], "x", true],
    [[], "x", false],
  ])("%j opens %s: %s", (patterns, channel, allowed) => {
    expect(channelAllowed(patterns, channel)).toBe(allowed);
  });
});

/** The bytes a JWT's three parts decode to (base64url tolerates some trailing bits). */
function decodes(jwt: string): string {
  return jwt
    .split(".")
    .map((part) => {
      try {
        return Buffer.from(part, "base64url").toString("hex");
      } catch {
        return `!${part}`;
      }
    })
    .join(".");
}
