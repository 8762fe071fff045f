/**
 * Bans against a real engine (this run's), with auth on: a disconnect with `banSeconds` closes
 * the user's socket (4004), then its connects, its device's heartbeats (by its token or by the
 * server) and its fresh tokens are refused with 403 `banned`; the ban survives `kill -9`, and
 * once lifted the user gets back in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchHereNow, PresenceHttpError } from "../../client/http.ts";
import { httpClientsApi } from "../../client/http-clients.ts";
import type { PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, joined, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { SECRET, token } from "../support/tokens.ts";

const SERVER_KEY = "ban-test-server-key-0123456789abcdef";
/** Auth on (a herenow without a token answers 401: ready at any answer). */
const VARS = { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_AUTH_SECRET: SECRET };

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
    const back = await joined(host, { channel, userId, token: userToken });
    open.push(back);
    expect(back.member(userId)?.status).toBe("online");
    expect(await outcome(api.heartbeat(channel, "phone", { userId, ttlMs: 30_000 }))).toBe("ok");
  });
});
