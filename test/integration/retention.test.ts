/**
 * Retention against a real `partykit dev` with a short retention period: an offline member
 * leaves when the storage alarm fires, with nobody doing anything; retention counts from when
 * the member was last seen; and a room woken after the deadline never shows it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import type { ReadSync } from "../support/messages.ts";
import { freshChannel, getJson, joined, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer } from "../support/dev-server.ts";

const GRACE_MS = 500;
const RETENTION_MS = 2500;
let server: DevServer;
const open: PresenceClient[] = [];

beforeAll(async () => {
  server = await startDevServer({ vars: { PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_RETENTION_MS: String(RETENTION_MS) } });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function client(options: { channel: string; userId?: string; userData?: unknown }) {
  const c = await joined(server.host, options as Parameters<typeof joined>[1]);
  open.push(c);
  return c;
}

describe("retention of offline members", () => {
  it("announces leave when an offline member's retention runs out, from the alarm alone", async () => {
    const channel = freshChannel("retention");
    const watcher = await client({ channel });
    const bob = await client({ channel, userId: "Bob", userData: { v: 1 } });
    await waitFor("the watcher to see Bob", () => watcher.member("Bob"));
    const seen: Array<{ action: string; at: number }> = [];
    watcher.on("presence", (event) => event.member.id === "Bob" && seen.push({ action: event.action, at: Date.now() }));
    const closedAt = Date.now();
    bob.close();

    await waitFor("Bob's leave", () => seen.some((e) => e.action === "leave"), GRACE_MS + RETENTION_MS + 5000);
    expect(seen.map((e) => e.action)).toEqual(["offline", "leave"]);
    expect(seen[1]!.at - closedAt).toBeGreaterThanOrEqual(RETENTION_MS - 100);
    expect(watcher.member("Bob")).toBeUndefined();
    const stats = await getJson(server.host, `/parties/main/${channel}?stats`);
    expect(stats.body.content).toMatchObject({ members: 0, clientAmount: 0, userAmount: 0 });
  });

  it("keeps an offline user in the directory with lastSeen, and forgets it after retention", async () => {
    const channel = freshChannel("retention-users");
    const userId = `Fay-${Date.now().toString(36)}`;
    const fay = await client({ channel, userId, userData: { v: 1 } });
    const users = async () => (await getJson(server.host, `/users?userId=${userId}`)).body.content.users[userId];
    await waitFor("Fay online in the directory", async () => (await users()).online === true);
    const closedAt = Date.now();
    fay.close();
    await waitFor("Fay offline in the directory", async () => (await users()).online === false, GRACE_MS + 5000);
    const offline = await users();
    expect(offline).toMatchObject({ id: userId, online: false, data: { v: 1 }, channels: [] });
    expect(offline.lastSeen).toBeGreaterThanOrEqual(closedAt - 1000);
    await waitFor("Fay forgotten", async () => (await users()).lastSeen === null, RETENTION_MS + 5000);
    expect(await users()).toEqual({ id: userId, online: false, lastSeen: null });
  });

  it("keeps an offline member, with its data, until retention runs out, and not after", async () => {
    const channel = freshChannel("retention-kept");
    const watcher = await client({ channel });
    const carol = await client({ channel, userId: "Carol", userData: { v: 7 } });
    carol.close();
    await waitFor("Carol offline", () => watcher.member("Carol")?.status === "offline", GRACE_MS + 5000);
    // Retention counts from when she was last seen: until then (less a margin for the round trip) she is kept, every time we look.
    const keptUntil = watcher.member("Carol")!.lastSeen + RETENTION_MS - 250;
    let looks = 0;
    while (Date.now() < keptUntil) {
      const stats = await getJson(server.host, `/parties/main/${channel}?stats`);
      if (Date.now() >= keptUntil) break;
      expect(watcher.member("Carol"), `look ${looks + 1}`).toMatchObject({ status: "offline", data: { v: 7 } });
      expect(stats.body.content, `look ${looks + 1}`).toMatchObject({ members: 1, userAmount: 0 });
      looks++;
      await sleep(100);
    }
    expect(looks, "looks while she was kept").toBeGreaterThanOrEqual(3);
    await waitFor("Carol to leave after retention", () => watcher.member("Carol") === undefined, 10_000);
  });

  it("never shows a member whose retention ran out while the server was down", async () => {
    // Its own server, with a retention long enough that the stop surely comes before it runs out.
    const RETENTION_DOWN_MS = 8000;
    const vars = { PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_RETENTION_MS: String(RETENTION_DOWN_MS) };
    let own = await startDevServer({ vars });
    try {
      const channel = freshChannel("retention-down");
      const watcher = await joined(own.host, { channel });
      const dave = await joined(own.host, { channel, userId: "Dave", userData: { v: 1 } });
      dave.close();
      await waitFor("Dave offline", () => watcher.member("Dave")?.status === "offline", GRACE_MS + 5000);
      const expiresAt = watcher.member("Dave")!.lastSeen + RETENTION_DOWN_MS;
      watcher.close();
      // A diff reaches clients only once it is stored: what the watcher saw is on disk.
      const seqBefore = await snapshotSeq(own.host, channel);
      const { port, persistDir } = own;
      await own.stop();
      expect(Date.now(), "the server stopped before Dave's retention ran out (or this covers nothing)").toBeLessThan(expiresAt);
      await sleep(expiresAt - Date.now() + 500);
      own = await startDevServer({ port, persistDir, vars });

      const fresh = await joined(own.host, { channel });
      const seen: string[] = [];
      fresh.on("presence", (event) => seen.push(`${event.action} ${event.member.id}`));
      expect(fresh.members).toEqual([]);
      // Not an empty room: the stored Dave was loaded, and his leave settled before anyone was served.
      expect(await snapshotSeq(own.host, channel)).toBe(seqBefore + 1);
      // Diffs arrive in order: once a later join reaches the fresh client, nothing about Dave came before it.
      const probe = await joined(own.host, { channel, userId: "Probe" });
      await waitFor("the fresh client to see the probe join", () => seen.includes("join Probe"));
      expect(seen).toEqual(["join Probe"]);
      for (const c of [fresh, probe]) c.close();
    } finally {
      await own.stop();
    }
  }, 90_000);
});

/** The sequence number a new socket's snapshot is current at. */
async function snapshotSeq(host: string, channel: string): Promise<number> {
  const socket = await rawSocket(host, channel);
  const sync = await waitFor("a snapshot", () => socket.messages.find((m): m is ReadSync => m.type === "sync"));
  socket.ws.close();
  return sync.seq;
}

describe("retention shorter than grace (own server)", () => {
  // With retention shorter than grace, "from last seen" and "from the offline event" differ
  // in what clients see: the first leaves at once when grace ends, the second goes offline first.
  let short: DevServer;
  beforeAll(async () => {
    short = await startDevServer({ vars: { PRESENCE_GRACE_MS: "1500", PRESENCE_RETENTION_MS: "500" } });
  });
  afterAll(async () => {
    await short?.stop();
  });

  it("counts retention from when the member was last seen: a member past it when grace ends leaves without going offline", async () => {
    const channel = freshChannel("retention-short");
    const watcher = await joined(short.host, { channel });
    const eve = await joined(short.host, { channel, userId: "Eve" });
    open.push(watcher, eve);
    await waitFor("the watcher to see Eve", () => watcher.member("Eve"));
    const seen: string[] = [];
    watcher.on("presence", (event) => event.member.id === "Eve" && seen.push(event.action));
    eve.close();
    await waitFor("Eve's leave", () => seen.includes("leave"), 15_000);
    expect(seen).toEqual(["leave"]);
    expect(watcher.member("Eve")).toBeUndefined();
  });
});
