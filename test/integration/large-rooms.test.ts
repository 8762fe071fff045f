/**
 * Interval mode against a real `partykit dev` with a small PRESENCE_ANNOUNCE_MAX (4): a
 * channel crosses the threshold both ways with a few clients, each client's list stays
 * exactly its view (itself, the users it watches, its window) and its counts exact; at most
 * one message per client per interval; and herenow pages stay stable while members change.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChannelMode, PresenceClient, PresenceClientOptions } from "../../client/index.ts";
import { freshChannel, getJson, presenceClient, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";

const ANNOUNCE_MAX = 4;
const INTERVAL_MS = 300;

let server: DevServer;
const open: PresenceClient[] = [];

beforeAll(async () => {
  server = await startDevServer({ vars: { PRESENCE_ANNOUNCE_MAX: String(ANNOUNCE_MAX), PRESENCE_INTERVAL_MS: String(INTERVAL_MS) } });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

function client(options: Omit<PresenceClientOptions, "host">): PresenceClient {
  const c = presenceClient(server.host, options);
  open.push(c);
  return c;
}

async function member(channel: string, userId: string, data: unknown = null): Promise<PresenceClient> {
  const c = client({ channel, userId, userData: data as never });
  await c.ready();
  return c;
}

/** Every online member by userId, paged through herenow `limit` at a time. */
async function everyone(channel: string, limit = 2): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ includeUsers: "true", distinct: "true", limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const { body } = await getJson(server.host, `/parties/main/${channel}?${query}`);
    const result = body.content.channels[channel];
    ids.push(...result.users.map((user: { id: string }) => user.id));
    cursor = result.cursor;
    if (!cursor) return ids;
  }
  throw new Error("herenow never ended");
}

/** What a client's list must hold: in full mode everyone; in interval mode itself, the users it watches and its window. */
function expectedView(all: string[], mode: ChannelMode, self: string | null, watched: string[], window: number): string[] {
  if (mode === "full") return [...all].sort();
  const view = new Set([...all].sort().slice(0, window));
  for (const id of [self, ...watched]) if (id !== null && all.includes(id)) view.add(id);
  return [...view].sort();
}

const idsOf = (c: PresenceClient) => c.members.map((m) => m.id).sort();

/** Waits until the client's list is its view of the channel and its counts are herenow's. */
async function expectView(c: PresenceClient, channel: string, mode: ChannelMode, watched: string[] = [], window = 0) {
  const all = await everyone(channel);
  const expected = expectedView(all, mode, c.userId, watched, window);
  await waitFor(`${c.userId ?? "observer"}'s view ${expected.join(",")} in ${mode} mode (has ${idsOf(c).join(",")} in ${c.mode})`, () =>
    c.mode === mode && idsOf(c).join() === expected.join() && c.counts.userAmount === all.length ? true : false,
  );
}

describe("a channel crossing PRESENCE_ANNOUNCE_MAX", () => {
  it("tells every client, shows each its view with exact counts, and goes back to full at 90%", async () => {
    const channel = freshChannel("large");
    const a = await member(channel, "u-a");
    const b = client({ channel, userId: "u-b", window: 2 });
    await b.ready();
    const watcher = client({ channel, window: 3 });
    await watcher.ready();
    const modes: string[] = [];
    watcher.on("mode", (mode) => modes.push(mode));
    const seen: string[] = [];
    watcher.on("presence", (event) => seen.push(`${event.action}:${event.member.id}`));
    const others = [await member(channel, "u-c", { v: 1 }), await member(channel, "u-d")];
    for (const c of [a, b, watcher]) await expectView(c, channel, "full");

    // A fifth member: interval mode.
    others.push(await member(channel, "u-e"));
    await waitFor("the switch", () => modes.length === 1);
    expect(modes).toEqual(["interval"]);
    await expectView(a, channel, "interval");
    await expectView(b, channel, "interval", [], 2);
    await expectView(watcher, channel, "interval", [], 3);
    expect(a.counts).toEqual({ clientAmount: 5, userAmount: 5 });

    // One that sorts first joins: the watcher's window takes it, and u-c goes out of view without a leave.
    seen.length = 0;
    others.push(await member(channel, "u-0"));
    await expectView(watcher, channel, "interval", [], 3);
    expect(seen).toEqual(["join:u-0"]);
    // A member out of every view changes: nobody hears of it, the counts stay.
    others[0]!.setUserData({ v: 2 });
    await new Promise((done) => setTimeout(done, 3 * INTERVAL_MS));
    expect(seen).toEqual(["join:u-0"]);

    // Watching a user brings it into a's view with its current data, and its changes after.
    a.watchUsers(["u-c"]);
    await expectView(a, channel, "interval", ["u-c"]);
    expect(a.member("u-c")?.data).toEqual({ v: 2 });
    others[0]!.setUserData({ v: 3 });
    await waitFor("a to hear u-c's update", () => (a.member("u-c")?.data as { v: number } | undefined)?.v === 3);

    // A window asked for after the connect: a fresh snapshot with that window.
    a.setWindow(1);
    await expectView(a, channel, "interval", ["u-c"], 1);

    // Down to 4 members (90% of 4 is 3.6): still interval; down to 3: full again.
    await others.pop()!.leave();
    await others.pop()!.leave();
    await expectView(watcher, channel, "interval", [], 3);
    await others.pop()!.leave();
    await waitFor("the switch back", () => modes.length === 2);
    expect(modes).toEqual(["interval", "full"]);
    for (const c of [a, b, watcher]) await expectView(c, channel, "full");
    const stats = await getJson(server.host, `/parties/main/${channel}?stats`);
    expect(stats.body.content.mode).toBe("full");
  });

  it("sends a socket at most one message per interval, each with the counts, during a burst of joins", async () => {
    const channel = freshChannel("burst");
    for (const id of ["u-1", "u-2", "u-3", "u-4", "u-5"]) await member(channel, id);
    const raw = await rawSocket(server.host, channel, { window: "2" });
    await waitFor("the snapshot", () => raw.messages.some((m) => m.type === "sync" && m.mode === "interval"));
    const start = Date.now();
    // A join every 60 ms for 1.2 s: in full mode that would be a diff every 50 ms tick.
    const joiners = [];
    for (let i = 0; i < 20; i++) {
      joiners.push(await rawSocket(server.host, channel, { userId: `v-${i}` }));
      await new Promise((done) => setTimeout(done, 60));
    }
    await waitFor("the counts of all 25", () => raw.messages.some((m) => m.type === "diff" && m.userAmount === 25));
    const elapsed = Date.now() - start;
    for (const joiner of joiners) joiner.ws.close();
    const diffs = raw.frames.filter((text) => text.startsWith('{"type":"diff"'));
    expect(diffs.length).toBeGreaterThan(1);
    expect(diffs.length).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 1);
    // The window (u-1, u-2) did not change: the diffs carry counts and nothing else.
    for (const text of diffs) expect(Object.keys(JSON.parse(text)).sort()).toEqual(["clientAmount", "now", "seq", "type", "userAmount"]);
    raw.ws.close();
  });
});

describe("herenow pages", () => {
  it("list every member that stays, once, in userId order, while members come and go between pages", async () => {
    const channel = freshChannel("pages");
    const stay = ["m-02", "m-04", "m-06", "m-08", "m-10", "m-12"];
    const clients = new Map<string, PresenceClient>();
    for (const id of [...stay, "m-05", "m-09"]) clients.set(id, await member(channel, id));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      const query = new URLSearchParams({ includeUsers: "true", limit: "3", ...(cursor ? { cursor } : {}) });
      const { status, body } = await getJson(server.host, `/parties/main/${channel}?${query}`);
      expect(status).toBe(200);
      const result = body.content.channels[channel];
      expect(result.users.length).toBeLessThanOrEqual(3);
      seen.push(...result.users.map((user: { id: string }) => user.id));
      cursor = result.cursor;
      if (!cursor) break;
      // Between pages: one leaves, one joins behind the cursor, one ahead of it.
      if (page === 0) {
        await clients.get("m-09")!.leave();
        await member(channel, "m-01");
        await member(channel, "m-11");
      }
    }
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of stay) expect(seen).toContain(id);
    expect(seen).toContain("m-11");
    expect(seen).not.toContain("m-09");
  });

  it("answers 400 for a bad limit or a cursor across channels", async () => {
    const channel = freshChannel("pages");
    expect((await getJson(server.host, `/parties/main/${channel}?includeUsers=true&limit=5000`)).status).toBe(400);
    const across = await getJson(server.host, `/herenow?channel=${channel}&channel=other&includeUsers=true&cursor=a`);
    expect(across.status).toBe(400);
    expect(across.body.message).toMatch(/cursor pages one channel/);
  });
});
