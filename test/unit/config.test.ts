import { describe, expect, it } from "vitest";
import { type Config, DEFAULT_CONFIG, loadConfig, readConfig } from "../../party/server/config.ts";

describe("loadConfig", () => {
  it("uses the documented defaults when nothing is set", () => {
    const expected: Config = {
      graceMs: 5_000,
      tickMs: 50,
      retentionMs: 7 * 24 * 3600 * 1000,
      heartbeatIntervalMs: 10_000,
      heartbeatTimeoutMs: 30_000,
      maxMessageBytes: 16 * 1024,
      maxUserDataBytes: 4096,
      ratePerSec: 20,
      rateBurst: 40,
      abuseCloseAfter: 40,
      maxClients: 10_000,
      maxClientsPerUser: 32,
      announceMax: 1000,
      intervalMs: 1000,
      directory: true,
      directoryParts: 4,
      banReplicas: 8,
      indexShards: 16,
      leaseMs: 120_000,
      historyMs: 24 * 3600 * 1000,
      historyMax: 10_000,
      maxPushBytes: 16 * 1024,
      maxPushTimeoutMs: 30_000,
      maxClientTtlMs: 3_600_000,
      clientPush: false,
      webhook: null,
      auth: null,
      serverKey: null,
      clientPolicy: "multi",
      allowedOrigins: null,
    };
    expect(loadConfig({})).toEqual(expected);
    expect(DEFAULT_CONFIG).toEqual(expected);
  });

  it.each<[string, string, keyof Config, number]>([
    ["PRESENCE_GRACE_MS", "1000", "graceMs", 1000],
    ["PRESENCE_GRACE_MS", "0", "graceMs", 0],
    ["PRESENCE_TICK_MS", "25", "tickMs", 25],
    ["PRESENCE_ANNOUNCE_MAX", "200", "announceMax", 200],
    ["PRESENCE_INTERVAL_MS", "250", "intervalMs", 250],
    ["PRESENCE_RETENTION_MS", "86400000", "retentionMs", 86_400_000],
    ["PRESENCE_HEARTBEAT_INTERVAL_MS", "1000", "heartbeatIntervalMs", 1000],
    ["PRESENCE_HEARTBEAT_TIMEOUT_MS", "40000", "heartbeatTimeoutMs", 40_000],
    ["PRESENCE_MAX_MESSAGE_BYTES", "2048", "maxMessageBytes", 2048],
    ["PRESENCE_MAX_USER_DATA_BYTES", "100", "maxUserDataBytes", 100],
    ["PRESENCE_RATE_PER_SEC", "5", "ratePerSec", 5],
    ["PRESENCE_RATE_BURST", "7", "rateBurst", 7],
    ["PRESENCE_ABUSE_CLOSE_AFTER", "3", "abuseCloseAfter", 3],
    ["PRESENCE_MAX_CLIENTS", "12", "maxClients", 12],
    ["PRESENCE_MAX_CLIENTS_PER_USER", "2", "maxClientsPerUser", 2],
    ["PRESENCE_HISTORY_MS", "60000", "historyMs", 60_000],
    ["PRESENCE_HISTORY_MAX", "0", "historyMax", 0],
    ["PRESENCE_HISTORY_MAX", "100000", "historyMax", 100_000],
    ["PRESENCE_BAN_REPLICAS", "1", "banReplicas", 1],
    ["PRESENCE_BAN_REPLICAS", "256", "banReplicas", 256],
  ])("reads %s=%s from a string", (name, value, field, expected) => {
    const config = loadConfig({ [name]: value });
    expect(config[field]).toBe(expected);
    // Everything else keeps its default.
    expect({ ...config, [field]: DEFAULT_CONFIG[field] }).toEqual(DEFAULT_CONFIG);
  });

  it("reads several variables together, as the test server passes them", () => {
    const config = loadConfig({
      PRESENCE_GRACE_MS: "1000",
      PRESENCE_TICK_MS: "50",
      PRESENCE_HEARTBEAT_INTERVAL_MS: "1000",
      PRESENCE_HEARTBEAT_TIMEOUT_MS: "4000",
    });
    expect(config).toMatchObject({ graceMs: 1000, tickMs: 50, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 4000 });
  });

  it("reads the index shards", () => {
    expect(loadConfig({ PRESENCE_INDEX_SHARDS: "4" }).indexShards).toBe(4);
    expect(loadConfig({ PRESENCE_INDEX_SHARDS: "1024" }).indexShards).toBe(1024);
  });

  it("accepts numbers as well as strings", () => {
    expect(loadConfig({ PRESENCE_GRACE_MS: 250 }).graceMs).toBe(250);
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PRESENCE_GRACE_MS: "" }).graceMs).toBe(5_000);
  });

  it("ignores variables that are not its own", () => {
    expect(loadConfig({ OTHER: "x", GRACE_MS: "-1", PARTYKIT_HOST: "h" })).toEqual(DEFAULT_CONFIG);
  });

  it.each<[string, Record<string, string>, string]>([
    ["a negative grace", { PRESENCE_GRACE_MS: "-1" }, "PRESENCE_GRACE_MS"],
    ["a non-numeric grace", { PRESENCE_GRACE_MS: "five" }, "PRESENCE_GRACE_MS"],
    ["a fractional tick", { PRESENCE_TICK_MS: "1.5" }, "PRESENCE_TICK_MS"],
    ["a zero tick", { PRESENCE_TICK_MS: "0" }, "PRESENCE_TICK_MS"],
    ["a zero retention", { PRESENCE_RETENTION_MS: "0" }, "PRESENCE_RETENTION_MS"],
    ["a non-numeric retention", { PRESENCE_RETENTION_MS: "7d" }, "PRESENCE_RETENTION_MS"],
    ["a tiny heartbeat interval", { PRESENCE_HEARTBEAT_INTERVAL_MS: "10" }, "PRESENCE_HEARTBEAT_INTERVAL_MS"],
    ["a zero rate", { PRESENCE_RATE_PER_SEC: "0" }, "PRESENCE_RATE_PER_SEC"],
    ["a negative burst", { PRESENCE_RATE_BURST: "-4" }, "PRESENCE_RATE_BURST"],
    ["a non-numeric client cap", { PRESENCE_MAX_CLIENTS: "lots" }, "PRESENCE_MAX_CLIENTS"],
    ["a zero per-user cap", { PRESENCE_MAX_CLIENTS_PER_USER: "0" }, "PRESENCE_MAX_CLIENTS_PER_USER"],
    ["a zero message cap", { PRESENCE_MAX_MESSAGE_BYTES: "0" }, "PRESENCE_MAX_MESSAGE_BYTES"],
    ["a zero history age", { PRESENCE_HISTORY_MS: "0" }, "PRESENCE_HISTORY_MS"],
    ["a negative history cap", { PRESENCE_HISTORY_MAX: "-1" }, "PRESENCE_HISTORY_MAX"],
    ["a history cap past 100,000", { PRESENCE_HISTORY_MAX: "100001" }, "PRESENCE_HISTORY_MAX"],
    ["directory parts past 4096", { PRESENCE_DIRECTORY_PARTS: "4097" }, "PRESENCE_DIRECTORY_PARTS"],
    ["no ban replica", { PRESENCE_BAN_REPLICAS: "0" }, "PRESENCE_BAN_REPLICAS"],
    ["ban replicas past 256", { PRESENCE_BAN_REPLICAS: "257" }, "PRESENCE_BAN_REPLICAS"],
    ["fractional ban replicas", { PRESENCE_BAN_REPLICAS: "2.5" }, "PRESENCE_BAN_REPLICAS"],
    ["zero index shards", { PRESENCE_INDEX_SHARDS: "0" }, "PRESENCE_INDEX_SHARDS"],
    ["index shards past 1024", { PRESENCE_INDEX_SHARDS: "1025" }, "PRESENCE_INDEX_SHARDS"],
    ["fractional index shards", { PRESENCE_INDEX_SHARDS: "2.5" }, "PRESENCE_INDEX_SHARDS"],
    ["non-numeric index shards", { PRESENCE_INDEX_SHARDS: "many" }, "PRESENCE_INDEX_SHARDS"],
    [
      "a timeout equal to the interval",
      { PRESENCE_HEARTBEAT_INTERVAL_MS: "5000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "5000" },
      "PRESENCE_HEARTBEAT_TIMEOUT_MS",
    ],
    [
      "a timeout below the interval",
      { PRESENCE_HEARTBEAT_INTERVAL_MS: "5000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "4000" },
      "PRESENCE_HEARTBEAT_TIMEOUT_MS",
    ],
    ["a timeout below the default interval", { PRESENCE_HEARTBEAT_TIMEOUT_MS: "9000" }, "PRESENCE_HEARTBEAT_TIMEOUT_MS"],
  ])("throws on %s, naming the variable", (_what, env, name) => {
    expect(() => loadConfig(env)).toThrow(Error);
    expect(() => loadConfig(env)).toThrow(new RegExp(`invalid presence configuration:[\\s\\S]*${name}`));
  });

  it("names every bad variable at once", () => {
    let message = "";
    try {
      loadConfig({ PRESENCE_GRACE_MS: "-5", PRESENCE_TICK_MS: "soon" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("PRESENCE_GRACE_MS");
    expect(message).toContain("PRESENCE_TICK_MS");
  });
});

describe("loadConfig: identity and access settings", () => {
  const SECRET = "s".repeat(32);

  it("turns auth on with a secret or a JWKS URL, with the defaults for the rest", () => {
    expect(loadConfig({ PRESENCE_AUTH_SECRET: SECRET }).auth).toEqual({
      secret: SECRET,
      jwksUrl: null,
      issuer: undefined,
      audience: undefined,
      clockToleranceSec: 5,
      allowAnonymousObservers: false,
    });
    expect(loadConfig({ PRESENCE_AUTH_JWKS_URL: "https://id.example/.well-known/jwks.json", PRESENCE_ALLOW_ANONYMOUS_OBSERVERS: "true" }).auth).toMatchObject({
      secret: null,
      jwksUrl: "https://id.example/.well-known/jwks.json",
      allowAnonymousObservers: true,
    });
  });

  it("reads the server key, the policy and the allowed origins", () => {
    const config = loadConfig({
      PRESENCE_SERVER_KEY: "k".repeat(16),
      PRESENCE_CLIENT_POLICY: "newest-per-type",
      PRESENCE_ALLOWED_ORIGINS: "https://a.example, https://b.example/",
    });
    expect(config).toMatchObject({ serverKey: "k".repeat(16), clientPolicy: "newest-per-type", allowedOrigins: ["https://a.example", "https://b.example"] });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ["a short secret", { PRESENCE_AUTH_SECRET: "short" }, /PRESENCE_AUTH_SECRET/],
    ["a JWKS URL that is not http(s)", { PRESENCE_AUTH_JWKS_URL: "ftp://id.example/jwks" }, /PRESENCE_AUTH_JWKS_URL/],
    ["a short server key", { PRESENCE_SERVER_KEY: "abc" }, /PRESENCE_SERVER_KEY/],
    ["an unknown policy", { PRESENCE_CLIENT_POLICY: "oldest" }, /PRESENCE_CLIENT_POLICY/],
    ["a flag that is not a boolean", { PRESENCE_ALLOW_ANONYMOUS_OBSERVERS: "yes" }, /PRESENCE_ALLOW_ANONYMOUS_OBSERVERS/],
  ])("refuses %s, naming the variable", (_what, env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });

  it("never puts a secret into its error message", () => {
    const secret = "not-long-enough-secret";
    expect(() => loadConfig({ PRESENCE_AUTH_SECRET: secret, PRESENCE_SERVER_KEY: "short-key" })).toThrow(/PRESENCE_AUTH_SECRET/);
    try {
      loadConfig({ PRESENCE_AUTH_SECRET: secret, PRESENCE_SERVER_KEY: "short-key" });
    } catch (error) {
      expect(String(error)).not.toContain(secret);
      expect(String(error)).not.toContain("short-key");
    }
  });
});

describe("readConfig: validated once per environment", () => {
  it("answers a new env object with the same PRESENCE_* values from the cache (PartyKit makes one per request)", () => {
    const first = readConfig({ PRESENCE_GRACE_MS: "1234", OTHER: "a" });
    const second = readConfig({ OTHER: "b", PRESENCE_GRACE_MS: "1234" });
    expect(second).toBe(first);
    expect(first.ok && first.config.graceMs).toBe(1234);
  });

  it("validates an environment whose PRESENCE_* values differ afresh", () => {
    const first = readConfig({ PRESENCE_GRACE_MS: "1234" });
    const other = readConfig({ PRESENCE_GRACE_MS: "4321" });
    expect(other).not.toBe(first);
    expect(other.ok && other.config.graceMs).toBe(4321);
    const bad = readConfig({ PRESENCE_GRACE_MS: "soon" });
    expect(bad.ok).toBe(false);
  });
});
