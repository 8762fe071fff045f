/**
 * A client written from docs/protocol.md alone (test/outside/presence-client.mjs: `ws` and
 * Node's built-ins, nothing of this repository) beside the project's own PresenceClient, on
 * this run's engine (`partykit dev` or `wrangler dev`, grace 1000 ms). If the document leaves
 * something out or says it wrong, the outside client's list differs from the project client's
 * or from herenow. Members join, update, open a second tab, leave, go offline and come back;
 * the outside client's first snapshot comes in parts and one tick comes split over several
 * diffs; it loses one diff on purpose and must find the gap and resync; in interval mode it
 * must follow its view through `quiet` and `out` and take a seq that jumps for no gap.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { ClientPresenceEvent, Member, PresenceClient } from "../../client/index.ts";
import { loadConfig } from "../../party/server/config.ts";
import { OutsideClient, type OutsideEvent, type OutsideMember } from "../outside/presence-client.mjs";
import { freshChannel, joined, presenceClient, waitFor } from "../support/clients.ts";
import { TEST_VARS } from "../support/dev-server.ts";

const host = inject("host");
const config = loadConfig(TEST_VARS);
/** HTTP clients outlive each test, and expire on their own afterwards. */
const TTL_MS = 60_000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function outsideClient(options: ConstructorParameters<typeof OutsideClient>[0]): OutsideClient {
  const client = new OutsideClient(options);
  cleanups.push(() => client.close());
  return client;
}

async function projectClient(options: Parameters<typeof joined>[1]): Promise<PresenceClient> {
  const client = await joined(host, options);
  cleanups.push(() => client.close());
  return client;
}

/** A list as plain records in userId order, for comparing two clients' lists. */
function listOf(members: Iterable<Member | OutsideMember>): Array<Member | OutsideMember> {
  return [...members].map((member) => ({ ...member })).sort((a, b) => (a.id < b.id ? -1 : 1));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Heartbeats of many HTTP clients in one request (one tick). */
async function heartbeats(channel: string, clients: Array<{ clientId: string; userId: string; data?: unknown }>): Promise<void> {
  const response = await fetch(`http://${host}/parties/main/${channel}/clients`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clients: clients.map((client) => ({ ttlMs: TTL_MS, ...client })) }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

async function httpClient(channel: string, method: "PUT" | "DELETE", clientId: string, body?: object): Promise<void> {
  const response = await fetch(`http://${host}/parties/main/${channel}/clients/${clientId}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body && JSON.stringify({ ttlMs: TTL_MS, ...body }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Members whose userData is close to the 4 KB cap, so that a few dozen pass the room's 512 KiB message cap. */
function bigMembers(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const id = `${prefix}${String(i).padStart(3, "0")}`;
    return { clientId: id, userId: id, data: { n: i, pad: "x".repeat(3800) } };
  });
}

/** `action:userId` of the events about these users, in order. */
const eventsAbout = (events: Array<ClientPresenceEvent | OutsideEvent>, ids: string[]) =>
  events.filter((event) => ids.includes(event.member.id) && !event.resync).map((event) => `${event.action}:${event.member.id}`);

describe("a client written from docs/protocol.md alone", () => {
  it("holds the same list as the project's client through a snapshot in parts, a tick split over several diffs, every action, quiet changes and a lost diff, and agrees with herenow", async () => {
    const channel = freshChannel("outside");
    const projectEvents: ClientPresenceEvent[] = [];
    const project = await projectClient({ channel, userId: "project", userData: { lang: "ts" }, clientType: "web" });
    project.on("presence", (event) => projectEvents.push(event));
    // Members enough for the outside client's first snapshot to come in parts (announced before it connects: a snapshot is as of the last diff).
    await heartbeats(channel, bigMembers("dev-a", 100));
    await waitFor("the first hundred", () => project.members.length === 101);
    const outside = outsideClient({ host, channel, userId: "outside", userData: { lang: "js" }, clientType: "node" });
    await outside.ready();
    expect(outside.stats.mostSnapshotParts, "the first snapshot came in parts").toBeGreaterThan(1);
    expect(outside.settings).toEqual(project.settings);
    expect(outside.settings).toMatchObject({ graceMs: config.graceMs, retentionMs: config.retentionMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs });

    const sameLists = async (what: string) => {
      await waitFor(`${what}: the same list in both clients`, () => same(listOf(outside.members.values()), listOf(project.members)) && same(outside.counts, project.counts));
    };

    // One tick with a hundred large joins: its diff is split over several messages.
    await heartbeats(channel, bigMembers("dev-b", 100));
    await waitFor("the second hundred", () => outside.members.size === 202);
    expect(outside.stats.splitTicks, "one tick came in several diffs").toBeGreaterThan(0);
    await sameLists("after the split tick");

    // join, update, a second tab (quiet), leave, offline, online, the second tab gone (quiet).
    const ann = await projectClient({ channel, userId: "ann", userData: { v: 1 }, clientType: "web" });
    const bob = await projectClient({ channel, userId: "bob" });
    ann.setUserData({ v: 2 });
    await waitFor("ann's update", () => same(outside.members.get("ann")?.data, { v: 2 }));
    const annApp = await projectClient({ channel, userId: "ann", userData: { v: 2 }, clientType: "app" });
    await waitFor("ann's second tab, as a quiet change", () => outside.members.get("ann")?.clients === 2);
    expect(outside.members.get("ann")?.clientTypes).toEqual({ web: 1, app: 1 });
    await sameLists("after a second tab");
    await bob.leave();
    // Seen before carl joins: in one diff a join comes before a leave.
    await waitFor("bob's leave", () => !outside.members.has("bob"));
    const carl = await projectClient({ channel, userId: "carl", clientType: "web" });
    carl.close();
    await waitFor("carl offline after grace", () => outside.members.get("carl")?.status === "offline");
    await sameLists("with an offline member");
    expect(outside.members.get("carl")).toMatchObject({ clients: 0, clientTypes: {} });
    await projectClient({ channel, userId: "carl", clientType: "web" });
    annApp.close();
    await waitFor("carl online, and ann's second tab gone after grace", () => outside.members.get("carl")?.status === "online" && outside.members.get("ann")?.clients === 1);
    await sameLists("after the second tab's grace");
    const expected = ["join:ann", "join:bob", "update:ann", "leave:bob", "join:carl", "offline:carl", "online:carl"];
    expect(eventsAbout(outside.events, ["ann", "bob", "carl"])).toEqual(expected);
    expect(eventsAbout(projectEvents, ["ann", "bob", "carl"])).toEqual(expected);

    // A lost diff: the next one shows the gap, and a snapshot sets the list right.
    outside.dropNextDiff();
    const dave = await projectClient({ channel, userId: "dave", userData: { n: 1 } });
    await waitFor("the lost diff", () => outside.stats.dropped.length === 1);
    expect(outside.members.has("dave"), "the outside client missed dave's join").toBe(false);
    dave.setUserData({ n: 2 });
    await waitFor("the gap found and a snapshot applied", () => outside.stats.gaps === 1 && outside.current && same(outside.members.get("dave")?.data, { n: 2 }));
    expect(outside.events.filter((event) => event.resync).map((event) => `${event.action}:${event.member.id}`)).toEqual(["join:dave"]);
    await sameLists("after the resync");
    expect(outside.stats.gaps).toBe(1);

    // herenow over HTTP, in pages of 40: the online members, their data and types, and the counts.
    const herenow = await outside.hereNow({ includeUsers: true, distinct: true, limit: 40 });
    const online = listOf(outside.members.values()).filter((member) => member.status === "online");
    expect({ clientAmount: herenow.clientAmount, userAmount: herenow.userAmount }).toEqual(outside.counts);
    expect(herenow.users!.map((user) => [user.id, user.data, user.clientTypes ?? {}])).toEqual(online.map((member) => [member.id, member.data, member.clientTypes]));
    const types: Record<string, number> = {};
    for (const member of online) for (const [type, n] of Object.entries(member.clientTypes)) types[type] = (types[type] ?? 0) + n;
    expect(herenow.clientTypes).toEqual(types);
    expect(outside.stats.reconnects).toBe(0);
  });

  it("follows interval mode: its view through quiet and out, and a seq that jumps without a gap", async () => {
    const channel = freshChannel("outside-iv");
    const window = 3;
    const outside = outsideClient({ host, channel, userId: "zz-outside", window });
    const project = presenceClient(host, { channel, window });
    cleanups.push(() => project.close());
    await outside.ready();
    await project.ready();
    // The member that takes the channel past PRESENCE_ANNOUNCE_MAX: every socket gets a snapshot in interval mode.
    const ids = Array.from({ length: config.announceMax }, (_, i) => `m-${String(i).padStart(4, "0")}`);
    await heartbeats(channel, ids.map((id) => ({ clientId: id, userId: id })));
    await waitFor("interval mode in both clients", () => outside.mode === "interval" && project.mode === "interval", 20_000);
    const view = (first: string[]) => [...first, "zz-outside"];
    /** The outside client's view is the project observer's plus itself. */
    const sameViews = (what: string, first: string[]) =>
      waitFor(`${what}: the outside client's view ${view(first).join(",")}`, () => {
        const outsideList = listOf(outside.members.values());
        const ids = outsideList.map((member) => member.id);
        if (!same(ids, view(first))) throw new Error(`the outside client's view is ${ids.join(",")}`);
        return same(outsideList.filter((member) => member.id !== "zz-outside"), listOf(project.members)) && same(outside.counts, project.counts);
      });
    await sameViews("after the switch", ids.slice(0, window));
    expect(outside.counts.userAmount).toBe(config.announceMax + 1);
    const marker = outside.events.length;

    // A change nobody's view holds: the channel's seq moves on, nobody hears it.
    const changedAt = Date.now();
    await httpClient(channel, "PUT", "m-0500", { userId: "m-0500", data: { changed: true } });
    await waitFor("the tick of that change (in the channel's history)", async () => {
      const response = await fetch(`http://${host}/parties/main/${channel}?history&since=${changedAt}`);
      const page = (await response.json()) as { content: { events: Array<{ action: string; member: { id: string } }> } };
      return page.content.events.some((event) => event.action === "update" && event.member.id === "m-0500");
    });
    // A member that sorts first: it joins this view, and the window's last member goes out of it.
    await httpClient(channel, "PUT", "a-first", { userId: "a-first" });
    await sameViews("after a-first joined", ["a-first", ...ids.slice(0, window - 1)]);
    expect(outside.stats.seqJumps, "a diff whose seq jumped was applied").toBeGreaterThan(0);
    // It leaves: the member that went out comes back in, as a quiet change.
    await httpClient(channel, "DELETE", "a-first");
    await sameViews("after a-first left", ids.slice(0, window));
    expect(outside.events.slice(marker).map((event) => `${event.action}:${event.member.id}`)).toEqual(["join:a-first", "leave:a-first"]);
    expect(outside.stats.gaps).toBe(0);

    const herenow = await outside.hereNow({ includeUsers: false });
    expect({ clientAmount: herenow.clientAmount, userAmount: herenow.userAmount }).toEqual(outside.counts);
  });
});
