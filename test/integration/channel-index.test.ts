/**
 * The channel index against real `partykit dev` servers: a channel appears in GET /channels
 * with its counts once a member joins, follows it, and goes when the room empties; after a
 * `kill -9` and a restart on the same persist dir, an entry whose room no longer reports is
 * still there (the index kept it) and drops out once its lease (PRESENCE_LEASE_MS, 30 s here,
 * or twice that where the restart outlasts 2/3 of it) lapses: no ghost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import type { ChannelEntry } from "../../party/protocol/index.ts";
import { freshChannel, presenceClient, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";

const SERVER_KEY = "index-server-key-0123456789";
const LEASE_MS = 30_000;
const VARS = { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_LEASE_MS: String(LEASE_MS) };
let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({ vars: VARS });
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

async function channels(host: string, q = ""): Promise<ChannelEntry[]> {
  const response = await fetch(`http://${host}/channels?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${SERVER_KEY}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { content: { channels: ChannelEntry[] } }).content.channels;
}

async function join(host: string, channel: string, userId: string): Promise<PresenceClient> {
  const client = presenceClient(host, { channel, userId });
  await client.ready();
  return client;
}

describe("the channel index", () => {
  it("needs the server key to read", async () => {
    expect((await fetch(`http://${server.host}/channels`)).status).toBe(401);
    expect((await fetch(`http://${server.host}/parties/index/all`)).status).toBe(404);
  });

  it("lists a channel with its counts while it is active, sorted by users, and drops it when it empties", async () => {
    const small = freshChannel("idx-small");
    const big = freshChannel("idx-big");
    const clients = [await join(server.host, small, "a"), await join(server.host, big, "b"), await join(server.host, big, "c")];
    const listed = await waitFor("both channels listed", async () => {
      const found = (await channels(server.host, "idx-")).filter((e) => e.channel === small || e.channel === big);
      return found.length === 2 && found.every((e) => e.userAmount > 0 && (e.channel !== big || e.userAmount === 2)) ? found : null;
    });
    expect(listed.map((e) => [e.channel, e.userAmount, e.clientAmount, e.members, e.mode])).toEqual([
      [big, 2, 2, 2, "full"],
      [small, 1, 1, 1, "full"],
    ]);
    expect((await channels(server.host, small)).map((e) => e.channel)).toEqual([small]);
    // Leaving empties the channel: it is reported once, and removed.
    await clients[0]!.leave();
    await waitFor("the small channel to go", async () => !(await channels(server.host)).some((e) => e.channel === small));
    for (const client of clients) client.close();
  });

  /**
   * One crash with a lease of `leaseMs`: a member joins a server of its own, the server is
   * killed and restarted on the same storage, and the index is read at once. False when that
   * read came more than 2/3 of a lease after the kill (the room renewed at most a third of a
   * lease before it), so the ghost could have lapsed unseen and the run proves nothing.
   */
  async function crash(leaseMs: number): Promise<boolean> {
    const vars = { ...VARS, PRESENCE_LEASE_MS: String(leaseMs) };
    const first = await startDevServer({ vars });
    const channel = freshChannel("idx-ghost");
    const client = await join(first.host, channel, "ghost");
    await waitFor("the channel listed", async () => (await channels(first.host)).some((e) => e.channel === channel && e.userAmount === 1));
    client.close();
    const killedAt = Date.now();
    await first.kill9();
    const second = await startDevServer({ vars, port: first.port, persistDir: first.persistDir });
    try {
      // The index restored the entry from storage: the ghost is there after the restart...
      const listed = await channels(second.host);
      const readAfterMs = Date.now() - killedAt;
      if (readAfterMs >= (2 * leaseMs) / 3) {
        console.warn(`the restart took ${readAfterMs} ms, more than 2/3 of a ${leaseMs} ms lease: the crash again with a longer lease`);
        return false;
      }
      expect(listed.map((e) => e.channel)).toContain(channel);
      // ...and it goes. On PartyKit nothing renews it and nothing wakes the dead room (its stored
      // alarm waits until something touches it), so the lease is what removes it: at least 2/3 of
      // a lease after the kill (the room renewed at most a third of a lease before it). On
      // Workers the engine fires the room's stored alarm after the restart, as Cloudflare does:
      // the room wakes by itself, its member goes offline after grace, and it reports itself empty.
      await waitFor("the ghost to drop out", async () => !(await channels(second.host)).some((e) => e.channel === channel), leaseMs + 10_000);
      if (second.engine === "partykit") expect(Date.now() - killedAt, "gone no sooner than its lease allows").toBeGreaterThanOrEqual((2 * leaseMs) / 3);
      return true;
    } finally {
      await second.stop();
    }
  }

  it("drops a channel whose room died with the server (kill -9) once the lease lapses", async () => {
    // Where this machine's restart outlasts 2/3 of the 30 s lease, the crash is run again with a
    // lease twice as long, so the ghost is always seen before it lapses.
    for (let leaseMs = LEASE_MS; !(await crash(leaseMs)); leaseMs *= 2) {
      expect(leaseMs, "a restart that outlasts 2/3 of even a 60 s lease").toBeLessThan(2 * LEASE_MS);
    }
  }, 300_000);
});
