/**
 * A room sleeps with every feature on, on both engines (workerd evicts a room after ~10 s
 * without an event: on Workers the engine answers pings, so members that only ping let it
 * sleep; on PartyKit every ping reaches the room, so here the members ping once a minute):
 * webhooks (one batch delivered, one waiting for a retry), auth with the server key, history,
 * an HTTP client with a far deadline, a watch list and the directory.
 * Nothing the room started may outlive the work it belongs to: a timer left pending (a
 * delivery's timeout), a tick armed again and again (a retry waiting), an open request. Each
 * of those kept the room awake; this test fails with any of them put back. `starts` in
 * `?stats` counts the room's wakes: asked after a quiet spell, it tells whether it slept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { createPresenceApi, type PresenceApi } from "../../client/server.ts";
import { freshChannel, joined, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer } from "../support/dev-server.ts";
import { SECRET, token } from "../support/tokens.ts";
import { type Receiver, startReceiver, webhookSecret } from "../support/webhook-receiver.ts";

/** workerd evicts an object after ~10 s without an event; a delivery's timeout is far longer than the window. */
const SLEEP_MS = 20_000;
const SERVER_KEY = "asleep-server-key-0123456789";
/** Longer than the quiet window: a timer left pending by a delivery, or a retry that ticks, would span it. */
const WEBHOOK_TIMEOUT_MS = 90_000;
const WEBHOOK_RETRY_MS = 90_000;

let server: DevServer;
let receiver: Receiver;
let api: PresenceApi;
const open: PresenceClient[] = [];

beforeAll(async () => {
  const secret = webhookSecret();
  receiver = await startReceiver(secret);
  server = await startDevServer({
    readyOnAnyStatus: true,
    vars: {
      // No ping in the quiet window: on PartyKit each would be an event that keeps the room up.
      PRESENCE_HEARTBEAT_INTERVAL_MS: "60000",
      PRESENCE_HEARTBEAT_TIMEOUT_MS: "180000",
      PRESENCE_GRACE_MS: "1000",
      PRESENCE_AUTH_SECRET: SECRET,
      PRESENCE_SERVER_KEY: SERVER_KEY,
      PRESENCE_WEBHOOK_URL: receiver.url,
      PRESENCE_WEBHOOK_SECRET: secret,
      PRESENCE_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
      PRESENCE_WEBHOOK_RETRY_MS: String(WEBHOOK_RETRY_MS),
    },
  });
  api = createPresenceApi({ host: server.host, serverKey: SERVER_KEY });
}, 150_000);

afterAll(async () => {
  for (const c of open.splice(0)) c.close();
  await server?.stop();
  await receiver?.close();
});

async function member(channel: string, userId: string): Promise<PresenceClient> {
  const c = await joined(server.host, { channel, userId, token: await token({ userId, channels: [channel] }) });
  open.push(c);
  return c;
}

describe("a room with every feature on", () => {
  it("sleeps while its members are quiet, with a webhook retry waiting, an HTTP client, a watch list and history, and wakes as it was", async () => {
    const channel = freshChannel("wk-asleep");
    const ann = await member(channel, "ann");
    const bob = await member(channel, "bob");
    ann.watchUsers(["bob", "carol"]);
    await waitFor("ann's watch list", () => ann.watchedUser("bob")?.online === true);
    await api.heartbeat(channel, "sensor-1", { userId: "sensor", ttlMs: 3_600_000 });
    await waitFor("the first batch delivered", () => receiver.channelEvents(channel).length >= 3);
    // The next batch of this channel fails once: its retry waits WEBHOOK_RETRY_MS, past the window.
    let failed = 0;
    receiver.answer = (request) => (request.payload.type === "presence.events" && request.payload.data.channel === channel && failed++ === 0 ? { status: 500 } : { status: 200 });
    const carol = await member(channel, "carol");
    await waitFor("carol's batch refused once", () => failed === 1);
    await waitFor("ann sees carol", () => ann.member("carol")?.status === "online");
    const settled = await api.stats(channel);
    expect(settled.webhooks).toMatchObject({ enabled: true, pending: 1, failedAttempts: 1 });
    expect(settled).toMatchObject({ clientAmount: 4, userAmount: 4, httpClients: 1 });

    // Nothing at all for longer than the engine waits to evict.
    await sleep(SLEEP_MS);
    const woken = await api.stats(channel);
    expect(woken.starts - settled.starts, "the room slept through the window (this request woke it)").toBeGreaterThanOrEqual(1);
    expect(woken).toMatchObject({ clientAmount: 4, userAmount: 4, httpClients: 1, sockets: 3 });
    expect(woken.webhooks, "the retry still waits, kept in storage").toMatchObject({ pending: 1 });

    // It answers as before: history, the directory, the watch list and the members.
    const history = await api.history(channel);
    expect(history.events.map((e) => `${e.action} ${e.member.id}`)).toEqual(expect.arrayContaining(["join ann", "join bob", "join sensor", "join carol"]));
    const users = await api.users(["ann", "bob", "carol", "sensor"]);
    expect(Object.values(users).map((u) => u.online)).toEqual([true, true, true, true]);
    bob.close();
    await waitFor("ann hears bob offline, as a member and as a watched user", () => ann.member("bob")?.status === "offline" && ann.watchedUser("bob")?.online === false);
    expect([ann, carol].map((c) => c.socket.readyState)).toEqual([1, 1]);
  }, 120_000);
});
