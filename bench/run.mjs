#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench` (`node bench/run.mjs`): our presence room (party/adapters/partykit/main.ts, as shipped,
 * default settings) beside a hand-rolled baseline (bench/naive-room.ts: one broadcast per
 * join, no batching), the peer a PartyKit user picks today (bench/yjs-room.ts: y-partykit
 * awareness) and the engine's floor (bench/empty-room.ts: accepts, does nothing), under
 * `partykit dev -c bench/partykit.json --disable-request-cf-fetch` on a free port with its own
 * --persist dir in a temp dir. See docs/benchmarks.md.
 *
 *   Scenario 1, join storm: N clients connect to one fresh room (bounded connects in
 *   flight); time until every client sees all N members, messages and bytes all clients
 *   received against the information minimum, workerd CPU seconds and peak RSS.
 *   Scenario 2, herenow over HTTP: sequential GET ?includeUsers=true on that room while its
 *   N members are still connected; requests/s, mean and p99 latency.
 *   Scenarios 3 and 4: the user directory's /users, and a push to a user's clients.
 *   Large rooms: N = 2,500 and 10,000 join our room (interval mode past PRESENCE_ANNOUNCE_MAX),
 *   the floor and the sending floor (bench/counts-room.ts: only the counts, once a second),
 *   each on a fresh server: time until every client holds the exact counts
 *   and its window, bytes per client after its snapshot, its busiest second, memory per member.
 *
 * Plain JavaScript (type-checked with JSDoc: `npx tsc -p bench/tsconfig.json`) so Node 20
 * runs it with no loader. Options (argv or env):
 *   --sizes 250,500,1000  BENCH_SIZES      full-membership room sizes (default 250,500,1000)
 *   --n 1000              BENCH_N          shorthand for sizes N/4,N/2,N
 *   --large 2500,10000    BENCH_LARGE      large-room sizes (interval mode; 0: none)
 *   --window 10           BENCH_WINDOW     the window large-room clients ask for
 *   --concurrency 50      BENCH_CONCURRENCY connects in flight (large rooms: 200)
 *   --herenow-ms 2000     BENCH_HERENOW_MS  how long to run each HTTP loop
 *   --timeout-ms 90000    BENCH_TIMEOUT_MS  give up on one storm after this long
 *   --rooms empty,counts,ours,naive,yjs,ours-nodir,ours-nohist BENCH_ROOMS  which rooms to run (empty = the engine's
 *                                          floor; counts = the sending floor, large rooms only; ours-nodir and
 *                                          ours-nohist: ours with PRESENCE_DIRECTORY=off / PRESENCE_HISTORY_MAX=0,
 *                                          each on a server of its own, full-membership storms only)
 *   --json FILE           BENCH_JSON       also write the raw figures as JSON
 *   --server-per-room true BENCH_SERVER_PER_ROOM  a fresh dev server per room (cleaner RSS)
 *   --directory-parts 4   BENCH_DIRECTORY_PARTS  PRESENCE_DIRECTORY_PARTS of the servers (0: a room per user)
 *   --push false          BENCH_PUSH       skip the push scenario (a user with 1, 10 and 32 clients)
 *   --write FILE          BENCH_WRITE      also write the report into FILE's generated section
 *                                          (`<!-- bench:begin -->` … `<!-- bench:end -->`)
 *   --section bench       BENCH_SECTION    the name of that section (another run, another section)
 *   --engines partykit,workers BENCH_ENGINES which engines to run; the Workers engine (bench/workers/worker.ts on
 *                                          Miniflare, hibernation on) runs the 1,000 full storm, the large rooms and
 *                                          the idle room beside its own floors
 *   --idle 1000           BENCH_IDLE       members of the idle room (heartbeats on, nothing else) on each engine; 0: none
 *   --idle-ms 90000       BENCH_IDLE_MS    how long the idle room is watched
 *   --largest 19000       BENCH_LARGEST    the largest room tried on the Workers engine (0: none); this machine's
 *                                          20,000 open files per process bound it below Cloudflare's 32,768
 *   --heap-max 32000      BENCH_HEAP_MAX   the room's heap per member in Node at this size too (0: none)
 *   --devices 10000       BENCH_DEVICES    HTTP clients on each engine: heartbeats/s of one room beside herenow, and a fleet of
 *                                          this many created and renewed in batches of 1,000 beside one PUT each (0: none)
 *   --restart 5000        BENCH_RESTART    restart storms: this many members on PresenceClient, the engine killed (-9) and started
 *                                          again on the same storage, on each engine, and on Workers a reload with changed code
 *                                          (a deploy); beside N raw sockets connecting to the do-nothing room (0: none)
 *   --latency 10,500,1000,i5000 BENCH_LATENCY  the latency of a lone change (bench/lib/latency.mjs), on each engine: rooms already
 *                                          holding N members (i-prefixed: ours in interval mode, the default PRESENCE_ANNOUNCE_MAX;
 *                                          the others in full mode), then lone joins and lone updates 0.3-0.7 s apart (interval
 *                                          mode: also 1.3-1.7 s apart, more than an interval), each timed until an observer holds
 *                                          the new counts or data: p50, p90, p99, ours beside the naive room (every change
 *                                          broadcast to every socket at once). Absent or 0: none (the default)
 *   --latency-samples 40  BENCH_LATENCY_SAMPLES  lone joins, and lone updates, timed per room and pass
 * Loopback only; every loop is bounded. Exits 0 when the run completed (a storm that timed
 * out is reported as such in the table), 1 when the bench itself could not run.
 */
import { rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "../scripts/doc-section.mjs";
import { hereNowThroughput, pushLatency, usersThroughput } from "./lib/http.mjs";
import { report } from "./lib/report.mjs";
import { roomHeap } from "./lib/room-heap.mjs";
import { generation, startServer, waitReady } from "./lib/server.mjs";
import { joinStorm, teardown } from "./lib/storm.mjs";
import { featureVars, idleRoom, webhookEndpoint } from "./lib/idle.mjs";
import { devicesBench } from "./lib/devices.mjs";
import { restartStorm } from "./lib/restart.mjs";
import { LATENCY_KINDS, latencyRoom, parseLatencySizes, sizeLabel } from "./lib/latency.mjs";
import { startWorkersServer } from "./lib/workers-server.mjs";
import { enginesReport, latencyReport } from "./lib/report.mjs";
import { fmt, UsageError } from "./lib/util.mjs";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** The small herenow page large rooms are also measured with. */
const SMALL_PAGE = 100;

/** @typedef {import("./lib/clients.mjs").Kind} Kind */
/** @typedef {import("./lib/server.mjs").Server} Server */
/** @typedef {import("./lib/storm.mjs").StormResult} StormResult */
/** @typedef {import("./lib/http.mjs").HereNowResult} HereNowResult */
/** @typedef {import("./lib/http.mjs").UsersResult} UsersResult */
/** @typedef {import("./lib/http.mjs").PushBench} PushBench */

const KINDS = /** @type {const} */ (["empty", "counts", "ours", "naive", "yjs", "ours-nodir", "ours-nohist"]);
/** Our room with a server-wide setting changed: each runs on a server of its own, with these settings. */
const OWN_SERVER = /** @type {Partial<Record<Kind, Record<string, string>>>} */ ({ "ours-nodir": { PRESENCE_DIRECTORY: "off" }, "ours-nohist": { PRESENCE_HISTORY_MAX: "0" } });

/**
 * @typedef {{ sizes: number[]; large: number[]; window: number; concurrency: number; herenowMs: number; herenowMax: number;
 *   timeoutMs: number; rooms: Kind[]; json: string | null; write: string | null; section: string; serverPerRoom: boolean; directoryParts: number;
 *   push: boolean; engines: Array<"partykit" | "workers">; idle: number; idleMs: number; largest: number; heapMax: number; devices: number; restart: number;
 *   latency: import("./lib/latency.mjs").LatencySize[]; latencySamples: number }} Options
 */

/** @returns {Options} */
function parseOptions() {
  /** @type {Record<string, string>} */
  const args = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${arg}`);
    const [key, inline] = arg.slice(2).split("=", 2);
    const value = inline ?? argv[++i];
    if (!key || value === undefined) throw new UsageError(`missing value for ${arg}`);
    args[key] = value;
  }
  /** @param {string} key @param {string} env */
  const get = (key, env) => args[key] ?? process.env[env];
  /** @param {string} key @param {string} env @param {number} fallback @param {number} max */
  const int = (key, env, fallback, max) => {
    const raw = get(key, env);
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new UsageError(`--${key} must be an integer in 1..${max}, got ${raw}`);
    return value;
  };
  /** @param {string | undefined} raw @param {number[]} fallback @param {number} max @param {string} key */
  const list = (raw, fallback, max, key) => {
    if (raw === undefined || raw === "") return fallback;
    if (raw === "0") return [];
    const values = raw.split(",").map((s) => Number(s.trim()));
    for (const v of values) if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`--${key} takes integers in 1..${max}, got ${raw}`);
    return [...new Set(values)].sort((a, b) => a - b);
  };
  const n = get("n", "BENCH_N");
  const sizes = n && !get("sizes", "BENCH_SIZES") ? list([Math.floor(Number(n) / 4), Math.floor(Number(n) / 2), Number(n)].join(","), [], 5000, "n") : list(get("sizes", "BENCH_SIZES"), [250, 500, 1000], 5000, "sizes");
  const rooms = /** @type {Kind[]} */ ((get("rooms", "BENCH_ROOMS") ?? KINDS.join(",")).split(",").map((s) => s.trim()));
  const engines = /** @type {Array<"partykit" | "workers">} */ ((get("engines", "BENCH_ENGINES") ?? "partykit,workers").split(",").map((s) => s.trim()));
  for (const engine of engines) if (engine !== "partykit" && engine !== "workers") throw new UsageError(`--engines takes partykit, workers; got ${engine}`);
  /** @param {string} key @param {string} env @param {number} fallback @param {number} max */
  const count = (key, env, fallback, max) => (get(key, env) === "0" ? 0 : int(key, env, fallback, max));
  for (const room of rooms) if (!KINDS.includes(/** @type {Kind} */ (room))) throw new UsageError(`--rooms takes ${KINDS.join(", ")}, got ${room}`);
  return {
    sizes,
    large: list(get("large", "BENCH_LARGE"), [2500, 10_000], 10_000, "large"),
    window: int("window", "BENCH_WINDOW", 10, 100),
    concurrency: int("concurrency", "BENCH_CONCURRENCY", 50, 500),
    herenowMs: int("herenow-ms", "BENCH_HERENOW_MS", 2000, 60_000),
    herenowMax: int("herenow-max", "BENCH_HERENOW_MAX", 5000, 100_000),
    timeoutMs: int("timeout-ms", "BENCH_TIMEOUT_MS", 90_000, 600_000),
    rooms,
    json: get("json", "BENCH_JSON") ?? null,
    write: get("write", "BENCH_WRITE") ?? null,
    section: get("section", "BENCH_SECTION") ?? "bench",
    serverPerRoom: ["1", "true", "yes"].includes(get("server-per-room", "BENCH_SERVER_PER_ROOM") ?? ""),
    directoryParts: get("directory-parts", "BENCH_DIRECTORY_PARTS") === "0" ? 0 : int("directory-parts", "BENCH_DIRECTORY_PARTS", 4, 1024),
    push: !["0", "false", "no"].includes(get("push", "BENCH_PUSH") ?? ""),
    engines,
    idle: count("idle", "BENCH_IDLE", 1000, 10_000),
    idleMs: int("idle-ms", "BENCH_IDLE_MS", 90_000, 600_000),
    largest: count("largest", "BENCH_LARGEST", 19_000, 32_768),
    heapMax: count("heap-max", "BENCH_HEAP_MAX", 32_000, 100_000),
    devices: count("devices", "BENCH_DEVICES", 10_000, 10_000),
    restart: count("restart", "BENCH_RESTART", 5000, 10_000),
    latency: parseLatencySizes(get("latency", "BENCH_LATENCY")),
    latencySamples: int("latency-samples", "BENCH_LATENCY_SAMPLES", 40, 1000),
  };
}

/** What one run gathers. */
class Results {
  /** @type {StormResult[]} */ storms = [];
  /** @type {HereNowResult[]} */ herenows = [];
  /** @type {UsersResult[]} */ users = [];
  /** @type {PushBench[]} */ pushes = [];
  /** @type {import("./lib/room-heap.mjs").RoomHeap[]} */ heaps = [];
  /** @type {import("./lib/idle.mjs").IdleResult[]} */ idle = [];
  /** @type {import("./lib/devices.mjs").DevicesResult[]} */ devices = [];
  /** @type {import("./lib/restart.mjs").RestartResult[]} */ restartStorms = [];
  /** @type {import("./lib/latency.mjs").LatencyResult[]} */ latency = [];
  crashed = false;
  restarts = 0;
}

/**
 * Runs `work` against a fresh dev server with these settings, and stops it after (or at exit).
 * @param {Record<string, string>} vars @param {string} what @param {Results} results @param {(server: Server) => Promise<void>} work
 * @param {"partykit" | "workers"} [engine]
 */
async function withServer(vars, what, results, work, engine = "partykit") {
  const server = engine === "workers" ? await startWorkersServer(vars) : await startServer(vars);
  const stopServer = () => {
    try {
      process.kill(-server.pgid, "SIGKILL");
    } catch {
      // gone
    }
    rmSync(server.dir, { recursive: true, force: true });
  };
  process.on("exit", stopServer);
  const label = engine === "workers" ? "Workers engine (Miniflare, bench/workers/worker.ts)" : "partykit dev (bench/partykit.json)";
  console.log(`${label} on ${server.host} for: ${what}; ${Object.entries(vars).map(([k, v]) => `${k}=${/(SECRET|KEY)$/.test(k) ? "…" : v}`).join(" ")}`);
  try {
    await work(server);
  } finally {
    results.crashed ||= !server.alive();
    const log = server.log();
    await server.stop();
    process.off("exit", stopServer);
    if (results.crashed) console.error(`${label} exited during the bench. Its output (tail):\n${log.slice(-4000)}`);
  }
}

/**
 * One storm and its HTTP loops; a run during which workerd was restarted (a rebuild) is run
 * again, at most twice. Returns false if the server died.
 * @param {Server} server @param {Kind} kind @param {number} n @param {Options} options @param {Results} results
 * @param {{ window?: number; concurrency?: number }} [large]
 */
async function measure(server, kind, n, options, results, large = {}) {
  for (let attempt = 1; ; attempt++) {
    if (!server.alive()) return false;
    const before = generation(server);
    process.stdout.write(`  ${kind.padEnd(10)} N=${String(n).padEnd(6)} join storm… `);
    const { result, clients } = await joinStorm(server, kind, n, { ...options, concurrency: large.concurrency ?? options.concurrency }, large.window ?? null);
    process.stdout.write(`${result.timedOut ? "TIMED OUT " : ""}${fmt(result.fullViewMs / 1000, 2)} s, ${fmt(result.messages)} messages; `);
    // The sending floor has no members to list.
    const http = kind === "yjs" || kind === "counts" ? null : await hereNowThroughput(server, kind, result.room, n, options);
    // Large rooms: a small page too (a dashboard's or an app's list), beside the largest.
    const smallPage = http !== null && large.concurrency !== undefined ? await hereNowThroughput(server, kind, result.room, n, options, SMALL_PAGE) : null;
    const users = kind === "ours" && large.window === undefined ? await usersThroughput(server, n, options) : null;
    result.closedBeforeTeardown = await teardown(server, kind, result.room, clients);
    const restarted = generation(server) !== before;
    if (restarted && attempt < 3 && server.alive()) {
      console.log(`void: partykit dev rebuilt/restarted workerd meanwhile (a source file changed); running it again`);
      results.restarts++;
      await waitReady(server, 60_000);
      continue;
    }
    result.restarted = restarted;
    result.large = large.concurrency !== undefined;
    results.storms.push(result);
    if (http) results.herenows.push({ ...http, large: result.large });
    if (smallPage) results.herenows.push({ ...smallPage, large: result.large });
    if (users) results.users.push(users);
    console.log(http ? `herenow ${fmt(http.perSecond)} req/s` : "");
    return true;
  }
}

async function main() {
  const options = parseOptions();
  // y-partykit's provider adds a process listener per client: a thousand of them is intended here.
  process.setMaxListeners(0);
  const started = performance.now();
  const cpu = cpus();
  console.log(
    `presence bench: sizes ${options.sizes.join(", ") || "none"}, large ${options.large.join(", ") || "none"}, ` +
      `latency ${options.latency.map(sizeLabel).join(", ") || "none"}, ${options.concurrency} connects in flight, ` +
      `HTTP loops ${options.herenowMs} ms; node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? "cpu"}, ` +
      `${fmt(totalmem() / 2 ** 30, 1)} GiB, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
  const results = new Results();
  const directoryParts = { PRESENCE_DIRECTORY_PARTS: String(options.directoryParts) };
  // One dev server for the full-membership rooms (default), or a fresh one per room so RSS is
  // its own; ours with the directory or the history off always gets a server of its own (a server-wide setting).
  // The sending floor (counts) runs with the large rooms only: it has no members to show.
  const fullRooms = options.rooms.filter((kind) => kind !== "counts");
  const shared = fullRooms.filter((kind) => !(kind in OWN_SERVER));
  const groups = options.serverPerRoom ? fullRooms.map((kind) => [kind]) : [...(shared.length > 0 ? [shared] : []), ...fullRooms.filter((kind) => kind in OWN_SERVER).map((kind) => [kind])];
  for (const kinds of options.engines.includes("partykit") ? groups : []) {
    if (results.crashed || options.sizes.length === 0) break;
    // Full membership: every member to every client, so the channel stays in full mode at every size run.
    const fullMode = { PRESENCE_ANNOUNCE_MAX: String(Math.max(1000, ...options.sizes)) };
    const vars = Object.assign({ ...directoryParts, ...fullMode }, ...kinds.map((kind) => OWN_SERVER[kind] ?? {}));
    await withServer(vars, kinds.join(", "), results, async (server) => {
      // Warm up the rooms' code paths (JIT, module load) with a small storm, not reported.
      for (const kind of kinds) {
        const warm = await joinStorm(server, kind, 20, { ...options, timeoutMs: 30_000 });
        if (kind !== "yjs") await hereNowThroughput(server, kind, warm.result.room, 20, { ...options, herenowMs: 200 });
        await teardown(server, kind, warm.result.room, warm.clients);
      }
      for (const n of options.sizes) for (const kind of kinds) if (!(await measure(server, kind, n, options, results))) return;
      // Pushes, once, where our room runs with the directory on.
      if (kinds.includes("ours") && options.push) {
        for (const k of [1, 10, 32]) {
          process.stdout.write(`  push to a user with ${k} clients… `);
          const result = await pushLatency(server, k, options);
          results.pushes.push(result);
          console.log(`${fmt(result.meanMs, 1)} ms mean`);
        }
      }
    });
  }
  // Large rooms: the floor and ours, each on a fresh server so its memory is its own.
  for (const n of options.engines.includes("partykit") ? options.large : []) {
    for (const kind of /** @type {const} */ (["empty", "counts", "ours", "ours-nodir"])) {
      if (results.crashed || !options.rooms.includes(kind)) continue;
      const vars = { ...directoryParts, ...(kind === "ours-nodir" ? { PRESENCE_DIRECTORY: "off" } : {}) };
      await withServer(vars, `${kind} at N=${n}`, results, async (server) => {
        await measure(server, kind, n, { ...options, timeoutMs: Math.max(options.timeoutMs, 180_000) }, results, { window: kind === "empty" ? undefined : options.window, concurrency: 200 });
      });
    }
  }
  // The room's own heap per member (its code in Node, no engine): what the RSS figures hold that is ours.
  if (options.rooms.includes("ours")) {
    for (const n of options.large) {
      process.stdout.write(`  ours       N=${String(n).padEnd(6)} room heap in Node… `);
      const heap = await roomHeap(BENCH_DIR, n, options.window);
      results.heaps.push(heap);
      console.log(`${fmt(heap.heapPerMember, 0)} bytes per member`);
    }
  }
  const workers = new Results();
  if (options.engines.includes("workers") && !results.crashed) await workersEngine(options, workers, directoryParts);
  // The latency of a lone change on each engine, ours beside the naive room (both engines' figures in `results`).
  for (const engine of options.latency.length > 0 ? options.engines : []) {
    if (results.crashed || workers.crashed) break;
    await latencyBench(engine, options, engine === "workers" ? workers : results, results.latency, directoryParts);
  }
  // The idle room on each engine, each on a fresh server with the default heartbeat: with the
  // optional features off, and with every one on (webhooks to an endpoint that answers, auth, an
  // HTTP client, watch lists, history and the directory).
  for (const engine of options.idle > 0 ? options.engines : []) {
    for (const features of [false, true]) {
      if (results.crashed || workers.crashed) break;
      const endpoint = features ? await webhookEndpoint() : null;
      const vars = endpoint ? { ...directoryParts, ...featureVars(endpoint.url) } : directoryParts;
      await withServer(vars, `the idle room, ${options.idle} members, ${features ? "every feature on" : "features off"}`, engine === "workers" ? workers : results, async (server) => {
        process.stdout.write(`  idle room  N=${String(options.idle).padEnd(6)} heartbeats on, ${features ? "every feature on" : "features off"}, ${options.idleMs / 1000} s… `);
        const idle = await idleRoom(server, engine, options.idle, options.idleMs, endpoint && { webhooks: endpoint.received });
        results.idle.push(idle);
        console.log(`${idle.starts} wakes, ${idle.roomPongs} pings answered by the room, ${idle.enginePongs} by the engine`);
      }, engine);
      await endpoint?.close();
    }
  }
  // Restart storms on each engine: a kill -9, and on Workers a deploy (a reload with changed code).
  for (const engine of options.restart > 0 ? options.engines : []) {
    for (const event of engine === "workers" ? /** @type {const} */ (["kill -9", "deploy"]) : /** @type {const} */ (["kill -9"])) {
      process.stdout.write(`  restart    ${engine}, ${event}, N=${options.restart}… `);
      const storm = await restartStorm(engine, event, options.restart, directoryParts);
      results.restartStorms.push(storm);
      const f = storm.figures;
      console.log(f ? `back in ${fmt(f.backMs / 1000, 1)} s, exact in ${fmt(f.exactMs / 1000, 1)} s, ${f.flicker.length} events about members back` : `failed: ${storm.error}`);
    }
  }
  // HTTP clients on each engine, each on a fresh server.
  for (const engine of options.devices > 0 && options.rooms.includes("ours") ? options.engines : []) {
    if (results.crashed || workers.crashed) break;
    await withServer(directoryParts, `devices: heartbeats, and ${options.devices} in batches`, engine === "workers" ? workers : results, async (server) => {
      process.stdout.write(`  devices    ${engine}: heartbeats for ${(options.herenowMs * 4) / 1000} s, a fleet of ${options.devices}… `);
      const devices = await devicesBench(server, engine, { loopMs: options.herenowMs, devices: options.devices, batch: 1000, inFlight: 16 });
      results.devices.push(devices);
      console.log(`${fmt(devices.heartbeatParallel.perSecond)} heartbeats/s; renewed ${fmt(devices.fleet.devices)} in ${fmt(devices.fleet.renewMs / 1000, 2)} s`);
    }, engine);
  }
  if (options.heapMax > 0 && options.rooms.includes("ours")) {
    process.stdout.write(`  ours       N=${String(options.heapMax).padEnd(6)} room heap in Node… `);
    const heap = await roomHeap(BENCH_DIR, options.heapMax, options.window);
    results.heaps.push(heap);
    console.log(`${fmt(heap.heapPerMember, 0)} bytes per member`);
  }
  if (results.restarts) console.log(`NOTE ${results.restarts} scenario run(s) were voided by a workerd restart and run again.`);
  // The PartyKit report covers its storms: nothing to say when none ran.
  const storms = options.sizes.length > 0 || options.large.length > 0;
  const partykitText = options.engines.includes("partykit") && storms ? report(options, results, (performance.now() - started) / 1000) : "";
  const latencyText = results.latency.length > 0 ? `\n${latencyReport(options, results.latency)}` : "";
  const text = `${partykitText}\n${enginesReport(options, results, workers, (performance.now() - started) / 1000)}${latencyText}`;
  if (options.json) writeFileSync(options.json, JSON.stringify({ options, ...results, workers }, null, 2));
  if (options.write && !results.crashed && !workers.crashed) {
    const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`;
    writeSection(options.write, options.section, command, `\`\`\`text\n${text.trim()}\n\`\`\``);
    console.log(`wrote the report into ${options.write}`);
  }
  return results.crashed || workers.crashed ? 1 : 0;
}

/**
 * The Workers engine beside its own floors: the full-membership storm at the largest size,
 * the large rooms (each on a fresh server), and the largest room this machine holds.
 * @param {Options} options @param {Results} results @param {Record<string, string>} directoryParts
 */
async function workersEngine(options, results, directoryParts) {
  const full = options.sizes.length > 0 ? Math.max(...options.sizes) : 0;
  const kinds = /** @type {Kind[]} */ (["empty", "ours"]).filter((kind) => options.rooms.includes(kind));
  if (full > 0 && kinds.length > 0) {
    await withServer({ ...directoryParts, PRESENCE_ANNOUNCE_MAX: String(Math.max(1000, full)) }, kinds.join(", "), results, async (server) => {
      for (const kind of kinds) {
        const warm = await joinStorm(server, kind, 20, { ...options, timeoutMs: 30_000 });
        await teardown(server, kind, warm.result.room, warm.clients);
      }
      for (const kind of kinds) if (!(await measure(server, kind, full, options, results))) return;
    }, "workers");
  }
  for (const n of options.large) {
    for (const kind of /** @type {const} */ (["empty", "counts", "ours"])) {
      if (results.crashed || !options.rooms.includes(kind)) continue;
      await withServer(directoryParts, `${kind} at N=${n}`, results, async (server) => {
        await measure(server, kind, n, { ...options, timeoutMs: Math.max(options.timeoutMs, 180_000) }, results, { window: kind === "empty" ? undefined : options.window, concurrency: 200 });
      }, "workers");
    }
  }
  if (options.largest > 0 && options.rooms.includes("ours") && !results.crashed) {
    // Past PRESENCE_MAX_CLIENTS' default (10,000): Cloudflare's own cap per object with hibernation.
    await withServer({ ...directoryParts, PRESENCE_MAX_CLIENTS: "32768" }, `ours at N=${options.largest}, the largest room`, results, async (server) => {
      await measure(server, "ours", options.largest, { ...options, timeoutMs: Math.max(options.timeoutMs, 300_000) }, results, { window: options.window, concurrency: 200 });
    }, "workers");
  }
}

/**
 * The latency of a lone change on one engine: the full-mode sizes on one server (PRESENCE_ANNOUNCE_MAX above the largest
 * room with its lone joiners, so it stays in full mode), the interval-mode sizes on another with the default (1000);
 * in each, the naive room and ours, each room after the other, after a warm-up room of each not reported.
 * @param {"partykit" | "workers"} engine @param {Options} options @param {Results} results (its `crashed`)
 * @param {import("./lib/latency.mjs").LatencyResult[]} into @param {Record<string, string>} directoryParts
 */
async function latencyBench(engine, options, results, into, directoryParts) {
  const kinds = LATENCY_KINDS.filter((kind) => options.rooms.includes(kind));
  const full = options.latency.filter((size) => !size.interval);
  const interval = options.latency.filter((size) => size.interval);
  const most = Math.max(0, ...full.map((size) => size.n));
  const groups = /** @type {const} */ ([
    [full, { PRESENCE_ANNOUNCE_MAX: String(Math.max(1000, most + options.latencySamples + 1)) }],
    [interval, {}],
  ]);
  for (const [sizes, vars] of groups) {
    if (sizes.length === 0 || results.crashed) continue;
    const what = `latency of a lone change, ${sizes.map(sizeLabel).join(", ")}`;
    await withServer({ ...directoryParts, ...vars }, what, results, async (server) => {
      for (const kind of kinds) await latencyRoom(server, engine, kind, { n: 10, interval: false }, { ...options, samples: 3, settleMs: 500 });
      for (const size of sizes) {
        for (const kind of kinds) {
          if (!server.alive()) return;
          process.stdout.write(`  latency    ${engine} ${kind.padEnd(6)} N=${sizeLabel(size).padEnd(6)} ${options.latencySamples} joins, ${options.latencySamples} updates per pass… `);
          const large = size.interval || size.n > 1000;
          const result = await latencyRoom(server, engine, kind, size, {
            ...options,
            samples: options.latencySamples,
            concurrency: large ? 200 : options.concurrency,
            timeoutMs: large ? Math.max(options.timeoutMs, 180_000) : options.timeoutMs,
          });
          into.push(result);
          const passes = result.passes.map((p) => `${p.pace.name}: join p50 ${fmt(p.join.p50, 1)} p99 ${fmt(p.join.p99, 1)} ms, update p50 ${fmt(p.update.p50, 1)} p99 ${fmt(p.update.p99, 1)} ms`);
          console.log(result.error ? `failed: ${result.error}` : passes.join("; "));
        }
      }
    }, engine);
  }
}

process.once("SIGINT", () => process.exit(130)); // runs the exit handlers that stop the servers

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof UsageError ? `bench: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
