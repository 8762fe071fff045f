/**
 * Restart storms: a few hundred members on the project's own client and two observers in one
 * channel; the engine is killed with SIGKILL and started again on the same storage (both
 * engines), or, on Workers, its worker is reloaded with changed code (what a deploy does: every
 * socket of every room drops at once). Every client comes back on its own with the client's
 * own backoff; a few members are closed for good meanwhile. What the observers hear and hold
 * is measured (test/support/restart-storm.ts): no event about any member that came back, counts
 * never below the members that are really gone, every client back and every count exact, the
 * gone ones offline, no ghost, no member lost or changed. The figures are printed; the bench
 * (`npm run bench -- --restart 5000`) measures the same at 5,000 members. RESTART_MEMBERS and
 * RESTART_GRACE_MS change the size and the grace (to explore; CI runs the defaults).
 */
import { afterEach, describe, expect, it } from "vitest";
import { type DevServer, type Engine, startDevServer } from "../support/dev-server.ts";
import { reloadableWorker } from "../support/reloadable-worker.ts";
import { RestartStorm, type StormFigures } from "../support/restart-storm.ts";

const MEMBERS = Number(process.env.RESTART_MEMBERS ?? 300);
const GONE = 15;
/**
 * A grace shorter than the crowd takes to come back (1 s against 1–4 s here): a room that
 * counted grace from its restart would announce hundreds of members offline and online again
 * (it did: 56–224 events per observer). The service's default heartbeats; the bench measures
 * the default grace at 5,000 members.
 */
const VARS = { PRESENCE_GRACE_MS: process.env.RESTART_GRACE_MS ?? "1000", PRESENCE_HEARTBEAT_INTERVAL_MS: "10000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "30000" };

let server: DevServer | undefined;
let storm: RestartStorm | undefined;

afterEach(async () => {
  storm?.close();
  await server?.stop();
  server = storm = undefined;
});

/** Polls until the engine answers HTTP again; returns when it did. */
async function answering(host: string): Promise<number> {
  for (;;) {
    const ok = await fetch(`http://${host}/herenow?channel=ready-check`, { signal: AbortSignal.timeout(2000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (ok) return Date.now();
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** The figures as one CHAOS-SUMMARY line (`npm run report:chaos` copies it into docs/reliability.md). */
function summary(name: string, f: StormFigures): string {
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    `CHAOS-SUMMARY ${name} members=${f.members} gone=${f.gone} downMs=${f.downMs} allBackMs=${f.backMs} exactMs=${f.exactMs} ` +
    `eventsAboutMembersBack[heard=${sum(f.heard)} history=${sum(f.history)}] lowestUserAmount=${f.lowest.userAmount} goneOffline=${f.goneOffline} ` +
    `ghosts=${f.ghosts.length} missing=${f.missing.length} changed=${f.changed.length}`
  );
}

function expectNoFlicker(name: string, figures: StormFigures): void {
  console.log(summary(name, figures));
  if (figures.flicker.length > 0) console.log(`restart storm: events about members that came back: ${figures.flicker.slice(0, 20).join(", ")}`);
  expect(figures.flicker, "events observers heard about members that came back").toEqual([]);
  expect(figures.lowest.userAmount, "observers' userAmount never below the members really gone").toBeGreaterThanOrEqual(figures.members - figures.gone);
  expect(figures.lowest.clientAmount, "observers' clientAmount never below the members really gone").toBeGreaterThanOrEqual(figures.members - figures.gone);
  expect(figures.ghosts, "members closed for good still online").toEqual([]);
  expect(figures.goneOffline, "members closed for good, offline in the channel's history").toBe(figures.gone);
  expect(figures.missing, "members back but not online").toEqual([]);
  expect(figures.changed, "members whose userData changed").toEqual([]);
}

describe.each<Engine>(["partykit", "workers"])("a restart storm on %s", (engine) => {
  it(`brings ${MEMBERS} members back after a kill -9 with no event about any of them, and takes the ${GONE} gone ones offline`, async () => {
    server = await startDevServer({ engine, vars: VARS });
    const channel = `restart-kill-${engine}-${Date.now().toString(36)}`;
    storm = await RestartStorm.join({ host: server.host, channel, members: MEMBERS });
    storm.mark();
    const downAt = Date.now();
    await server.kill9();
    storm.closeForGood(GONE);
    server = await startDevServer({ engine, vars: VARS, persistDir: server.persistDir, port: server.port });
    const figures = await storm.settle(downAt, Date.now());
    expectNoFlicker(`restart-${engine}-kill`, figures);
  }, 240_000);
});

describe("a deploy on Workers (the worker reloaded with changed code)", () => {
  it(`brings ${MEMBERS} members back with no event about any of them`, async () => {
    const worker = reloadableWorker();
    server = await startDevServer({ engine: "workers", vars: VARS, wranglerConfig: worker.config });
    const channel = `restart-deploy-${Date.now().toString(36)}`;
    storm = await RestartStorm.join({ host: server.host, channel, members: MEMBERS });
    storm.mark();
    const downAt = Date.now();
    worker.reload();
    // The sockets drop when the new code is loaded.
    const dropped = Date.now() + 60_000;
    while (storm.members.every((c) => c.socket.readyState === 1) && Date.now() < dropped) await new Promise((done) => setTimeout(done, 20));
    expect(storm.members.some((c) => c.socket.readyState !== 1), "the reload dropped the sockets").toBe(true);
    const figures = await storm.settle(downAt, await answering(server.host));
    expectNoFlicker("restart-workers-deploy", figures);
  }, 240_000);
});
