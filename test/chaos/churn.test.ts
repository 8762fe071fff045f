/**
 * Model-based churn: 200+ real clients (several per user, some observers) join, update,
 * leave, close, vanish, get their sockets killed and reload for ~20 s, driven by a seeded
 * PRNG (`CHAOS_SEED=<seed>` replays a run). Every action is recorded in a reference model at
 * the moment it is made; after the last grace period, HTTP herenow (distinct and not) and
 * every live client's member list must equal the model exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { presenceClient, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { agrees, chaosSeed, chaosVars, converge, explain, Prng, PresenceModel, sleep, Swarm } from "./model.ts";

const GRACE_MS = 2000;
const VARS = chaosVars(GRACE_MS);
/** How long the random churn runs (override with CHAOS_CHURN_MS). */
const CHURN_MS = Number(process.env.CHAOS_CHURN_MS ?? 20_000);
const USERS = 60;
const START_MEMBERS = 180;
const START_OBSERVERS = 30;
const STEP_MS = 25;

/** 60 user ids, a few with non-ASCII characters. */
const userIds = Array.from({ length: USERS }, (_, i) =>
  i % 10 === 3 ? `用户-${i}` : i % 10 === 7 ? `émile 😀 ${i}` : `u${String(i).padStart(2, "0")}`,
);

let server: DevServer;
let swarm: Swarm | undefined;

beforeAll(async () => {
  server = await startDevServer({ vars: VARS });
});

afterAll(async () => {
  swarm?.closeAll();
  await server?.stop();
});

describe("model-based churn against a real partykit dev", () => {
  it("ends with herenow and every live client's member list equal to the reference model", async () => {
    const seed = chaosSeed();
    console.log(`churn: seed ${seed} (replay with CHAOS_SEED=${seed})`);
    const model = new PresenceModel(GRACE_MS);
    const channel = `chaos-churn-${seed}`;
    swarm = new Swarm({ host: server.host, channel, rng: new Prng(seed), model, userIds, target: START_MEMBERS + START_OBSERVERS });

    // A pinned observer records every presence event, to check that blips never flicker.
    const recorder = swarm.connect(null, true);
    await recorder.client.ready();
    const started = Date.now();
    await swarm.populate(START_MEMBERS, START_OBSERVERS);
    const populateMs = Date.now() - started;
    let peakLive = swarm.live().length;

    const churnStart = Date.now();
    const end = churnStart + CHURN_MS;
    while (Date.now() < end) {
      swarm.step();
      peakLive = Math.max(peakLive, swarm.live().length);
      await sleep(STEP_MS);
    }
    const churnMs = Date.now() - churnStart;

    // Settle: every answer in, every live client back and synced, every grace period over.
    await swarm.drain();
    const reconnectMs = await swarm.allSynced(30_000);
    await sleep(GRACE_MS + 1000);
    const { observation, waitedMs } = await converge(swarm, 15_000);
    if (!agrees(observation)) console.log(explain(swarm, observation));

    expect({ unanswered: swarm.problems, errors: swarm.errors() }, "requests never answered, and errors sent to honest clients").toEqual({
      unanswered: [],
      errors: [],
    });
    expect(observation.http.distinct, "herenow?distinct=true").toEqual(observation.expected.distinct);
    expect(observation.http.all, "herenow (one entry per client)").toEqual(observation.expected.all);
    expect(observation.room, "the members in a fresh snapshot").toEqual(observation.expected.members);
    expect(observation.mismatched[0]?.members ?? observation.expected.members, "a live client's member list").toEqual(
      observation.expected.members,
    );
    expect(observation.mismatched.length, "live clients whose view differs from the model").toBe(0);
    expect(model.flickers(swarm.recorded, Date.now()), "offline events without a full grace period offline (flicker)").toEqual([]);

    // The run really did what it claims (a vacuous run must fail).
    expect(peakLive).toBeGreaterThanOrEqual(200);
    for (const action of ["join", "update", "leave", "close", "vanish", "kill", "reload"] as const) {
      expect(swarm.done[action], `${action} actions made`).toBeGreaterThan(Math.min(10, CHURN_MS / 2000));
    }
    const members = observation.expected.members;
    expect(members.some((m) => m.status === "offline"), "some members ended offline").toBe(true);
    expect(members.filter((m) => m.status === "online").length).toBeGreaterThan(10);

    const byAction: Record<string, number> = {};
    for (const event of swarm.recorded) byAction[event.action] = (byAction[event.action] ?? 0) + 1;
    const actions = Object.entries(swarm.done).map(([k, v]) => `${k}=${v}`).join(" ");
    console.log(
      `CHAOS-SUMMARY churn seed=${seed} clients=${swarm.clients.size} peakLive=${peakLive} socketOpens=${swarm.opens()} ` +
        `churnMs=${churnMs} populateMs=${populateMs} actions[${actions}] ` +
        `events=${swarm.recorded.length} [${Object.entries(byAction).map(([k, v]) => `${k}=${v}`).join(" ")}] ` +
        `final: members=${members.length} online=${observation.expected.distinct.userAmount} clientAmount=${observation.expected.all.clientAmount} ` +
        `liveClientsChecked=${observation.clientsChecked} reconnectMs=${reconnectMs} convergedAfterGraceMs=${waitedMs}`,
    );
  });
});

/**
 * Found by the churn and crash runs: a snapshot sent in the middle of a tick shows the state
 * at that moment, but the tick's diff is net (before the tick versus after it). When a change
 * made before the snapshot is undone after it within the same tick, no diff goes out and the
 * new client keeps the intermediate state. A long tick makes the window wide; each case also
 * checks, through an observer that was there all along, that its steps did fall within one tick
 * (no diff about the member at all), so a pass means the window was hit.
 */
describe("a snapshot sent in the middle of a tick", () => {
  const TICK_MS = 1500;
  let slow: DevServer;
  const open: PresenceClient[] = [];
  beforeAll(async () => {
    slow = await startDevServer({ vars: { PRESENCE_TICK_MS: String(TICK_MS), PRESENCE_GRACE_MS: "1000" } });
  });
  afterAll(async () => {
    for (const c of open.splice(0)) c.close();
    await slow?.stop();
  });
  const client = (options: Parameters<typeof presenceClient>[1]) => {
    const c = presenceClient(slow.host, options);
    open.push(c);
    return c;
  };

  it("is corrected when a member's data changes and changes back within the tick", async () => {
    const channel = `midtick-data-${Date.now().toString(36)}`;
    const member = client({ channel, userId: "m", userData: { v: "X" } });
    await member.ready();
    const opener = client({ channel, userId: "o", userData: { n: 0 } });
    await opener.ready();
    const observer = client({ channel });
    await observer.ready();
    const seenByObserver: string[] = [];
    observer.on("presence", (event) => {
      if (event.member.id === "m") seenByObserver.push(`${event.action}:${JSON.stringify(event.member.data)}`);
    });
    await waitFor("the observer holding both members", () => observer.member("m") && observer.member("o"));
    // A quiet spell: the last tick is a whole tick behind.
    await sleep(TICK_MS + 300);
    // A lone change goes out at once and opens a tick: the steps below fall within it.
    opener.setUserData({ n: 1 });
    await waitFor("the lone change, heard long before the tick's end", () => (observer.member("o")?.data as { n?: number } | undefined)?.n === 1, TICK_MS / 2);
    member.setUserData({ v: "Y" });
    await sleep(200);
    const late = client({ channel });
    await late.ready();
    member.setUserData({ v: "X" });
    await sleep(TICK_MS + 500);
    const users = (await (await fetch(`http://${slow.host}/parties/main/${channel}?includeUsers=true`)).json()) as {
      content: { channels: Record<string, { users: Array<{ id: string; data: unknown }> }> };
    };
    expect(users.content.channels[channel]!.users).toEqual([
      { id: "m", data: { v: "X" } },
      { id: "o", data: { n: 1 } },
    ]);
    expect(late.member("m")?.data, "the data the late observer shows").toEqual({ v: "X" });
    // Y and back to X fell within one tick (the mid-tick window was hit): the observer heard of neither.
    expect(seenByObserver, "events the observer saw after the first tick").toEqual([]);
  });

  it("is corrected when a tab joins just before another tab's grace runs out", async () => {
    const channel = `midtick-clients-${Date.now().toString(36)}`;
    const first = client({ channel, userId: "u" });
    await first.ready();
    const observer = client({ channel });
    await observer.ready();
    const clientsSeen: number[] = [];
    observer.on("members", () => clientsSeen.push(observer.member("u")?.clients ?? 0));
    const opener = client({ channel, userId: "o", userData: { n: 0 } });
    await opener.ready();
    await waitFor("the observer holding both members", () => observer.member("u") && observer.member("o"));
    // A quiet spell: the last tick is a whole tick behind.
    await sleep(TICK_MS + 300);
    first.close(); // in grace for 1000 ms; the alarm at its end flushes the tick
    await sleep(300);
    // A tick is open by now (the close's, or the lone change's below, run at once): the join
    // below falls within it, and the alarm at grace's end runs it.
    opener.setUserData({ n: 1 });
    await sleep(100);
    const second = client({ channel, userId: "u" });
    await second.ready();
    await sleep(TICK_MS + 1000);
    const stats = (await (await fetch(`http://${slow.host}/parties/main/${channel}?stats`)).json()) as { content: { clientAmount: number } };
    expect(stats.content.clientAmount, "u's tab and the opener's").toBe(2);
    expect(second.member("u")?.clients, "the client count the new tab shows").toBe(1);
    expect(second.counts.clientAmount).toBe(2);
    // The join and the end of grace fell within one tick (the mid-tick window was hit): the
    // observer never saw u with two clients, nor offline.
    expect(clientsSeen.filter((n) => n !== 1), "u's client counts the observer saw other than 1").toEqual([]);
    expect(observer.member("u")?.status).toBe("online");
  });
});
