/**
 * The user directory under churn: three channels churn at once with the same users (each
 * with its own reference model). After the last grace period the directory must say, for
 * every user, what the rooms say: online exactly where it has clients, with their number.
 * Then `partykit dev` is killed with SIGKILL and started again, and nothing touches the
 * channels' rooms again (their clients died with the server): the directory first still shows
 * the users online (it kept its state; nothing told it otherwise), then, when their leases
 * lapse and not before, nobody online.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import {
  agrees,
  chaosSeed,
  chaosVars,
  converge,
  directoryMismatches,
  directoryViews,
  expectedDirectory,
  explain,
  Prng,
  PresenceModel,
  sleep,
  Swarm,
} from "./model.ts";

const GRACE_MS = 2000;
/** The shortest lease: the ghosts outlive 2/3 of it past the kill. */
const MIN_LEASE_MS = 20_000;
/**
 * The lease, long enough that the ghosts outlive the restart so the test can see them before
 * they go: at least MIN_LEASE_MS, and 3 times what a kill -9 and restart measured here before
 * the test (their 2/3 then leaves twice the measured restart for the one after the churn).
 */
let leaseMs = MIN_LEASE_MS;
const vars = () => ({ ...chaosVars(GRACE_MS), PRESENCE_LEASE_MS: String(leaseMs) });
const CHURN_MS = Number(process.env.CHAOS_CHURN_MS ?? 12_000);
const CHANNELS = 3;
const userIds = Array.from({ length: 36 }, (_, i) => (i % 9 === 4 ? `dir-ü-${i}` : `d${String(i).padStart(2, "0")}`));

let server: DevServer | undefined;
const swarms: Swarm[] = [];

beforeAll(async () => {
  // Measure a kill -9 and restart on this machine, now, with a server of the same settings.
  const probe = await startDevServer({ vars: vars() });
  const killedAt = Date.now();
  await probe.kill9();
  const again = await startDevServer({ vars: vars(), port: probe.port, persistDir: probe.persistDir });
  const restartMs = Date.now() - killedAt;
  await again.stop();
  leaseMs = Math.max(MIN_LEASE_MS, 3 * restartMs);
  console.log(`directory: a kill -9 and restart took ${restartMs} ms here; lease ${leaseMs} ms`);
  server = await startDevServer({ vars: vars() });
}, 200_000);

afterAll(async () => {
  for (const swarm of swarms) swarm.closeAll();
  await server?.stop();
});

describe("the user directory under churn in three channels", () => {
  it("ends equal to the union of the rooms for every user, and after a kill -9 with nothing touched shows no ghost within the lease", async () => {
    const seed = chaosSeed();
    console.log(`directory: seed ${seed} (replay with CHAOS_SEED=${seed})`);
    for (let i = 0; i < CHANNELS; i++) {
      const model = new PresenceModel(GRACE_MS);
      swarms.push(new Swarm({ host: server!.host, channel: `chaos-dir-${seed}-${i}`, rng: new Prng(seed + i), model, userIds, target: 45 }));
    }
    await Promise.all(swarms.map((swarm) => swarm.populate(35, 5)));
    const end = Date.now() + CHURN_MS;
    while (Date.now() < end) {
      for (const swarm of swarms) swarm.step();
      await sleep(25);
    }
    await Promise.all(swarms.map((swarm) => swarm.drain()));
    for (const swarm of swarms) {
      expect({ unanswered: swarm.problems, errors: swarm.errors() }, `${swarm.options.channel}: requests never answered, and errors sent to honest clients`).toEqual({ unanswered: [], errors: [] });
    }
    await Promise.all(swarms.map((swarm) => swarm.allSynced(30_000)));
    // The rooms' grace, then the directory's own grace on the union (a leave from the last channel).
    await sleep(2 * GRACE_MS + 1000);
    for (const swarm of swarms) {
      const { observation } = await converge(swarm, 15_000);
      if (!agrees(observation)) console.log(explain(swarm, observation));
      expect(agrees(observation), `channel ${swarm.options.channel} equals its model`).toBe(true);
    }

    // The directory says what the rooms say, for every user (polling: its news is one request behind).
    const expected = expectedDirectory(swarms, userIds);
    let mismatches: string[] = [];
    const checkedAt = Date.now();
    // However long the requests take here: until they agree, or 30 s.
    for (;;) {
      mismatches = directoryMismatches(expected, await directoryViews(server!.host, userIds));
      if (mismatches.length === 0 || Date.now() - checkedAt > 30_000) break;
      await sleep(250);
    }
    const agreedAfterMs = Date.now() - checkedAt;
    expect(mismatches.slice(0, 5), "users on whom the directory and the rooms disagree").toEqual([]);
    const onlineBefore = [...expected.values()].filter((view) => view.online).length;
    const multiChannel = [...expected.values()].filter((view) => view.channels.length > 1).length;
    expect(onlineBefore, "users online before the crash").toBeGreaterThan(10);
    expect(multiChannel, "users online in more than one channel").toBeGreaterThan(3);
    expect([...expected.values()].some((view) => !view.online), "some users offline").toBe(true);

    // kill -9, and the clients die with it: nothing touches the channels' rooms again.
    const { port, persistDir } = server!;
    const killedAt = Date.now();
    await server!.kill9();
    for (const swarm of swarms) swarm.closeAll();
    server = await startDevServer({ vars: vars(), port, persistDir });
    const restartedAt = Date.now();
    // The ghosts are there: the directory kept what the rooms last told it. A room renewed at
    // most a third of a lease before the kill, so every lease runs at least 2/3 of one past it.
    const ghosts = [...(await directoryViews(server.host, userIds)).values()].filter((view) => view.online).length;
    expect(Date.now() - killedAt, "the restart outlasted the leases: the ghosts could not be seen").toBeLessThan((2 * leaseMs) / 3);
    expect(ghosts, "users the directory still shows online right after the restart").toBe(onlineBefore);
    let online = ghosts;
    while (online > 0 && Date.now() - restartedAt < leaseMs + GRACE_MS + 30_000) {
      await sleep(500);
      online = [...(await directoryViews(server.host, userIds)).values()].filter((view) => view.online).length;
    }
    const ghostsGoneMs = Date.now() - killedAt;
    expect(online, "users still online in the directory with no live client").toBe(0);
    expect(ghostsGoneMs, "ghosts gone no sooner than their leases allow").toBeGreaterThanOrEqual((2 * leaseMs) / 3);

    const actions = swarms.map((swarm) => Object.values(swarm.done).reduce((a, b) => a + b, 0));
    console.log(
      `CHAOS-SUMMARY directory seed=${seed} channels=${CHANNELS} users=${userIds.length} actions=${actions.join("+")} ` +
        `clients=${swarms.map((s) => s.clients.size).join("+")} onlineBeforeCrash=${onlineBefore} inSeveralChannels=${multiChannel} ` +
        `agreedAfterMs=${agreedAfterMs} leaseMs=${leaseMs} ghostsAfterRestart=${ghosts} ghostsGoneAfterKillMs=${ghostsGoneMs}`,
    );
  }, 150_000);
});
