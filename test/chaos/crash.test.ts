/**
 * Crash: while a crowd churns, `partykit dev` is killed with SIGKILL (twice) and started
 * again on the same port and persist dir. Clients reconnect by themselves; clients closed
 * during the outage go offline after grace; users updated during the outage carry their new
 * data in on reconnect. At the end the room equals the reference model: no member lost
 * (offline members keep their data), none a ghost (online without a live client); and the
 * user directory says what the room says.
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

const GRACE_MS = 3000;
const VARS = chaosVars(GRACE_MS);
const CRASHES = 2;
const CHURN_BETWEEN_MS = 4000;
const OUTAGE_ACTIONS_MS = 1000;
const STEP_MS = 25;

const userIds = Array.from({ length: 40 }, (_, i) => (i % 8 === 5 ? `crash-ü-${i}` : `c${String(i).padStart(2, "0")}`));

let server: DevServer | undefined;
let swarm: Swarm | undefined;

beforeAll(async () => {
  server = await startDevServer({ vars: VARS });
});

afterAll(async () => {
  swarm?.closeAll();
  await server?.stop();
});

async function churn(s: Swarm, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    s.step();
    await sleep(STEP_MS);
  }
}

describe("kill -9 of the dev server during churn", () => {
  it("brings back every client that reconnects, takes offline those closed meanwhile, and loses no member", async () => {
    const seed = chaosSeed();
    console.log(`crash: seed ${seed} (replay with CHAOS_SEED=${seed})`);
    const model = new PresenceModel(GRACE_MS);
    const channel = `chaos-crash-${seed}`;
    const s = (swarm = new Swarm({ host: server!.host, channel, rng: new Prng(seed), model, userIds, target: 120 }));
    const { port, persistDir } = server!;

    const recorder = s.connect(null, true);
    await recorder.client.ready();
    await s.populate(100, 20);
    await churn(s, CHURN_BETWEEN_MS);

    const outages: Array<{ downMs: number; restartMs: number; reconnectMs: number; clientsBack: number; closedMeanwhile: number; updatedMeanwhile: number; joinedMeanwhile: number }> = [];
    for (let crash = 0; crash < CRASHES; crash++) {
      // Let answers come in and the last tick reach storage: a change in the very last
      // tick before SIGKILL may be lost by design (storage is written once per tick).
      await s.drain(15_000);
      await sleep(700);
      const liveAtKill = s.live().filter((c) => !c.pinned);
      const opensAtKill = new Map(liveAtKill.map((c) => [c.key, c.opens]));

      const killedAt = Date.now();
      await server!.kill9();
      s.beginOutage();
      // One user's clients all close now and stay closed: it must end offline with its data.
      expect(s.parkOneUser(), "a member to close for good during the outage").not.toBeNull();
      const before = { closed: s.done.close + s.done.vanish, updated: s.done.update, joined: s.done.join };
      await churn(s, OUTAGE_ACTIONS_MS);
      const closedMeanwhile = s.done.close + s.done.vanish - before.closed;
      const updatedMeanwhile = s.done.update - before.updated;
      const joinedMeanwhile = s.done.join - before.joined;
      // Let connect attempts made with old data fail before the port opens again.
      await sleep(1000);
      const restartAt = Date.now();
      server = await startDevServer({ vars: VARS, port, persistDir });
      const restartMs = Date.now() - restartAt;
      s.endOutage();
      const reconnectMs = await s.allSynced(30_000);

      // Every client that was live at the kill and was not closed since is back on a new socket.
      const back = liveAtKill.filter((c) => c.live);
      expect(back.length, "clients live at the kill and still open: the check below covers none").toBeGreaterThan(0);
      for (const c of back) expect(c.opens, `client of ${c.userId ?? "an observer"} reconnected by itself`).toBeGreaterThan(opensAtKill.get(c.key)!);
      outages.push({ downMs: Date.now() - killedAt - reconnectMs, restartMs, reconnectMs, clientsBack: back.length, closedMeanwhile, updatedMeanwhile, joinedMeanwhile });

      await churn(s, CHURN_BETWEEN_MS);
    }

    await s.drain();
    await s.allSynced(30_000);
    await sleep(GRACE_MS + 1000);
    const { observation, waitedMs } = await converge(s, 15_000);
    if (!agrees(observation)) console.log(explain(s, observation));

    expect({ unanswered: s.problems, errors: s.errors() }, "requests never answered, and errors sent to honest clients").toEqual({
      unanswered: [],
      errors: [],
    });
    const expected = observation.expected.members;
    const room = new Map(observation.room.map((m) => [m.id, m]));
    // No member lost: every member of the model is in the room, offline ones with their data.
    expect(expected.filter((m) => !room.has(m.id)).map((m) => m.id), "members lost").toEqual([]);
    // No ghost: nobody is online in herenow without a live client.
    const liveUsers = new Set(s.live().map((c) => c.userId));
    expect(observation.http.distinct.users.filter((u) => !liveUsers.has(u.id)).map((u) => u.id), "ghosts in herenow").toEqual([]);
    // Users whose clients were all closed during an outage (and who did not come back) are offline.
    const closedDuringOutage = expected.filter((m) => s.closedInOutage.has(m.id) && m.status === "offline");
    expect(closedDuringOutage.length, "users closed during an outage and still gone").toBeGreaterThan(0);
    for (const m of closedDuringOutage) expect(room.get(m.id), `member ${m.id} closed during an outage`).toEqual(m);

    expect(observation.room, "the members in a fresh snapshot").toEqual(expected);
    expect(observation.http.distinct, "herenow?distinct=true").toEqual(observation.expected.distinct);
    expect(observation.http.all, "herenow (one entry per client)").toEqual(observation.expected.all);
    expect(observation.mismatched[0]?.members ?? expected, "a live client's member list").toEqual(expected);
    expect(observation.mismatched.length, "live clients whose view differs from the model").toBe(0);
    expect(model.flickers(s.recorded, Date.now()), "offline events without a full grace period offline (flicker)").toEqual([]);
    expect(outages).toHaveLength(CRASHES);

    // The user directory says what the room says, after both restarts (the room re-reported its members).
    const wanted = expectedDirectory([s], userIds);
    let disagree: string[] = [];
    for (let i = 0; i < 40 && (disagree = directoryMismatches(wanted, await directoryViews(server!.host, userIds))).length > 0; i++) await sleep(250);
    expect(disagree.slice(0, 5), "users on whom the directory and the room disagree").toEqual([]);

    const offline = expected.filter((m) => m.status === "offline").length;
    console.log(
      `CHAOS-SUMMARY crash seed=${seed} restarts=${CRASHES} clients=${s.clients.size} socketOpens=${s.opens()} ` +
        `actions[${Object.entries(s.done).map(([k, v]) => `${k}=${v}`).join(" ")}] events=${s.recorded.length} ` +
        outages
          .map((o, i) => `outage${i + 1}[down=${o.downMs}ms restart=${o.restartMs}ms allBackAfter=${o.reconnectMs}ms clientsBack=${o.clientsBack} closed=${o.closedMeanwhile} updated=${o.updatedMeanwhile} joined=${o.joinedMeanwhile}]`)
          .join(" ") +
        ` final: members=${expected.length} online=${expected.length - offline} offline=${offline} closedDuringOutageOffline=${closedDuringOutage.length} convergedAfterGraceMs=${waitedMs}`,
    );
  });
});
