/**
 * The channel index's shards against a real engine (PRESENCE_INDEX_SHARDS=4): channels hashed
 * over several shards are all listed by GET /channels with exact counts, GET /metrics adds the
 * shards up exactly, the root's dashboard socket gets the shards' entries (forwarded by the
 * shards), and the shards take no outside request or socket. Then `kill -9` and a restart on
 * the same port and persist dir: nothing is lost (the channels whose clients come back are
 * listed with exact counts, the counters did not go down) and no ghost stays (the channel
 * whose client left while the server was down drops out after its lease).
 */
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { PresenceClient } from "../../client/index.ts";
import type { ChannelEntry, ChannelsMessage } from "../../party/protocol/index.ts";
import { indexShardOf } from "../../party/server/parts.ts";
import { freshChannel, joined, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";

const SERVER_KEY = "shards-server-key-0123456789";
const LEASE_MS = 30_000;
const SHARDS = 4;
const VARS = { PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_LEASE_MS: String(LEASE_MS), PRESENCE_INDEX_SHARDS: String(SHARDS), PRESENCE_GRACE_MS: "5000" };
const auth = { authorization: `Bearer ${SERVER_KEY}` };

const servers: DevServer[] = [];
const clients: PresenceClient[] = [];
afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function list(host: string): Promise<{ total: number; channels: ChannelEntry[] }> {
  const response = await fetch(`http://${host}/channels`, { headers: auth });
  expect(response.status).toBe(200);
  return ((await response.json()) as { content: { total: number; channels: ChannelEntry[] } }).content;
}

async function metric(host: string, line: string): Promise<number> {
  const text = await (await fetch(`http://${host}/metrics`, { headers: auth })).text();
  return Number(new RegExp(`^${line.replace(/[{}"()]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
}

/** The channels listed, as [name, userAmount, clientAmount], by name. */
const counts = (entries: ChannelEntry[]) => entries.map((e) => [e.channel, e.userAmount, e.clientAmount] as const).sort(([a], [b]) => a.localeCompare(b));

/** A dashboard socket on the root: the messages it got, folded into the list it shows. */
async function dashboard(host: string) {
  const token = ((await (await fetch(`http://${host}/admin/token`, { method: "POST", headers: auth })).json()) as { content: { token: string } }).content.token;
  const shown = new Map<string, ChannelEntry>();
  const ws = new WebSocket(`ws://${host}/parties/index/all?token=${encodeURIComponent(token)}`);
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as ChannelsMessage;
    if (message.full) shown.clear();
    for (const name of message.removed) shown.delete(name);
    for (const entry of message.channels) shown.set(entry.channel, entry);
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return { shown, close: () => ws.close() };
}

describe("the channel index's shards", () => {
  it(
    "lists and counts channels of every shard exactly, forwards them to the root's dashboards, and survives kill -9 with nothing lost and no ghost",
    async () => {
      const first = await startDevServer({ vars: VARS });
      servers.push(first);
      // Five channels with 1…5 users, over more than one shard (fresh names drawn again in the rare case they all hash to one).
      let names: string[];
      do names = Array.from({ length: 5 }, (_, i) => freshChannel(`shard${i}`));
      while (new Set(names.map((name) => indexShardOf(name, SHARDS))).size < 2);
      const byChannel: PresenceClient[][] = [];
      for (const [i, channel] of names.entries()) {
        byChannel.push([]);
        for (let u = 0; u <= i; u++) {
          const client = await joined(first.host, { channel, userId: `u${u}` });
          clients.push(client);
          byChannel[i]!.push(client);
        }
      }
      const expected = names.map((name, i) => [name, i + 1, i + 1] as const).sort(([a], [b]) => a.localeCompare(b));
      await waitFor("every channel listed with its counts", async () => JSON.stringify(counts((await list(first.host)).channels)) === JSON.stringify(expected), 20_000);
      expect((await list(first.host)).total).toBe(5);
      expect(await metric(first.host, "presence_channels_active")).toBe(5);
      expect(await metric(first.host, "presence_users")).toBe(15);
      expect(await metric(first.host, 'presence_events_total{type="join"}')).toBe(15);
      // The root's dashboards see what the shards forwarded.
      const board = await dashboard(first.host);
      await waitFor("the dashboard to show every channel", () => JSON.stringify(counts([...board.shown.values()])) === JSON.stringify(expected), 10_000);
      board.close();
      // The shards are internal: no socket, no request from outside.
      expect((await refusedConnect(first.host, "/parties/index/s0")).status).toBe(404);
      expect((await fetch(`http://${first.host}/parties/index/s1`, { headers: auth })).status).toBe(404);

      // A crash. The first channel's only client leaves while the server is down; the others come back.
      const killedAt = Date.now();
      await first.kill9();
      byChannel[0]![0]!.close();
      const second = await startDevServer({ vars: VARS, port: first.port, persistDir: first.persistDir });
      servers.push(second);
      const survivors = expected.filter(([name]) => name !== names[0]);
      const settled = await waitFor(
        "the survivors listed with exact counts and the vanished channel gone",
        async () => {
          const now = counts((await list(second.host)).channels);
          return JSON.stringify(now) === JSON.stringify(survivors) ? now : null;
        },
        LEASE_MS + 30_000,
      );
      expect(settled).toHaveLength(4);
      // On PartyKit nothing wakes the vanished room: its shard's lease on it is what removed it.
      if (second.engine === "partykit") expect(Date.now() - killedAt).toBeGreaterThanOrEqual((2 * LEASE_MS) / 3);
      await waitFor("the metrics to follow", async () => (await metric(second.host, "presence_channels_active")) === 4, 15_000);
      expect(await metric(second.host, "presence_users")).toBe(14);
      // Nothing lost: every join counted once, across the crash.
      expect(await metric(second.host, 'presence_events_total{type="join"}')).toBe(15);
      const again = await dashboard(second.host);
      await waitFor("the root's dashboard to show the survivors", () => JSON.stringify(counts([...again.shown.values()])) === JSON.stringify(survivors), 15_000);
      again.close();
    },
    240_000,
  );
});
