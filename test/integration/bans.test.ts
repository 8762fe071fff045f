/**
 * Bans against a real engine (this run's), with auth on: a disconnect with `banSeconds` closes
 * the user's socket (4004), then its connects, its device's heartbeats (by its token or by the
 * server) and its fresh tokens are refused with 403 `banned`; the ban survives `kill -9` (the
 * restarted isolate's copy read through its ban replica, two of them here, from the root), and
 * once lifted the user gets back in. The replicas cannot be reached from outside.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchHereNow, PresenceHttpError } from "../../client/http.ts";
import { httpClientsApi } from "../../client/http-clients.ts";
import type { PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, joined, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { BAN_SPREAD_MS } from "../../party/server/ban-cache.ts";
import { SECRET, token } from "../support/tokens.ts";

const SERVER_KEY = "ban-test-server-key-0123456789abcdef";
/** Auth on (a herenow without a token answers 401: ready at any answer); the isolate reads the bans from one of two replicas. */
const VARS = { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_AUTH_SECRET: SECRET, PRESENCE_BAN_REPLICAS: "2" };

/** The error code a rejected call threw, or "ok" when it did not. */
const outcome = (attempt: Promise<unknown>) => attempt.then(
  () => "ok",
  (error: unknown) => (error instanceof PresenceHttpError ? `${error.code} ${error.error}` : String(error)),
);

describe("banning a user", () => {
  let server: DevServer | undefined;
  const open: PresenceClient[] = [];
  beforeAll(async () => {
    server = await startDevServer({ vars: VARS, readyOnAnyStatus: true });
  }, 150_000);
  afterAll(async () => {
    for (const c of open) c.close();
    await server?.stop();
  });

  it("refuses the user's sockets, devices and fresh tokens with 403 banned, also after kill -9, until the ban is lifted", async () => {
    const host = server!.host;
    const channel = freshChannel("ban");
    const userId = `banned-${Date.now().toString(36)}`;
    const userToken = () => token({ userId, channels: ["*"] });
    const api = createPresenceApi({ host, serverKey: SERVER_KEY });
    const ann = await joined(host, { channel, userId, token: userToken });
    open.push(ann);
    const closes: number[] = [];
    ann.on("close", (event) => closes.push(event.code));

    const before = Date.now();
    const result = await api.disconnect(userId, { reason: "abuse", banSeconds: 3600 });
    expect(result.clients).toBe(1);
    expect(result.bannedUntil).toBeGreaterThanOrEqual(before + 3600_000);
    await waitFor("the socket closed with 4004", () => closes.includes(4004));

    const refusals = async () => {
      const fresh = await userToken();
      const socket = await refusedConnect(host, `/parties/main/${channel}?userId=${userId}&token=${fresh}`);
      return {
        socket: `${socket.status} ${JSON.parse(socket.body).error}`,
        ownDevice: await outcome(httpClientsApi({ host, token: userToken }).heartbeat(channel, "phone", { userId, ttlMs: 30_000 })),
        serverDevice: await outcome(api.heartbeat(channel, "phone", { userId, ttlMs: 30_000 })),
        herenow: await outcome(fetchHereNow({ host }, { channels: [channel], token: fresh })),
      };
    };
    const refused = { socket: "403 banned", ownDevice: "403 banned", serverDevice: "403 banned", herenow: "403 banned" };
    expect(await refusals()).toEqual(refused);
    expect(await api.ban(userId)).toMatchObject({ userId, banned: true, ban: { until: result.bannedUntil, reason: "abuse" } });
    expect(await api.stats(channel)).toMatchObject({
      clientAmount: 0,
      httpClients: 0,
      refusedConnections: { banned: 1 },
      refusedRequests: { banned: 2 },
    });

    const first = server!;
    await first.kill9();
    server = await startDevServer({ port: first.port, persistDir: first.persistDir, vars: VARS, readyOnAnyStatus: true });
    expect(await refusals(), "the ban outlives the server").toEqual(refused);

    expect(await api.unban(userId)).toEqual({ userId, lifted: true });
    expect(await api.ban(userId)).toEqual({ userId, banned: false });
    // The lift holds at once in the isolate that made it, and everywhere within BAN_SPREAD_MS (6 s).
    const lifted = Date.now();
    await waitFor("the lift honoured", async () => (await outcome(fetchHereNow({ host }, { channels: [channel], token: await userToken() }))) === "ok", BAN_SPREAD_MS);
    expect(Date.now() - lifted).toBeLessThan(BAN_SPREAD_MS);
    const back = await joined(host, { channel, userId, token: userToken });
    open.push(back);
    expect(back.member(userId)?.status).toBe("online");
    expect(await outcome(api.heartbeat(channel, "phone", { userId, ttlMs: 30_000 }))).toBe("ok");
  });

  it("lets nothing from outside reach a ban replica: requests and sockets answer 404, as the index's other internals", async () => {
    const host = server!.host;
    const auth = { authorization: `Bearer ${SERVER_KEY}` };
    for (const room of ["bans-0", "bans-1", "bans-9"]) {
      expect((await fetch(`http://${host}/parties/index/${room}`, { headers: auth })).status, `GET ${room}`).toBe(404);
      const call = await fetch(`http://${host}/parties/index/${room}`, {
        method: "POST",
        headers: { ...auth, "x-presence-internal": "1", "content-type": "application/json" },
        body: JSON.stringify({ call: "bans", args: {} }),
      });
      expect(call.status, `a bans call to ${room} from outside`).toBe(404);
      const socket = await refusedConnect(host, `/parties/index/${room}`);
      expect(socket.status, `a socket to ${room}`).toBe(404);
      expect(JSON.parse(socket.body).message).toMatch(/only index\/all takes sockets/);
    }
    // The root's sockets still go on to the dashboard's admin check.
    expect((await refusedConnect(host, "/parties/index/all")).status).toBe(401);
  });
});
