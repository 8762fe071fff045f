/**
 * Liveness against real `partykit dev` servers: heartbeats and half-open sockets (also in a
 * room that hibernates between alarms, on its own server), reconnects within and beyond
 * grace, a flapping client, and refusal of an invalid configuration (a server per case).
 * The shared server runs with TEST_VARS: grace 1000 ms, heartbeat interval 1000, timeout 4000.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { freshChannel, getJson, joined, jsonBody, quietUntil, type RawSocket, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, TEST_VARS } from "../support/dev-server.ts";
import {
  connectAndAwaitClose,
  hereNowUsers,
  Recorder,
  roomStats,
  type SilenceMethod,
  silence,
  startAnyDevServer,
} from "../support/liveness.ts";

const host = inject("host");
const GRACE = Number(TEST_VARS.PRESENCE_GRACE_MS);
const TIMEOUT = Number(TEST_VARS.PRESENCE_HEARTBEAT_TIMEOUT_MS);
/** Slack for timers and the room's tick and alarm on a loaded 2-core machine. */
const LATE = 4000;

const clients: PresenceClient[] = [];
const raws: RawSocket[] = [];
const recorders: Recorder[] = [];

/** Starts recording what a client reports (stopped after the test). */
function recorded(client: PresenceClient): Recorder {
  const recorder = new Recorder(client);
  recorders.push(recorder);
  return recorder;
}

/** A joined member that already sees itself online (its own join may come in the first diff). */
async function member(options: { channel: string; userId: string; userData?: null | Record<string, number> }) {
  const client = await joined(host, options);
  clients.push(client);
  await waitFor(`${options.userId} to see itself`, () => client.member(options.userId)?.status === "online");
  return { client, rec: recorded(client) };
}

async function raw(channel: string, query: Record<string, string>): Promise<RawSocket> {
  const socket = await rawSocket(host, channel, query);
  raws.push(socket);
  return socket;
}

afterEach(() => {
  for (const recorder of recorders.splice(0)) recorder.stop();
  for (const client of clients.splice(0)) client.close();
  // terminate(): a paused socket would never finish a closing handshake.
  for (const socket of raws.splice(0)) socket.ws.terminate();
});

/** Where the last record of a kind is in a recorder's log (-1: none). */
function lastIndex(recorder: Recorder, kind: string): number {
  let found = -1;
  recorder.log.forEach((entry, i) => {
    if (entry.kind === kind) found = i;
  });
  return found;
}

/** The member list as comparable rows: id, status, data, sorted. */
function rows(members: Array<{ id: string; status: string; data: unknown }>) {
  return members.map(({ id, status, data }) => ({ id, status, data })).sort((a, b) => a.id.localeCompare(b.id));
}

/** A client's view of the online members must equal herenow over HTTP (distinct and not). */
async function expectViewEqualsHereNow(client: PresenceClient, channel: string) {
  const distinct = await hereNowUsers(host, channel, true);
  const perClient = await hereNowUsers(host, channel, false);
  const online = client.online;
  expect(rows(online)).toEqual(rows(distinct.users.map((u) => ({ ...u, status: "online" }))));
  expect(client.counts).toEqual({ clientAmount: perClient.clientAmount, userAmount: perClient.userAmount });
  expect(perClient.users.length).toBe(online.reduce((n, m) => n + m.clients, 0));
}

describe("heartbeat timeout", () => {
  it.each<SilenceMethod>(["ws.pause()", "ws._socket.pause()"])(
    "stops counting a socket that neither sends nor reads (%s) and announces it offline after timeout and grace",
    async (method) => {
      const channel = freshChannel("hb-silent");
      const { client: watcher, rec } = await member({ channel, userId: "watcher" });
      const connectedAt = Date.now();
      const silent = await raw(channel, { userId: "silent" });
      silence(silent.ws, method);
      await waitFor("the watcher to see the silent user join", () => watcher.member("silent")?.status === "online");

      const before = await roomStats(host, channel);
      expect(before.sockets).toBe(2);
      expect(before.closes.heartbeatTimeout).toBeUndefined();

      // The room gives up on the socket: counted as a heartbeat close, and no longer among
      // the room's sockets at once, although the peer never completes the closing handshake.
      let last: unknown = null;
      const decided = await waitFor(
        "the room to close the silent socket",
        async () => {
          const stats = await roomStats(host, channel);
          last = { at: Date.now() - connectedAt, stats, watcher: rec.log };
          return stats.closes.heartbeatTimeout ? stats : null;
        },
        TIMEOUT + LATE,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
      });
      expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(TIMEOUT - 100);
      expect(decided.closes.heartbeatTimeout).toBe(1);
      expect(decided.sockets).toBe(1);

      await waitFor("the watcher to see the silent user go offline", () => watcher.member("silent")?.status === "offline", GRACE + LATE);
      const offline = rec.presence("silent").find((e) => e.action === "offline")!;
      expect(offline.at - connectedAt).toBeGreaterThanOrEqual(TIMEOUT + GRACE - 100);
      expect(rec.actions("silent")).toEqual(["join", "offline"]);
      expect(watcher.counts).toEqual({ clientAmount: 1, userAmount: 1 });

      const after = await roomStats(host, channel);
      expect(after).toMatchObject({ clientAmount: 1, userAmount: 1, sockets: 1 });
      expect(after.closes.heartbeatTimeout).toBe(1);
      // The watcher itself was never in doubt.
      expect(rec.actions("watcher")).toEqual([]);
      expect(rec.count("close")).toBe(0);
    },
  );

  it("keeps a raw socket that pings every second online past the timeout", async () => {
    const channel = freshChannel("hb-ping");
    const { client: watcher, rec } = await member({ channel, userId: "watcher" });
    const pinger = await raw(channel, { userId: "pinger" });
    let pings = 0;
    const timer = setInterval(() => {
      pinger.send({ type: "ping" });
      pings++;
    }, 1000);
    const joinedAt = Date.now();
    try {
      await waitFor("the watcher to see the pinger join", () => watcher.member("pinger")?.status === "online");
      // Past the timeout and a grace: a room that ignored the pings has closed it and announced it by then.
      await quietUntil(host, channel, watcher, joinedAt + TIMEOUT + GRACE + 1500);
    } finally {
      clearInterval(timer);
    }
    expect(pinger.ws.readyState).toBe(pinger.ws.OPEN);
    // Every ping was answered (the last one may still be on its way).
    await waitFor("a pong for every ping", () => pinger.messages.filter((m) => m.type === "pong").length >= pings);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(watcher.member("pinger")?.status).toBe("online");
    expect(rec.actions("pinger")).toEqual(["join"]);
    const stats = await roomStats(host, channel);
    expect(stats.closes.heartbeatTimeout).toBeUndefined();
    expect(stats).toMatchObject({ clientAmount: 2, userAmount: 2, sockets: 2 });
  });

  it("keeps a PresenceClient online well past the timeout because it pings by itself", async () => {
    const channel = freshChannel("hb-client");
    const { client: watcher, rec } = await member({ channel, userId: "watcher" });
    const { client: tab, rec: tabRec } = await member({ channel, userId: "tab" });
    await waitFor("the watcher to see the tab join", () => watcher.member("tab")?.status === "online");
    await quietUntil(host, channel, watcher, Date.now() + 2 * TIMEOUT + GRACE);
    expect(tab.socket.readyState).toBe(1);
    // No close at all: not even a quiet reconnect of its own after a missed heartbeat.
    expect(tabRec.count("close")).toBe(0);
    expect(rec.count("close")).toBe(0);
    expect(watcher.member("tab")?.status).toBe("online");
    expect(rec.events()).toEqual(["join tab"]);
    const stats = await roomStats(host, channel);
    expect(stats.closes.heartbeatTimeout).toBeUndefined();
    expect(stats).toMatchObject({ clientAmount: 2, userAmount: 2, sockets: 2 });
  });
});

describe("heartbeat timeout in a room that hibernates", () => {
  // With nothing arriving, `partykit dev` evicts the room after ~10 s and the alarm wakes
  // it again: the silent sockets must still be closed, counted from their real last message.
  const vars = { PRESENCE_HEARTBEAT_INTERVAL_MS: "5000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "15000", PRESENCE_GRACE_MS: "1000" };
  const timeout = Number(vars.PRESENCE_HEARTBEAT_TIMEOUT_MS);
  const grace = Number(vars.PRESENCE_GRACE_MS);
  let server: DevServer | undefined;
  beforeAll(async () => {
    server = await startAnyDevServer(vars);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it(
    "closes sockets that stay silent while the room hibernates between its alarms",
    async () => {
      const channel = freshChannel("hb-hibernate");
      const connectedAt = Date.now();
      // One peer that never reads nor sends (half-open), one that reads but never sends.
      const halfOpen = await rawSocket(server!.host, channel, { userId: "half-open" });
      raws.push(halfOpen);
      silence(halfOpen.ws, "ws.pause()");
      const mute = await rawSocket(server!.host, channel, { userId: "mute" });
      raws.push(mute);
      await waitFor("mute's snapshot", () => mute.messages.some((m) => m.type === "sync"));
      const baseline = (await roomStats(server!.host, channel)).starts;
      // From here nothing touches the room (a request would wake it): only its alarm can close
      // the silent sockets, and the mute peer hears of it without asking.
      const closed = await Promise.race([mute.closed, sleep(timeout + grace + 20_000).then(() => null)]);
      const closedAfterMs = Date.now() - connectedAt;
      expect(closed, `mute was not closed within ${closedAfterMs} ms`).toMatchObject({ code: 4001 });
      expect(closedAfterMs, "closed no sooner than the heartbeat timeout").toBeGreaterThanOrEqual(timeout);
      // Asked right after that close, the room is the one that made it (awake: eviction takes ~10 s
      // of idleness): a start since the baseline means it was evicted and its alarm woke it.
      const stats = await roomStats(server!.host, channel);
      expect(stats.starts - baseline, `the room never restarted between the connect and the close: ${JSON.stringify(stats)}`).toBeGreaterThanOrEqual(1);
      expect(stats.closes.heartbeatTimeout, `heartbeat closes: ${JSON.stringify(stats)}`).toBe(2);
      expect(stats).toMatchObject({ clientAmount: 0, userAmount: 0, sockets: 0 });
      const here = await getJson(server!.host, `/parties/main/${channel}?includeUsers=true`);
      expect(here.body.content.channels[channel].users).toEqual([]);
    },
    timeout + grace + 30_000,
  );
});

describe("reconnects", () => {
  it("announces nothing when a partysocket reconnects within grace with the same connection id", async () => {
    const channel = freshChannel("re-blip");
    const { client: watcher, rec } = await member({ channel, userId: "watcher" });
    const { client: blip, rec: blipRec } = await member({ channel, userId: "blip", userData: { tab: 1 } });
    await waitFor("the watcher to see blip join", () => watcher.member("blip")?.status === "online");
    const id = blip.connectionId;
    const syncs = blipRec.count("sync");

    const reconnectedAt = Date.now();
    blip.socket.reconnect();
    await waitFor("blip to resync after its reconnect", () => blipRec.count("sync") > syncs);
    await quietUntil(host, channel, watcher, reconnectedAt + GRACE + 500);

    expect(blip.connectionId).toBe(id);
    expect(rec.events()).toEqual(["join blip"]);
    expect(blipRec.events()).toEqual([]);
    // Counted once, not once per socket it ever had.
    const here = await hereNowUsers(host, channel, false);
    expect(here).toMatchObject({ clientAmount: 2, userAmount: 2 });
    expect(here.users.map((u) => u.id).sort()).toEqual(["blip", "watcher"]);
    await expectViewEqualsHereNow(watcher, channel);
    await expectViewEqualsHereNow(blip, channel);
  });

  it("announces nothing for a client that drops and reconnects 20 times in a row, each time back within grace, and its watcher ends equal to herenow", async () => {
    const channel = freshChannel("re-flap");
    const { client: watcher, rec } = await member({ channel, userId: "watcher" });
    const { client: flapper, rec: flapRec } = await member({ channel, userId: "flapper", userData: { n: 1 } });
    await waitFor("the watcher to see the flapper join", () => watcher.member("flapper")?.status === "online");
    const syncs = flapRec.count("sync");

    for (let i = 0; i < 20; i++) {
      const before = flapRec.count("sync");
      flapper.socket.reconnect();
      // Back before the next drop: each reconnect gets its snapshot.
      await waitFor(`the flapper's snapshot after drop ${i + 1}`, () => flapRec.count("sync") > before && flapper.socket.readyState === 1);
    }
    await waitFor("the flapper to be connected and synced", () => flapper.socket.readyState === 1 && lastIndex(flapRec, "sync") > lastIndex(flapRec, "close"));
    await quietUntil(host, channel, watcher, Date.now() + GRACE + 500);

    // The 20 drops the test made (partysocket may add one of its own if a connect times out
    // on a loaded machine), and none by the room.
    const closes = flapRec.log.flatMap((e) => (e.kind === "close" ? [e.code] : []));
    expect(closes.length).toBeGreaterThanOrEqual(20);
    expect(closes.filter((code) => code !== 1000)).toEqual([]);
    expect(flapRec.count("sync") - syncs).toBeGreaterThanOrEqual(20);
    expect(rec.presence("flapper")).toEqual([{ at: expect.any(Number), kind: "presence", action: "join", id: "flapper", resync: false }]);
    expect(rec.count("close")).toBe(0);
    expect(watcher.member("flapper")).toMatchObject({ status: "online", clients: 1, data: { n: 1 } });
    await expectViewEqualsHereNow(watcher, channel);
    await expectViewEqualsHereNow(flapper, channel);
    // No socket left behind by the flapping.
    await waitFor("the room to hold two sockets", async () => (await roomStats(host, channel)).sockets === 2);
  });

  it("announces offline and then online for a client whose network is gone for longer than grace", async () => {
    const channel = freshChannel("re-long");
    const { client: watcher, rec } = await member({ channel, userId: "watcher" });
    const { client: away, rec: awayRec } = await member({ channel, userId: "away" });
    await waitFor("the watcher to see away join", () => watcher.member("away")?.status === "online");

    const closedAt = Date.now();
    away.socket.close();
    await waitFor("the watcher to see away go offline", () => watcher.member("away")?.status === "offline", GRACE + LATE);
    const offline = rec.presence("away").find((e) => e.action === "offline")!;
    expect(offline.at - closedAt).toBeGreaterThanOrEqual(GRACE - 100);
    expect(watcher.counts).toEqual({ clientAmount: 1, userAmount: 1 });
    await sleep(500);

    const syncs = awayRec.count("sync");
    away.socket.reconnect();
    await waitFor("the watcher to see away come back", () => watcher.member("away")?.status === "online", LATE);
    await waitFor("away to resync", () => awayRec.count("sync") > syncs);

    expect(rec.actions("away")).toEqual(["join", "offline", "online"]);
    expect(rec.presence("away").every((e) => !e.resync)).toBe(true);
    expect(watcher.counts).toEqual({ clientAmount: 2, userAmount: 2 });
    await expectViewEqualsHereNow(watcher, channel);
    await expectViewEqualsHereNow(away, channel);
  });
});

describe("configuration", () => {
  const cases: Array<{ what: string; vars: Record<string, string>; variable: string }> = [
    { what: "a negative grace", vars: { PRESENCE_GRACE_MS: "-5" }, variable: "PRESENCE_GRACE_MS" },
    {
      what: "a heartbeat timeout smaller than the interval",
      vars: { PRESENCE_HEARTBEAT_INTERVAL_MS: "5000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "2000" },
      variable: "PRESENCE_HEARTBEAT_TIMEOUT_MS",
    },
    { what: "a client cap that is not a number", vars: { PRESENCE_MAX_CLIENTS: "lots" }, variable: "PRESENCE_MAX_CLIENTS" },
  ];

  it.each(cases)("refuses HTTP and sockets with a message naming the variable when started with $what", async ({ vars, variable }) => {
    const server = await startAnyDevServer(vars);
    try {
      const channel = freshChannel("cfg");
      for (const path of [`/parties/main/${channel}`, `/parties/main/${channel}?stats`, `/parties/main/${channel}?includeUsers=true`]) {
        const response = await fetch(`http://${server.host}${path}`);
        const body = (await jsonBody(response, path)) as { code: number; error: string; message: string };
        expect(response.status, path).toBe(500);
        expect(body).toMatchObject({ code: 500, error: "misconfigured" });
        expect(body.message).toContain(variable);
        // A clear sentence, never a stack trace.
        expect(body.message).not.toMatch(/\.(ts|js):\d+|\n\s+at /);
      }
      // The socket is refused before the upgrade, with the same clear message: it never
      // opens, so it can neither be counted nor get a snapshot.
      for (const query of ["?userId=alice", ""]) {
        const refusal = await connectAndAwaitClose(`ws://${server.host}/parties/main/${channel}${query}`).then(
          (closed) => ({ opened: closed.opened, code: closed.code, status: 0, body: "" }),
          (error: { status: number; body: string }) => ({ opened: false, code: 0, status: error.status, body: error.body }),
        );
        expect(refusal.opened, `socket ${query || "(observer)"} must not open`).toBe(false);
        expect(refusal.status).toBe(500);
        expect(JSON.parse(refusal.body)).toMatchObject({ code: 500, error: "misconfigured" });
        expect(refusal.body).toContain(variable);
      }
    } finally {
      await server.stop();
    }
  });
});
