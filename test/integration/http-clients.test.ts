/**
 * HTTP clients (members without a socket, kept alive by heartbeats with a TTL) against a real
 * engine (this run's: `partykit dev` or `wrangler dev`): a device helper is a member to every
 * socket, herenow and the user directory, gets a push and acknowledges it, and leaves on
 * stop; a client that stops renewing goes offline at its deadline exactly; clients survive
 * a `kill -9` with their deadlines. Real time only with generous margins: the deadlines are
 * checked by value (the room stamps `since` with the deadline), not by the clock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClientPresenceEvent, PresenceClient } from "../../client/index.ts";
import { createPresenceDevice, type HeldPush, type PresenceDevice } from "../../client/device.ts";
import { createPresenceApi, PresenceHttpError } from "../../client/server.ts";
import { freshChannel, getJson, joined, PROBE_PREFIX, quietUntil, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { roomStats } from "../support/liveness.ts";

const host = inject("host");
const api = createPresenceApi({ host });
const open: PresenceClient[] = [];
const devices: PresenceDevice[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const device of devices.splice(0)) if (device.running) await device.stop().catch(() => undefined);
});

async function watch(on: string, channel: string): Promise<{ watcher: PresenceClient; seen: ClientPresenceEvent[] }> {
  const watcher = await joined(on, { channel });
  open.push(watcher);
  const seen: ClientPresenceEvent[] = [];
  watcher.on("presence", (event) => event.member.id.startsWith(PROBE_PREFIX) || seen.push(event));
  return { watcher, seen };
}

describe("HTTP clients", () => {
  it("keeps a device online by heartbeats: a member to sockets, herenow and the directory; it gets a push, acknowledges it, and leaves on stop", async () => {
    const channel = freshChannel("device");
    const { watcher, seen } = await watch(host, channel);
    const pushes: HeldPush[] = [];
    const device = createPresenceDevice({
      host,
      channel,
      clientId: "claw-1",
      userId: "machine-1",
      data: { coins: 0 },
      ttlMs: 6000,
      renewEveryMs: 1000,
      onPush: (push) => pushes.push(push),
    });
    devices.push(device);
    const first = await device.start();
    expect(first).toMatchObject({ clientId: "claw-1", userId: "machine-1", clientType: "device", clientAmount: 1, userAmount: 1 });
    await waitFor("the watcher to see the device", () => watcher.member("machine-1")?.status === "online");
    expect(watcher.member("machine-1")).toMatchObject({ data: { coins: 0 }, clients: 1, clientTypes: { device: 1 } });
    const { body } = await getJson(host, `/parties/main/${channel}?includeUsers=true`);
    expect(body.content.channels[channel]).toMatchObject({ clientAmount: 1, userAmount: 1, clientTypes: { device: 1 }, users: [{ id: "machine-1", clientType: "device" }] });
    const users = await waitFor("the directory to list it", async () => {
      const status = (await api.users(["machine-1"]))["machine-1"];
      return status?.online ? status : null;
    });
    expect(users.channels).toEqual([{ channel, clientAmount: 1, clientTypes: { device: 1 } }]);

    // A push waits for its next heartbeat; the helper hands it over and acknowledges it at once.
    const result = await api.push("machine-1", { coins: 5 }, { channel, timeoutMs: 10_000 });
    expect(result).toMatchObject({ clients: 1, acked: [{ channel, connectionId: "http/claw-1", clientType: "device" }], unacked: [] });
    expect(pushes).toEqual([{ id: result.id, data: { coins: 5 }, channel, from: null }]);

    await device.setData({ coins: 5 });
    await waitFor("the update", () => JSON.stringify(watcher.member("machine-1")?.data) === '{"coins":5}');
    await device.stop();
    await waitFor("the device to leave", () => watcher.member("machine-1") === undefined);
    expect(seen.map((event) => `${event.action}:${event.member.id}`)).toEqual(["join:machine-1", "update:machine-1", "leave:machine-1"]);
  });

  it("goes offline at its deadline exactly when no heartbeat comes, and comes back with the next", async () => {
    const channel = freshChannel("device-ttl");
    const { watcher, seen } = await watch(host, channel);
    const answer = await api.heartbeat(channel, "sensor-9", { userId: "sensor-9", clientType: "sensor", ttlMs: 2000 });
    await waitFor("the sensor online", () => watcher.member("sensor-9")?.status === "online");
    const offline = await waitFor("the sensor offline", () => seen.find((event) => event.action === "offline"), 15_000);
    expect(offline.member).toMatchObject({ id: "sensor-9", status: "offline", since: answer.expiresAt });
    expect((await roomStats(host, channel)).httpClients).toBe(0);
    const again = await api.heartbeat(channel, "sensor-9", { userId: "sensor-9", clientType: "sensor", ttlMs: 30_000 });
    expect(again.clientAmount).toBe(1);
    await waitFor("the sensor back online", () => watcher.member("sensor-9")?.status === "online");
    await api.removeClient(channel, "sensor-9");
  });

  it("refuses a bad client id, someone else's client id and a TTL past the maximum, with the envelope, and changes nothing", async () => {
    const channel = freshChannel("device-bad");
    await api.heartbeat(channel, "owned", { userId: "owner", ttlMs: 30_000 });
    // Each outcome is caught where the request starts, so no rejection is left unhandled while an earlier one is awaited.
    const outcome = (attempt: Promise<unknown>) => attempt.then(() => null, (e: unknown) => e);
    const refusals: Array<[Promise<unknown>, number, string]> = [
      [outcome(api.heartbeat(channel, "bad id!", { userId: "x", ttlMs: 5000 })), 400, "bad_request"],
      [outcome(api.heartbeat(channel, "owned", { userId: "thief", ttlMs: 5000 })), 409, "conflict"],
      [outcome(api.heartbeat(channel, "x", { userId: "x", ttlMs: 24 * 3600_000 })), 400, "bad_request"],
    ];
    for (const [attempt, code, error] of refusals) {
      const thrown = await attempt;
      expect(thrown).toBeInstanceOf(PresenceHttpError);
      expect(thrown).toMatchObject({ code, error });
    }
    const stats = await roomStats(host, channel);
    expect(stats).toMatchObject({ httpClients: 1, clientAmount: 1, userAmount: 1, refusedRequests: { bad_request: 2, conflict: 1 } });
    expect((await api.clients(channel)).clients.map((c) => `${c.clientId}:${c.userId}`)).toEqual(["owned:owner"]);
    await api.removeClient(channel, "owned");
  });
});

describe("HTTP clients across a kill -9", () => {
  let server: DevServer | undefined;
  beforeAll(async () => {
    server = await startDevServer();
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps a client whose TTL has not passed, and announces offline the one whose TTL passed while the server was down", async () => {
    const first = server!;
    const channel = freshChannel("device-kill");
    const local = createPresenceApi({ host: first.host });
    await local.heartbeat(channel, "long", { userId: "stays", ttlMs: 120_000 });
    const short = await local.heartbeat(channel, "short", { userId: "lapses", ttlMs: 3000 });
    await first.kill9();
    // Down past the short one's deadline.
    await new Promise((done) => setTimeout(done, Math.max(0, short.expiresAt + 500 - Date.now())));
    server = await startDevServer({ port: first.port, persistDir: first.persistDir });
    const { watcher } = await watch(server.host, channel);
    await waitFor("the lapsed one offline, the other online", () => watcher.member("lapses")?.status === "offline" && watcher.member("stays")?.status === "online", 15_000);
    expect(watcher.member("lapses")).toMatchObject({ since: short.expiresAt });
    const listed = (await createPresenceApi({ host: server.host }).clients(channel)).clients;
    expect(listed.map((c) => c.clientId)).toEqual(["long"]);
    // Nothing else is announced once the room settled.
    const after: string[] = [];
    watcher.on("presence", (event) => event.member.id.startsWith(PROBE_PREFIX) || after.push(`${event.action}:${event.member.id}`));
    await quietUntil(server.host, channel, watcher, Date.now() + 1000);
    expect(after).toEqual([]);
  });
});
