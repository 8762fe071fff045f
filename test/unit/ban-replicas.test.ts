/**
 * Ban replicas: several edge isolates' copies of the ban list, each read from one replica
 * (`index/bans-N`), the replicas read from the root (`index/all`), all in one in-memory world on
 * vitest's fake clock. How fast a ban and a lift spread (at once in the isolate that made it,
 * within 5 s + 1 s elsewhere, and not before the copies' intervals allow), how few reads reach
 * the root whatever the number of isolates, a replica whose root is down, and the names the
 * index serves and the edge lets in.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { banLookup, banSource } from "../../party/edge/bans.ts";
import { partyHooks } from "../../party/edge/before.ts";
import { edgeFetch } from "../../party/edge/routes.ts";
import { BanReplica } from "../../party/index/ban-replica.ts";
import { BAN_REFRESH_MS, BAN_REPLICA_REFRESH_MS, BAN_SPREAD_MS, BanCache } from "../../party/server/ban-cache.ts";
import type { EdgeHost, Host } from "../../party/server/host.ts";
import { memoryService } from "../support/memory-edge.ts";
import { MemoryStorage, type MemoryWorld } from "../support/memory-host.ts";
import { fakeParties } from "../support/parties.ts";

const SERVER_KEY = "server-key-for-tests-0123456789";
const key = { authorization: `Bearer ${SERVER_KEY}` };

describe("bans over replicas", () => {
  let world: MemoryWorld;
  let base: EdgeHost;
  /** An edge isolate: its own copy, reading the replica its pick names (0: bans-0, 0.99: bans-1). */
  const isolate = (pick: number): EdgeHost => ({ ...base, bans: new BanCache({ pick }) });
  const banned = async (edge: EdgeHost, userId: string) => (await banLookup(edge)(userId)) !== null;
  const route = async (edge: EdgeHost, method: string, path: string, body?: unknown) =>
    (await edgeFetch(new Request(`http://memory${path}`, { method, headers: key, body: body === undefined ? undefined : JSON.stringify(body) }), edge)).status;
  const rootReads = () => world.calls.filter((call) => call.party === "index" && call.room === "all" && call.call === "bans").length;

  beforeEach(() => {
    vi.useFakeTimers({ now: 5_000_000 });
    ({ world, edge: base } = memoryService({ PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_BAN_REPLICAS: "2" }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spreads a ban: at once where it was made, elsewhere once the copies' intervals run out, within 6 s", async () => {
    expect(BAN_SPREAD_MS).toBe(BAN_REFRESH_MS + BAN_REPLICA_REFRESH_MS);
    const [a, b, c] = [isolate(0), isolate(0.99), isolate(0.5)];
    expect([a, b, c].map((edge) => banSource(edge).room)).toEqual(["bans-0", "bans-1", "bans-1"]);
    // The worst case for b: its replica read the root just before the ban, and b read the replica just after.
    expect(await banned(c, "ann")).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(await route(a, "POST", "/users/ann/disconnect", { banSeconds: 60 })).toBe(200);
    expect(await banned(a, "ann"), "at once in the isolate that made it").toBe(true);
    await vi.advanceTimersByTimeAsync(800);
    expect(await banned(b, "ann"), "bans-1's copy is 0.9 s old: fresh, from before the ban").toBe(false);
    await vi.advanceTimersByTimeAsync(BAN_REFRESH_MS - 100);
    expect(await banned(b, "ann"), "b's copy is not 5 s old yet").toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(await banned(b, "ann"), "5.9 s after the ban: b read bans-1, which read the root").toBe(true);
    expect(await banned(c, "ann"), "c reads the same replica").toBe(true);
  });

  it("spreads a lift the same way", async () => {
    const [a, b] = [isolate(0), isolate(0.99)];
    expect(await route(a, "POST", "/users/bob/disconnect", { banSeconds: 600 })).toBe(200);
    expect(await banned(b, "bob")).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(await route(a, "DELETE", "/users/bob/ban")).toBe(200);
    expect(await banned(a, "bob"), "at once where it was lifted").toBe(false);
    await vi.advanceTimersByTimeAsync(BAN_REFRESH_MS - 500 - 1);
    expect(await banned(b, "bob"), "b's copy from before the lift still stands").toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await banned(b, "bob"), "within 5 s + 1 s of the lift").toBe(false);
  });

  it("keeps a ban made here over a read from a replica that has not seen it yet", async () => {
    const [a, c] = [isolate(0), isolate(0.1)];
    expect(await banned(a, "cy")).toBe(false);
    await vi.advanceTimersByTimeAsync(BAN_REFRESH_MS - 50);
    // c makes bans-0 read the root again, just before the ban.
    expect(await banned(c, "cy")).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(await route(a, "POST", "/users/cy/disconnect", { banSeconds: 60 })).toBe(200);
    await vi.advanceTimersByTimeAsync(30);
    // a's copy is 5 s old: it reads bans-0, whose copy (50 ms old) has no ban of cy.
    const reads = world.calls.filter((call) => call.room === "bans-0").length;
    expect(await banned(a, "cy"), "the ban made here holds").toBe(true);
    expect(world.calls.filter((call) => call.room === "bans-0").length, "a did read its replica").toBe(reads + 1);
    expect(await banned(c, "cy"), "c has not read since").toBe(false);
  });

  it("reads the root at most once a second per replica, however many isolates read the replicas", async () => {
    for (const count of [4, 40]) {
      ({ world, edge: base } = memoryService({ PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_BAN_REPLICAS: "2" }));
      const isolates = Array.from({ length: count }, (_, i) => isolate((i + 0.5) / count));
      const before = rootReads();
      // Every isolate checks a connect every 100 ms, for 20 s.
      for (let tick = 0; tick < 200; tick++) {
        await Promise.all(isolates.map((edge) => banned(edge, "dan")));
        await vi.advanceTimersByTimeAsync(100);
      }
      const reads = rootReads() - before;
      expect(reads, `${count} isolates`).toBeLessThanOrEqual(2 * 20 + 2);
      expect(reads, `${count} isolates`).toBeGreaterThanOrEqual(2 * 4);
      const intoReplicas = world.calls.filter((call) => call.room.startsWith("bans-")).length;
      // Each isolate reads its replica once per 5 s.
      expect(intoReplicas, `${count} isolates`).toBeLessThanOrEqual(count * (20 / 5 + 1));
    }
  });

  it("sends the writes and the operator's read to the root", async () => {
    const a = isolate(0);
    await route(a, "POST", "/users/eve/disconnect", { banSeconds: 60 });
    await route(a, "GET", "/users/eve/ban");
    await route(a, "DELETE", "/users/eve/ban");
    const calls = world.calls.filter((call) => call.party === "index" && call.call !== "report").map((call) => `${call.room} ${call.call}`);
    expect(calls).toEqual(["all ban", "all bans", "all unban"]);
  });

  it("serves `all` and bans-0…bans-{R-1}; any other index room, and any other call to a replica, is refused 404", async () => {
    const parties = world.parties();
    await expect(parties.call("index", "bans-1", "bans", {})).resolves.toEqual({ bans: [] });
    await expect(parties.call("index", "bans-2", "bans", {})).rejects.toThrow(/404.*index\/bans-2 is no room of the index.*bans-0…bans-1/);
    await expect(parties.call("index", "shelf", "bans", {})).rejects.toThrow(/404.*no room of the index/);
    await expect(parties.call("index", "bans-01", "bans", {})).rejects.toThrow(/404/);
    await expect(parties.call("index", "bans-0", "ban", { userId: "x", until: Date.now() + 1000, reason: "", bannedAt: Date.now() })).rejects.toThrow(
      /404.*answers `bans` only; every other call goes to index\/all/,
    );
    const replica = await world.room("index", "bans-0");
    expect(replica.storage.rows.size, "a replica stores nothing").toBe(0);
  });

  it("refuses the outside: no request to any index room, no socket to any but the root", async () => {
    for (const room of ["bans-0", "all"]) {
      const answer = await partyHooks.index.beforeRequest(new Request(`http://memory/parties/index/${room}`, { method: "POST", headers: key }), room, base);
      expect((answer as Response).status, room).toBe(404);
    }
    const socket = await partyHooks.index.beforeConnect(new Request("http://memory/parties/index/bans-0"), "bans-0", base);
    expect(socket).toBeInstanceOf(Response);
    expect((socket as Response).status).toBe(404);
    expect(await (socket as Response).json()).toMatchObject({ message: expect.stringMatching(/only index\/all takes sockets/) });
    const dashboard = await partyHooks.index.beforeConnect(new Request("http://memory/parties/index/all"), "all", base);
    expect((dashboard as Response).status, "the root's sockets go on to the dashboard's admin check").toBe(401);
    expect(await (dashboard as Response).json()).toMatchObject({ message: expect.stringMatching(/admin token/) });
  });
});

describe("a ban replica whose root is down", () => {
  it("keeps its last copy, and tries the root again a second later, not on every call", async () => {
    let now = 1_000_000;
    const ann = { userId: "ann", until: now + 60_000, reason: "", bannedAt: now };
    const { parties, calls, control } = fakeParties(() => ({ bans: [ann] }));
    const host = { name: "bans-0", storage: new MemoryStorage(), parties, now: () => now, sockets: () => [], pingedAt: () => null } as unknown as Host<unknown>;
    const replica = new BanReplica(host);
    await replica.start();
    const ask = async () => {
      const response = await replica.request(new Request("http://memory/parties/index/bans-0", { method: "POST", headers: { "x-presence-internal": "1" }, body: JSON.stringify({ call: "bans", args: {} }) }));
      return ((await response.json()) as { content: { bans: Array<{ userId: string }> } }).content.bans.map((ban) => ban.userId);
    };
    expect(await ask()).toEqual(["ann"]);
    expect(await ask()).toEqual(["ann"]);
    expect(calls.map((call) => `${call.room} ${call.call}`), "one read, from the root").toEqual(["all bans"]);
    control.failWith = 503;
    now += 1000;
    expect(await ask(), "the root answered 503: the last copy stands").toEqual(["ann"]);
    expect(await ask()).toEqual(["ann"]);
    expect(calls).toHaveLength(2);
    control.reachable = false;
    now += 1000;
    expect(await ask(), "the root cannot be reached: the last copy stands").toEqual(["ann"]);
    control.reachable = true;
    control.failWith = null;
    now += 999;
    expect(await ask()).toEqual(["ann"]);
    expect(calls).toHaveLength(2);
  });
});
