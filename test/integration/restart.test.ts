/**
 * A restart of `partykit dev` on the same port and persist dir (graceful stop, and kill -9):
 * the room rebuilds from storage; the user whose client reconnects stays online with no event,
 * the user whose client never comes back goes offline after grace with its data intact, and
 * nothing is lost. Each test runs its own server.
 */
import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientPresenceEvent, PresenceClient } from "../../client/index.ts";
import { HereNowResponse, type Member } from "../../party/protocol/index.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { freshChannel, getJson, joined, waitFor } from "../support/clients.ts";

/** Long enough that a client reconnecting after the restart is surely back within it. */
const GRACE_MS = 3000;
const VARS = { PRESENCE_GRACE_MS: String(GRACE_MS) };

const servers: DevServer[] = [];
const clients: PresenceClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function hereNow(host: string, channel: string) {
  const { status, body } = await getJson(host, `/parties/main/${channel}?includeUsers=true&distinct=true`);
  expect(status).toBe(200);
  return HereNowResponse.parse(body).content.channels[channel]!;
}

function summary(members: Member[]) {
  return members.map((m) => ({ id: m.id, status: m.status, data: m.data })).sort((a, b) => a.id.localeCompare(b.id));
}

describe.each(["stop", "kill9"] as const)("after %s and a start on the same port and persist dir", (how) => {
  it(
    "keeps the returning user online with no event, turns the vanished user offline after grace, and loses nothing",
    async () => {
      const first = await startDevServer({ vars: VARS });
      servers.push(first);
      const { host, port, persistDir } = first;
      const channel = freshChannel("restart");
      const connect = async (options: Parameters<typeof joined>[1]) => {
        const c = await joined(host, options);
        clients.push(c);
        return c;
      };

      const watcher = await connect({ channel });
      const alice = await connect({ channel, userId: "Alice", userData: { role: "returns" } });
      const bob = await connect({ channel, userId: "Bob", userData: { role: "vanishes", v: 1 } });
      bob.setUserData({ role: "vanishes", v: 2 });
      await waitFor("the watcher to see both", () => watcher.online.length === 2);
      await waitFor("Bob's update", () => JSON.stringify(watcher.member("Bob")?.data) === JSON.stringify({ role: "vanishes", v: 2 }));
      const aliceBefore = watcher.member("Alice")!;
      // No wait for storage: a diff reaches clients only after its tick was stored.

      const events: ClientPresenceEvent[] = [];
      watcher.on("presence", (event) => events.push(event));
      const aliceId = alice.connectionId;
      let aliceSyncs = 0;
      alice.on("sync", () => aliceSyncs++);

      await (how === "stop" ? first.stop() : first.kill9());
      servers.splice(servers.indexOf(first), 1);
      // Bob's client gives up while the server is down; Alice's keeps trying by itself.
      bob.close();
      const restartedAt = Date.now();
      const second = await startDevServer({ vars: VARS, port, persistDir });
      servers.push(second);

      await waitFor("Alice's client to reconnect", () => aliceSyncs >= 1, 30_000);
      const aliceBackBy = Date.now();
      expect(alice.connectionId).toBe(aliceId);
      await waitFor("Bob to go offline for the watcher", () => watcher.member("Bob")?.status === "offline", GRACE_MS + 30_000);
      // Every client in grace is gone once its grace ran out (should the dev server restart
      // the room once more while starting, that is one grace later): then herenow is settled.
      const settled = {
        channel,
        clientAmount: 1,
        userAmount: 1,
        clientTypes: {},
        users: [{ id: "Alice", data: { role: "returns" } }],
      };
      await waitFor("herenow to settle", async () => isDeepStrictEqual(await hereNow(host, channel), settled), 2 * GRACE_MS + 10_000).catch(
        async (error: Error) => {
          const stats = await getJson(host, `/parties/main/${channel}?stats`);
          throw new Error(`${error.message}\nstats: ${JSON.stringify(stats.body)}\nserver log:\n${second.log().slice(-4000)}`);
        },
      );
      expect(await hereNow(host, channel)).toEqual(settled);
      const expected = [
        { id: "Alice", status: "online", data: { role: "returns" } },
        { id: "Bob", status: "offline", data: { role: "vanishes", v: 2 } },
      ];
      expect(summary(watcher.members)).toEqual(expected);
      expect(summary(alice.members)).toEqual(expected);
      const late = await connect({ channel });
      expect(summary(late.members)).toEqual(expected);

      // Alice never flickered; Bob went offline once and was not removed (retention is days).
      expect(events.map((e) => [e.action, e.member.id])).toEqual([["offline", "Bob"]]);
      const bobAfter = late.member("Bob")!;
      expect(bobAfter.clients).toBe(0);
      // The restarted room found Bob gone when it started: that is when he was last seen (kept
      // from before the restart, both times would be older). He went offline one grace period
      // after the last client of the channel came back (Alice), which is after the restart.
      expect(bobAfter.lastSeen).toBeGreaterThanOrEqual(restartedAt);
      expect(bobAfter.since - bobAfter.lastSeen).toBeGreaterThanOrEqual(GRACE_MS);
      expect(bobAfter.since, "offline a grace period after Alice was back, not later").toBeLessThanOrEqual(aliceBackBy + GRACE_MS);
      expect(bobAfter.data).toEqual({ role: "vanishes", v: 2 });
      expect(late.member("Alice")).toMatchObject({ status: "online", clients: 1, since: aliceBefore.since });
      expect(late.counts).toEqual({ clientAmount: 1, userAmount: 1 });
    },
    150_000,
  );
});
