// @ts-check
/**
 * Restart storms (`--restart 5000`): N members on the project's own client (PresenceClient,
 * with its own backoff and jitter) and two observers in one channel, with the service's default
 * settings; then the engine is killed with SIGKILL and started again on the same storage
 * (both engines), and on Workers its worker is also reloaded with changed code (a deploy: every
 * socket drops at once). Every client comes back on its own. Measured with the same code as
 * test/chaos/restart-storm.test.ts (test/support/restart-storm.ts, bundled here for Node): the
 * events observers heard and the channel's history holds about members that came back (target
 * 0), the lowest counts observers held, how long until every client was back and every count
 * exact, ghosts and lost members. Beside it, the engine's floor: N raw sockets connecting at
 * once to a room that does nothing, on the same restarted engine.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { connect } from "./clients.mjs";
import { startServer } from "./server.mjs";
import { reloadWorkers, startWorkersServer } from "./workers-server.mjs";
import { sleep } from "./util.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * @typedef {{ members: number; gone: number; flicker: string[]; heard: Record<string, number>; history: Record<string, number>;
 *   goneOffline: number; lowest: { userAmount: number; clientAmount: number }; downMs: number; backMs: number; exactMs: number;
 *   ghosts: string[]; missing: string[]; changed: string[] }} StormFigures
 * @typedef {{ engine: "partykit" | "workers"; event: "kill -9" | "deploy"; n: number; figures: StormFigures | null; error: string | null; floorMs: number | null; joinMs: number }} RestartResult
 */

/** test/support/restart-storm.ts, bundled for Node once (its packages stay imports). */
let stormModule = /** @type {Promise<any> | null} */ (null);
function loadStorm() {
  stormModule ??= (async () => {
    const out = join(ROOT, "test/.tmp/bench-restart-storm.mjs");
    mkdirSync(dirname(out), { recursive: true });
    await build({ entryPoints: [join(ROOT, "test/support/restart-storm.ts")], outfile: out, bundle: true, format: "esm", platform: "node", target: "node20", packages: "external", logLevel: "error" });
    return import(pathToFileURL(out).href);
  })();
  return stormModule;
}

/** Members closed for good during the outage: 1%. @param {number} n */
const goneOf = (n) => Math.max(1, Math.floor(n / 100));

/**
 * N raw sockets connecting at once (200 in flight) to the `empty` party: the engine's floor.
 * @param {string} host @param {number} n @returns {Promise<number>} ms until all were open
 */
async function connectFloor(host, n) {
  const room = `restart-floor-${Date.now().toString(36)}`;
  /** @type {import("ws").WebSocket[]} */
  const sockets = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < n) {
        next++;
        sockets.push(await connect(`ws://${host}/parties/empty/${room}`, () => {}, () => {}));
      }
    }),
  );
  const ms = performance.now() - started;
  for (const ws of sockets) ws.terminate();
  return ms;
}

/**
 * One restart storm on one engine: `event` is a kill -9 and a start on the same storage, or
 * (Workers) a reload with changed code.
 * @param {"partykit" | "workers"} engine @param {"kill -9" | "deploy"} event @param {number} n @param {Record<string, string>} vars
 * @returns {Promise<RestartResult>}
 */
export async function restartStorm(engine, event, n, vars) {
  const { RestartStorm } = await loadStorm();
  const start = (/** @type {{ port: number; dir: string } | null} */ again) => (engine === "workers" ? startWorkersServer(vars, again) : startServer(vars, again));
  let server = await start(null);
  /** @type {any} */
  let storm = null;
  /** @type {RestartResult} */
  const result = { engine, event, n, figures: null, error: null, floorMs: null, joinMs: 0 };
  try {
    const joinedAt = performance.now();
    storm = await RestartStorm.join({ host: server.host, channel: `restart-${n}-${Date.now().toString(36)}`, members: n, concurrency: 200 });
    result.joinMs = performance.now() - joinedAt;
    storm.mark();
    const downAt = Date.now();
    if (event === "deploy") {
      await reloadWorkers(server, 2);
    } else {
      await server.kill();
      storm.closeForGood(goneOf(n));
      server = await start({ port: server.port, dir: server.dir });
    }
    result.figures = await storm.settle(downAt, Date.now(), 300_000);
    storm.close();
    storm = null;
    await sleep(2000);
    result.floorMs = await connectFloor(server.host, n);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    storm?.close();
    await server.stop();
  }
  return result;
}
