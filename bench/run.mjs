#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench` (`node bench/run.mjs`): our presence room (party/channel/room.ts, as shipped,
 * default settings) against a hand-rolled baseline (bench/naive-room.ts: one broadcast per
 * join, no batching) and the engine's floor (bench/empty-room.ts: accepts, does nothing),
 * side by side, under one `partykit dev -c bench/partykit.json --disable-request-cf-fetch`
 * on a free port with its own --persist dir in a temp dir. See docs/benchmarks.md.
 *
 *   Scenario 1, join storm: N clients connect to one fresh room (bounded connects in
 *   flight); time until every client's view holds all N members, messages and bytes all
 *   clients received, workerd CPU seconds and peak RSS, load-generator CPU.
 *   Scenario 2, herenow over HTTP: sequential GET ?includeUsers=true on that room while
 *   its N members are still connected; requests/s, mean and p99 latency.
 *
 * Plain JavaScript (type-checked with JSDoc: `npx tsc -p bench/tsconfig.json`) so Node 20
 * runs it with no loader. Options (argv or env):
 *   --sizes 250,500,1000  BENCH_SIZES      room sizes to run (default 250,500,1000)
 *   --n 1000              BENCH_N          shorthand for sizes N/4,N/2,N
 *   --concurrency 50      BENCH_CONCURRENCY connects in flight
 *   --herenow-ms 2000     BENCH_HERENOW_MS  how long to run the herenow loop per room
 *   --timeout-ms 90000    BENCH_TIMEOUT_MS  give up on one storm after this long
 *   --rooms empty,ours,naive BENCH_ROOMS   which rooms to run (empty = the engine's floor)
 *   --json FILE           BENCH_JSON       also write the raw figures as JSON
 *   --server-per-room true BENCH_SERVER_PER_ROOM  a fresh dev server per room (cleaner RSS)
 *   --directory-parts 4   BENCH_DIRECTORY_PARTS  PRESENCE_DIRECTORY_PARTS of the servers (0: a room per user)
 *   --push false          BENCH_PUSH       skip the push scenario (a user with 1, 10 and 32 clients)
 *   --write FILE          BENCH_WRITE      also write the report into FILE's generated section
 *                                          (`<!-- bench:begin -->` … `<!-- bench:end -->`)
 * Loopback only; every loop is bounded. Exits 0 when the run completed (a storm that timed
 * out is reported as such in the table), 1 when the bench itself could not run.
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { writeSection } from "../scripts/doc-section.mjs";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, "..");
const CLK_TCK = clockTicks();

// ------------------------------------------------------------------------------ options

/** A bad option: printed without a stack. */
class UsageError extends Error {}

/** @typedef {"empty" | "ours" | "naive" | "ours-nodir"} Kind */
/**
 * @typedef {{ sizes: number[]; concurrency: number; herenowMs: number; herenowMax: number;
 *   timeoutMs: number; rooms: Kind[]; json: string | null; write: string | null; serverPerRoom: boolean; directoryParts: number;
 *   push: boolean }} Options
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
  let sizes = [250, 500, 1000];
  const rawSizes = get("sizes", "BENCH_SIZES");
  const n = get("n", "BENCH_N");
  if (rawSizes) sizes = rawSizes.split(",").map((s) => Number(s.trim()));
  else if (n) sizes = [...new Set([Math.floor(Number(n) / 4), Math.floor(Number(n) / 2), Number(n)])];
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > 5000) throw new UsageError(`sizes must be integers in 1..5000, got ${rawSizes ?? n}`);
  }
  const rooms = /** @type {Kind[]} */ ((get("rooms", "BENCH_ROOMS") ?? "empty,ours,naive,ours-nodir").split(",").map((s) => s.trim()));
  for (const room of rooms) {
    if (!["empty", "ours", "naive", "ours-nodir"].includes(room)) throw new UsageError(`--rooms takes empty, ours, naive and/or ours-nodir, got ${room}`);
  }
  return {
    sizes: sizes.filter((size) => size > 0).sort((a, b) => a - b),
    concurrency: int("concurrency", "BENCH_CONCURRENCY", 50, 500),
    herenowMs: int("herenow-ms", "BENCH_HERENOW_MS", 2000, 60_000),
    herenowMax: int("herenow-max", "BENCH_HERENOW_MAX", 5000, 100_000),
    timeoutMs: int("timeout-ms", "BENCH_TIMEOUT_MS", 90_000, 600_000),
    rooms,
    json: get("json", "BENCH_JSON") ?? null,
    write: get("write", "BENCH_WRITE") ?? null,
    serverPerRoom: ["1", "true", "yes"].includes(get("server-per-room", "BENCH_SERVER_PER_ROOM") ?? ""),
    directoryParts: get("directory-parts", "BENCH_DIRECTORY_PARTS") === "0" ? 0 : int("directory-parts", "BENCH_DIRECTORY_PARTS", 4, 1024),
    push: !["0", "false", "no"].includes(get("push", "BENCH_PUSH") ?? ""),
  };
}

// ------------------------------------------------------------------------------ the server

/**
 * @typedef {{ host: string; port: number; pgid: number; dir: string; alive(): boolean;
 *   log(): string; builds(): number; stop(): Promise<void> }} Server
 */

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Starts `partykit dev -c bench/partykit.json` with these settings and waits until the parties answer.
 * @param {Record<string, string>} vars @returns {Promise<Server>}
 */
async function startServer(vars) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "presence-bench-"));
  const args = [
    join(ROOT, "node_modules/partykit/dist/bin.mjs"),
    "dev",
    "-c",
    join(BENCH_DIR, "partykit.json"),
    "--disable-request-cf-fetch",
    "--no-hotkeys",
    "--port",
    String(port),
    "--persist",
    join(dir, "state"),
    ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}=${value}`]),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let builds = 0;
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    const text = String(chunk);
    // `partykit dev` always watches the source files and restarts workerd when one changes
    // (another session editing party/ while the bench runs): every socket drops then.
    if (text.includes("Build succeeded")) builds++;
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise((done) => child.once("exit", done));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const host = `127.0.0.1:${port}`;
  const pgid = /** @type {number} */ (child.pid);
  /** @param {NodeJS.Signals} signal */
  const signal = async (signal) => {
    if (!alive()) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // gone already
    }
    await Promise.race([exited, sleep(5000)]);
  };
  const server = {
    host,
    port,
    pgid,
    dir,
    alive,
    log: () => output,
    builds: () => builds,
    stop: async () => {
      await signal("SIGTERM");
      await signal("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!(await waitReady(server, 90_000))) {
    await server.stop();
    throw new Error(`partykit dev did not answer within 90 s:\n${output}`);
  }
  return server;
}

/**
 * Waits until both parties answer HTTP; false if the server died or the time ran out.
 * @param {Pick<Server, "host" | "alive">} server @param {number} timeoutMs
 */
async function waitReady(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (server.alive() && Date.now() < deadline) {
    const ready = await Promise.all(
      ["main", "naive", "empty"].map((party) =>
        fetch(`http://${server.host}/parties/${party}/ready-check`, { signal: AbortSignal.timeout(2000) })
          .then((response) => response.status === 200)
          .catch(() => false),
      ),
    );
    if (ready.every(Boolean)) return true;
    await sleep(250);
  }
  return false;
}

/**
 * A fingerprint of the running workerd: changes when partykit dev rebuilds the bundle or
 * restarts workerd, which drops every socket and voids the scenario that spans it.
 * @param {Server} server
 */
function generation(server) {
  return `${server.builds()}/${devServerPids(server.pgid).workerd.join(",")}`;
}

// ------------------------------------------------------------------------------ /proc

/**
 * The processes of our dev server (its process group; other dev servers on the machine have
 * their own), split into workerd and the rest (partykit's node process, esbuild).
 * @param {number} pgid
 */
function devServerPids(pgid) {
  /** @type {number[]} */
  const workerd = [];
  /** @type {number[]} */
  const other = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid) (stat.comm.startsWith("workerd") ? workerd : other).push(Number(entry));
  }
  return { workerd, other };
}

/** @param {number} pid */
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    return { comm, pgrp: Number(fields[2]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM (peak since start or last reset), in bytes. @param {number} pid */
function memory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    /** @param {string} key */
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/**
 * Watches the workerd processes through one scenario: CPU seconds used and peak RSS.
 * Resets the kernel's peak counter (clear_refs 5) so VmHWM is this scenario's peak, and
 * also samples RSS every 50 ms in case that reset is not allowed.
 * @param {number} pgid
 */
function watchWorkerd(pgid) {
  const { workerd: pids, other } = devServerPids(pgid);
  const otherCpu0 = sum(other.map((pid) => procStat(pid)?.cpuTicks ?? 0));
  let hwmReset = pids.length > 0;
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      hwmReset = false;
    }
  }
  const cpu0 = sum(pids.map((pid) => procStat(pid)?.cpuTicks ?? 0));
  const rss0 = sum(pids.map((pid) => memory(pid).rss));
  let sampled = rss0;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, sum(pids.map((pid) => memory(pid).rss)));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      const mems = pids.map(memory);
      const rssNow = sum(mems.map((m) => m.rss));
      const peak = Math.max(sampled, rssNow, hwmReset ? sum(mems.map((m) => m.hwm)) : 0);
      return {
        processes: pids.length,
        cpuSeconds: (sum(pids.map((pid) => procStat(pid)?.cpuTicks ?? 0)) - cpu0) / CLK_TCK,
        otherCpuSeconds: (sum(other.map((pid) => procStat(pid)?.cpuTicks ?? 0)) - otherCpu0) / CLK_TCK,
        rssStartMB: rss0 / 2 ** 20,
        rssPeakMB: peak / 2 ** 20,
        peakFrom: hwmReset ? "VmHWM" : "sampled",
      };
    },
  };
}

function clockTicks() {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

// ------------------------------------------------------------------------------ clients

/**
 * One benchmark client: a raw socket and the set of member ids its view holds.
 * @typedef {{ ws: WebSocket | null; view: Set<string>; done: boolean; syncing: boolean;
 *   seq: number | null; ping: ReturnType<typeof setInterval> | null }} Client
 */

/**
 * Applies one message of our protocol to a client's view (sync parts, then diffs). A
 * sequence gap asks for a fresh snapshot, as the real client does.
 * @param {Client} client @param {any} msg @param {{ gaps: number }} counters
 */
function applyOurs(client, msg, counters) {
  if (msg.type === "sync") {
    // Heartbeats as the real client sends them, so a long storm is not cut by the idle timeout.
    client.ping ??= setInterval(() => client.ws?.send('{"type":"ping"}'), msg.settings.heartbeatIntervalMs);
    if (!client.syncing) client.view.clear();
    for (const member of msg.members) if (member.status === "online") client.view.add(member.id);
    client.syncing = msg.more;
    client.seq = msg.seq;
  } else if (msg.type === "diff") {
    if (client.seq !== null && msg.seq !== client.seq + 1) {
      counters.gaps++;
      client.ws?.send(JSON.stringify({ type: "sync" }));
    }
    client.seq = msg.seq;
    for (const event of msg.events) {
      if (event.action === "join" || event.action === "online") client.view.add(event.member.id);
      else if (event.action === "leave" || event.action === "offline") client.view.delete(event.member.id);
    }
  }
}

/** Applies one message of the naive room's protocol. @param {Client} client @param {any} msg */
function applyNaive(client, msg) {
  if (msg.type === "list") for (const id of msg.ids) client.view.add(id);
  else if (msg.type === "join") client.view.add(msg.id);
  else if (msg.type === "leave") client.view.delete(msg.id);
}

/** @param {Kind} kind */
const partyOf = (kind) => (isOurs(kind) ? "main" : kind);
/** Our room, with the directory on or off. @param {Kind} kind */
const isOurs = (kind) => kind === "ours" || kind === "ours-nodir";

/**
 * Opens one socket; resolves once it is open. Retries a failed connect twice.
 * @param {string} url @param {(data: WebSocket.RawData) => void} onMessage @param {() => void} onClose
 * @returns {Promise<WebSocket>}
 */
async function connect(url, onMessage, onClose) {
  /** @type {unknown} */
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await new Promise((done, fail) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30_000 });
        ws.on("message", onMessage);
        ws.once("open", () => {
          ws.on("close", onClose);
          done(ws);
        });
        ws.once("error", fail);
        ws.once("unexpected-response", (_request, response) => fail(new Error(`refused with HTTP ${response.statusCode}`)));
      });
    } catch (error) {
      lastError = error;
      await sleep(200 * (attempt + 1));
    }
  }
  throw lastError;
}

// ------------------------------------------------------------------------------ scenario 1

/**
 * @typedef {{ kind: Kind; n: number; room: string; completed: number; timedOut: boolean;
 *   fullViewMs: number; connectMs: number; messages: number; megabytes: number; snapshotMegabytes: number;
 *   failedConnects: number; unexpectedCloses: number; closedBeforeTeardown: number; restarted: boolean; seqGaps: number; clientCpuSeconds: number;
 *   workerd: ReturnType<ReturnType<typeof watchWorkerd>["stop"]> }} StormResult
 */

/**
 * N clients join one fresh room, `concurrency` connects in flight; ends when every client's
 * view holds all N members (or at the timeout).
 * @param {Server} server @param {Kind} kind @param {number} n @param {Options} options
 * @returns {Promise<{ result: StormResult; clients: Client[] }>}
 */
async function joinStorm(server, kind, n, options) {
  const room = `storm-${kind}-${n}-${Date.now().toString(36)}`;
  const base = `ws://${server.host}/parties/${partyOf(kind)}/${room}`;
  const counters = { messages: 0, bytes: 0, snapshotBytes: 0, completed: 0, gaps: 0, failedConnects: 0, unexpectedCloses: 0 };
  /** @type {Client[]} */
  const clients = Array.from({ length: n }, () => ({ ws: null, view: new Set(), done: false, syncing: false, seq: null, ping: null }));
  let finishedAt = 0;
  /** @type {() => void} */
  let allDone = () => undefined;
  const everyoneSees = new Promise((done) => (allDone = () => done(undefined)));
  let measuring = true;

  const watch = watchWorkerd(server.pgid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  /** @param {Client} client */
  const handler = (client) => /** @param {WebSocket.RawData} data */ (data) => {
    const text = String(data);
    const msg = JSON.parse(text);
    if (msg.type === "pong") return; // heartbeat traffic, not presence
    if (measuring) {
      const bytes = data instanceof Buffer ? data.byteLength : text.length;
      counters.messages++;
      counters.bytes += bytes;
      if (msg.type === "sync" || msg.type === "list") counters.snapshotBytes += bytes;
    }
    if (isOurs(kind)) applyOurs(client, msg, counters);
    else applyNaive(client, msg);
    if (!client.done && client.view.size >= n && !client.syncing) {
      client.done = true;
      if (++counters.completed === n) {
        finishedAt = performance.now();
        allDone();
      }
    }
  };
  const onClose = () => {
    if (measuring) counters.unexpectedCloses++;
  };

  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      const client = /** @type {Client} */ (clients[i]);
      try {
        client.ws = await connect(`${base}?userId=u${i}`, handler(client), onClose);
      } catch {
        counters.failedConnects++;
      }
    }
  });
  await Promise.all(workers);
  const connectMs = performance.now() - t0;
  if (kind === "empty") {
    // The floor room sends nothing: its storm is over once every socket is open.
    finishedAt = performance.now();
    counters.completed = n - counters.failedConnects;
    allDone();
  }
  // Stop waiting early if workerd restarts (the caller then voids and reruns the storm).
  const before = generation(server);
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let poll;
  const restarted = new Promise((done) => {
    poll = setInterval(() => generation(server) !== before && done(false), 500);
  });
  const timedOut = !(await Promise.race([
    everyoneSees.then(() => true),
    restarted,
    sleep(Math.max(0, options.timeoutMs - connectMs)).then(() => false),
  ]));
  clearInterval(poll);
  const end = timedOut ? performance.now() : finishedAt;
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const workerd = watch.stop();
  return {
    clients,
    result: {
      kind,
      n,
      room,
      completed: counters.completed,
      timedOut,
      fullViewMs: end - t0,
      connectMs,
      messages: counters.messages,
      megabytes: counters.bytes / 2 ** 20,
      snapshotMegabytes: counters.snapshotBytes / 2 ** 20,
      failedConnects: counters.failedConnects,
      unexpectedCloses: counters.unexpectedCloses,
      closedBeforeTeardown: 0,
      restarted: false,
      seqGaps: counters.gaps,
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
      workerd,
    },
  };
}

// ------------------------------------------------------------------------------ scenario 2

/**
 * @typedef {{ kind: Kind; n: number; requests: number; seconds: number; perSecond: number;
 *   meanMs: number; p99Ms: number; users: number; clientAmount: number; errors: number }} HereNowResult
 */

/**
 * Sequential GET ?includeUsers=true on a room, for `herenowMs` (at most `herenowMax` requests).
 * @param {Server} server @param {Kind} kind @param {string} room @param {number} n @param {Options} options
 * @returns {Promise<HereNowResult>}
 */
async function hereNowThroughput(server, kind, room, n, options) {
  const url = `http://${server.host}/parties/${partyOf(kind)}/${room}?includeUsers=true`;
  const get = async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = await response.text();
    return { status: response.status, body };
  };
  // Warm up, and check that the room really lists the N users.
  let users = -1;
  let clientAmount = -1;
  for (let i = 0; i < 10; i++) {
    const { status, body } = await get();
    if (status === 200) {
      const channel = JSON.parse(body).content.channels[room];
      users = channel.users?.length ?? -1;
      clientAmount = channel.clientAmount;
    }
  }
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < options.herenowMs && latencies.length < options.herenowMax) {
    const start = performance.now();
    try {
      const { status } = await get();
      if (status !== 200) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - start);
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    kind,
    n,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    meanMs: sum(latencies) / Math.max(1, latencies.length),
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
    users,
    clientAmount,
    errors,
  };
}

// ------------------------------------------------------------------------------ scenario 3

/**
 * @typedef {{ n: number; ids: number; requests: number; perSecond: number; meanMs: number; p99Ms: number;
 *   online: number; errors: number }} UsersResult
 */

/**
 * Sequential POST /users for the storm's users (at most 1,000 ids: the most one call takes),
 * for `herenowMs`, while they are still connected: how fast the directory answers.
 * @param {Server} server @param {number} n @param {Options} options @returns {Promise<UsersResult>}
 */
async function usersThroughput(server, n, options) {
  const ids = Array.from({ length: Math.min(n, 1000) }, (_, i) => `u${i}`);
  const body = JSON.stringify({ userIds: ids });
  const ask = async () => {
    const response = await fetch(`http://${server.host}/users`, { method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, text: await response.text() };
  };
  // Warm up, and wait (bounded) until the directory has heard of every user.
  let online = 0;
  for (let i = 0; i < 40; i++) {
    const { status, text } = await ask();
    if (status === 200) online = Object.values(JSON.parse(text).content.users).filter((u) => /** @type {{online: boolean}} */ (u).online).length;
    if (online === ids.length && i >= 5) break;
    await sleep(100);
  }
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < options.herenowMs && latencies.length < options.herenowMax) {
    const start = performance.now();
    try {
      if ((await ask()).status !== 200) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - start);
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    n,
    ids: ids.length,
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    meanMs: sum(latencies) / Math.max(1, latencies.length),
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
    online,
    errors,
  };
}

// ------------------------------------------------------------------------------ scenario 4

/** @typedef {{ clients: number; channels: number; pushes: number; meanMs: number; p99Ms: number; allAcked: boolean; herenowMeanMs: number }} PushBench */

/**
 * A user with `k` clients spread over up to 5 channels (raw sockets that ack every push):
 * sequential POST /users/USER/push for `herenowMs`, the time from the POST to the answer;
 * beside a herenow of one of those channels, timed the same way.
 * @param {Server} server @param {number} k @param {Options} options @returns {Promise<PushBench>}
 */
async function pushLatency(server, k, options) {
  const userId = `pusher-${k}-${Date.now().toString(36)}`;
  const channels = Array.from({ length: Math.min(k, 5) }, (_, i) => `push-bench-${k}-${i}-${Date.now().toString(36)}`);
  /** @type {WebSocket[]} */
  const sockets = [];
  for (let i = 0; i < k; i++) {
    const url = `ws://${server.host}/parties/main/${channels[i % channels.length]}?userId=${userId}`;
    const ws = await connect(url, (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === "push") ws.send(JSON.stringify({ type: "ack", id: msg.id, ok: true }));
    }, () => undefined);
    sockets.push(ws);
  }
  // Wait (bounded) until the directory knows every client.
  for (let i = 0; i < 100; i++) {
    const body = await (await fetch(`http://${server.host}/users?userId=${userId}`)).json();
    const user = body.content.users[userId];
    if ((user.channels ?? []).reduce((/** @type {number} */ n, /** @type {{clientAmount: number}} */ c) => n + c.clientAmount, 0) === k) break;
    await sleep(100);
  }
  /** @param {() => Promise<boolean>} call */
  const time = async (call) => {
    /** @type {number[]} */
    const latencies = [];
    let good = true;
    const t0 = performance.now();
    while (performance.now() - t0 < options.herenowMs && latencies.length < options.herenowMax) {
      const start = performance.now();
      good = (await call()) && good;
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    return { latencies, good };
  };
  const pushed = await time(async () => {
    const response = await fetch(`http://${server.host}/users/${userId}/push`, { method: "POST", body: JSON.stringify({ data: { n: 1 } }), signal: AbortSignal.timeout(15_000) });
    const body = await response.json();
    return response.status === 200 && body.content.acked.length === k;
  });
  const herenow = await time(async () => (await fetch(`http://${server.host}/parties/main/${channels[0]}?includeUsers=true`)).status === 200);
  for (const ws of sockets) ws.terminate();
  return {
    clients: k,
    channels: channels.length,
    pushes: pushed.latencies.length,
    meanMs: sum(pushed.latencies) / Math.max(1, pushed.latencies.length),
    p99Ms: pushed.latencies[Math.min(pushed.latencies.length - 1, Math.floor(pushed.latencies.length * 0.99))] ?? NaN,
    allAcked: pushed.good,
    herenowMeanMs: sum(herenow.latencies) / Math.max(1, herenow.latencies.length),
  };
}

// ------------------------------------------------------------------------------ teardown

/**
 * Closes every client and waits (bounded) until the room holds no socket and, for our
 * room, no online member (its grace has run out), so leftover work does not leak into the
 * next measurement.
 * @param {Server} server @param {Kind} kind @param {string} room @param {Client[]} clients
 */
async function teardown(server, kind, room, clients) {
  const closedEarly = clients.filter((client) => client.ws && client.ws.readyState !== WebSocket.OPEN).length;
  for (const client of clients) {
    if (client.ping) clearInterval(client.ping);
    client.ws?.terminate();
  }
  if (kind === "empty") {
    await sleep(1000);
    return closedEarly;
  }
  const url = isOurs(kind)
      ? `http://${server.host}/parties/main/${room}?stats`
      : `http://${server.host}/parties/naive/${room}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const body = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json();
      const idle = isOurs(kind)
          ? body.content.sockets === 0 && body.content.userAmount === 0 && body.content.clientAmount === 0
          : body.content.channels[room].clientAmount === 0;
      if (idle) break;
    } catch {
      // try again
    }
    await sleep(250);
  }
  await sleep(500);
  return closedEarly;
}

// ------------------------------------------------------------------------------ report

/** @param {number[]} values */
function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** @param {number} value @param {number} digits */
function fmt(value, digits = 0) {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** @param {number} baseline @param {number} ours */
function ratio(baseline, ours) {
  if (!Number.isFinite(baseline) || !Number.isFinite(ours) || ours === 0) return "n/a";
  return `${fmt(baseline / ours, baseline / ours >= 10 ? 0 : 1)}x`;
}

/** @param {string[][]} rows */
function table(rows) {
  const widths = (rows[0] ?? []).map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  return rows
    .map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join("  "))
    .join("\n");
}

/**
 * @param {Options} options @param {StormResult[]} storms @param {HereNowResult[]} herenows
 * @param {UsersResult[]} users @param {PushBench[]} pushes @param {number} totalSeconds
 * @returns {string} the report, as printed
 */
function report(options, storms, herenows, users, pushes, totalSeconds) {
  /** @type {string[]} */
  const out = [];
  const print = (/** @type {string} */ line) => out.push(line);
  /** @param {Kind} kind @param {number} n */
  const storm = (kind, n) => storms.find((s) => s.kind === kind && s.n === n);
  /** @param {Kind} kind @param {number} n */
  const herenow = (kind, n) => herenows.find((h) => h.kind === kind && h.n === n);
  /** @type {string[][]} */
  const rows = [["join storm", "floor*", "naive", "ours", "ours, no dir", "naive/ours", "ours/no dir"]];
  for (const n of options.sizes) {
    const [f, a, b, d] = /** @type {const} */ (["empty", "naive", "ours", "ours-nodir"]).map((kind) => storm(kind, n));
    /** @param {string} label @param {(s: StormResult) => number} pick @param {number} digits */
    const row = (label, pick, digits) => {
      const [z, x, y, w] = [f, a, b, d].map((s) => (s ? pick(s) : NaN));
      rows.push([label, fmt(z ?? NaN, digits), fmt(x ?? NaN, digits), fmt(y ?? NaN, digits), fmt(w ?? NaN, digits), ratio(x ?? NaN, y ?? NaN), ratio(y ?? NaN, w ?? NaN)]);
    };
    rows.push([`N = ${n}`, "", "", "", "", "", ""]);
    row("  time until all see all (s)", (s) => s.fullViewMs / 1000, 2);
    row("  connect phase (s)", (s) => s.connectMs / 1000, 2);
    row("  messages received, all clients", (s) => s.messages, 0);
    row("  MB received, all clients", (s) => s.megabytes, 1);
    row("    of which snapshots (sync/list)", (s) => s.snapshotMegabytes, 1);
    row("  workerd CPU (s)", (s) => s.workerd.cpuSeconds, 2);
    row("  workerd peak RSS (MB)", (s) => s.workerd.rssPeakMB, 0);
    row("  workerd RSS growth (MB)", (s) => s.workerd.rssPeakMB - s.workerd.rssStartMB, 0);
    row("  partykit dev's node CPU (s)", (s) => s.workerd.otherCpuSeconds, 2);
    row("  load generator CPU (s)", (s) => s.clientCpuSeconds, 2);
  }
  /** @type {string[][]} */
  const httpRows = [["herenow over HTTP (sequential)", "floor*", "naive", "ours", "ours, no dir", "naive/ours", ""]];
  for (const n of options.sizes) {
    const [f, a, b, d] = /** @type {const} */ (["empty", "naive", "ours", "ours-nodir"]).map((kind) => herenow(kind, n));
    /** @param {string} label @param {(h: HereNowResult) => number} pick @param {number} digits */
    const row = (label, pick, digits) => {
      const [z, x, y, w] = [f, a, b, d].map((h) => (h ? pick(h) : NaN));
      httpRows.push([label, fmt(z ?? NaN, digits), fmt(x ?? NaN, digits), fmt(y ?? NaN, digits), fmt(w ?? NaN, digits), ratio(x ?? NaN, y ?? NaN), ""]);
    };
    httpRows.push([`N = ${n}`, "", "", "", "", "", ""]);
    row("  requests/s", (h) => h.perSecond, 0);
    row("  mean latency (ms)", (h) => h.meanMs, 2);
    row("  p99 latency (ms)", (h) => h.p99Ms, 2);
  }
  /** @type {string[][]} */
  const userRows = [["users' status: POST /users (sequential)", "ids", "calls/s", "mean (ms)", "p99 (ms)", "herenow mean (ms)", "users/herenow"]];
  for (const u of users) {
    const h = herenow("ours", u.n);
    userRows.push([`  N = ${u.n}, all online`, String(u.ids), fmt(u.perSecond, 0), fmt(u.meanMs, 2), fmt(u.p99Ms, 2), fmt(h?.meanMs ?? NaN, 2), ratio(u.meanMs, h?.meanMs ?? NaN)]);
  }
  /** @type {string[][]} */
  const pushRows = [["push to one user's clients (POST → answer)", "channels", "pushes", "mean (ms)", "p99 (ms)", "herenow mean (ms)", "push/herenow"]];
  for (const p of pushes) {
    pushRows.push([`  ${p.clients} client${p.clients === 1 ? "" : "s"}, all acking`, String(p.channels), String(p.pushes), fmt(p.meanMs, 2), fmt(p.p99Ms, 2), fmt(p.herenowMeanMs, 2), ratio(p.meanMs, p.herenowMeanMs)]);
  }
  print("");
  print(table(rows));
  print("");
  print(table(httpRows));
  if (users.length > 0) {
    print("");
    print(table(userRows));
  }
  if (pushes.length > 0) {
    print("");
    print(table(pushRows));
  }
  print("");
  /** @type {string[]} */
  const notes = [];
  for (const s of storms) {
    const what = `${s.kind} N=${s.n}`;
    if (s.restarted) notes.push(`${what}: workerd restarted during it three times in a row; its figures are void`);
    if (s.timedOut) notes.push(`${what}: TIMED OUT after ${fmt(s.fullViewMs / 1000, 1)} s with ${s.completed}/${s.n} clients seeing everyone`);
    if (s.failedConnects) notes.push(`${what}: ${s.failedConnects} connects failed`);
    if (s.unexpectedCloses) notes.push(`${what}: ${s.unexpectedCloses} sockets closed by the server during the storm`);
    if (s.closedBeforeTeardown) notes.push(`${what}: ${s.closedBeforeTeardown} sockets were closed before the bench closed them`);
    if (s.seqGaps) notes.push(`${what}: ${s.seqGaps} sequence gaps (clients resynced)`);
    if (s.workerd.processes === 0) notes.push(`${what}: no workerd process found in /proc; CPU and RSS not measured`);
  }
  for (const h of herenows) {
    if (h.kind === "empty") continue;
    if (h.users !== h.n || h.clientAmount !== h.n) notes.push(`${h.kind} N=${h.n}: herenow listed ${h.users} users, clientAmount ${h.clientAmount} (expected ${h.n})`);
    if (h.errors) notes.push(`${h.kind} N=${h.n}: ${h.errors} herenow requests failed`);
  }
  print(`floor* = a room that accepts sockets and does nothing (bench/empty-room.ts): the engine's own cost;`);
  print(`         its clients see no one, so its "time until all see all" is its connect phase.`);
  print(`ratio = naive / ours (above 1: ours uses less; for requests/s above 1 the naive room is faster);`);
  print(`        ours / no dir = what the user directory costs the storm (ours with PRESENCE_DIRECTORY=off, on its own server).`);
  print(`users: ${options.directoryParts === 0 ? "one directory room per user" : `users hashed over ${options.directoryParts} directory rooms`} (PRESENCE_DIRECTORY_PARTS); herenow mean = GET ?includeUsers of the same room.`);
  print(
    `workerd = ${options.serverPerRoom ? "a fresh dev server per room" : "one process for all rooms (RSS is cumulative: compare growth, or use --server-per-room true)"}; ` +
      `RSS peak from ${storms[0]?.workerd.peakFrom ?? "n/a"}, growth = peak minus RSS at the storm's start.`,
  );
  for (const p of pushes) if (!p.allAcked) notes.push(`push to ${p.clients} clients: some answers did not list every client as acked`);
  for (const u of users) {
    if (u.online !== u.ids) notes.push(`users N=${u.n}: the directory had ${u.online}/${u.ids} online when timing began`);
    if (u.errors) notes.push(`users N=${u.n}: ${u.errors} calls failed`);
  }
  for (const note of notes) print(`NOTE ${note}`);
  print(`Total bench time ${fmt(totalSeconds, 1)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`);
  const text = out.join("\n");
  console.log(text);
  return text;
}

// ------------------------------------------------------------------------------ main

async function main() {
  const options = parseOptions();
  const started = performance.now();
  const cpu = cpus();
  console.log(
    `presence bench: sizes ${options.sizes.join(", ")}, ${options.concurrency} connects in flight, ` +
      `herenow ${options.herenowMs} ms per room; node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? "cpu"}, ` +
      `${fmt(totalmem() / 2 ** 30, 1)} GiB, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
  /** @type {StormResult[]} */
  const storms = [];
  /** @type {HereNowResult[]} */
  const herenows = [];
  /** @type {UsersResult[]} */
  const usersResults = [];
  /** @type {PushBench[]} */
  const pushResults = [];
  let crashed = false;
  let restarts = 0;
  // One dev server for all rooms (default), or a fresh one per room so RSS is its own.
  // One dev server for all rooms (default), or a fresh one per room so RSS is its own; ours
  // with the directory off always gets a server of its own (it is a server-wide setting).
  const shared = options.rooms.filter((kind) => kind !== "ours-nodir");
  const groups = options.serverPerRoom
    ? options.rooms.map((kind) => [kind])
    : [...(shared.length > 0 ? [shared] : []), ...(options.rooms.includes("ours-nodir") ? [/** @type {Kind[]} */ (["ours-nodir"])] : [])];
  outer: for (const kinds of groups) {
    const vars = { PRESENCE_DIRECTORY_PARTS: String(options.directoryParts), ...(kinds.includes("ours-nodir") ? { PRESENCE_DIRECTORY: "off" } : {}) };
    const server = await startServer(vars);
    const stopServer = () => {
      try {
        process.kill(-server.pgid, "SIGKILL");
      } catch {
        // gone
      }
      rmSync(server.dir, { recursive: true, force: true });
    };
    process.on("exit", stopServer);
    console.log(`partykit dev on ${server.host} (bench/partykit.json) for: ${kinds.join(", ")}; ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    try {
      // Warm up the rooms' code paths (JIT, module load) with a small storm, not reported.
      for (const kind of kinds) {
        const warm = await joinStorm(server, kind, 20, { ...options, timeoutMs: 30_000 });
        await hereNowThroughput(server, kind, warm.result.room, 20, { ...options, herenowMs: 200 });
        await teardown(server, kind, warm.result.room, warm.clients);
      }
      for (const n of options.sizes) {
        for (const kind of kinds) {
          // A scenario during which workerd was restarted (a rebuild) is run again, at most twice.
          for (let attempt = 1; ; attempt++) {
            if (!server.alive()) {
              crashed = true;
              break outer;
            }
            const before = generation(server);
            process.stdout.write(`  ${kind.padEnd(5)} N=${String(n).padEnd(5)} join storm… `);
            const { result, clients } = await joinStorm(server, kind, n, options);
            process.stdout.write(
              `${result.timedOut ? "TIMED OUT " : ""}${fmt(result.fullViewMs / 1000, 2)} s, ${fmt(result.messages)} messages; herenow… `,
            );
            const http = await hereNowThroughput(server, kind, result.room, n, options);
            const users = kind === "ours" ? await usersThroughput(server, n, options) : null;
            result.closedBeforeTeardown = await teardown(server, kind, result.room, clients);
            const restarted = generation(server) !== before;
            if (restarted && attempt < 3 && server.alive()) {
              console.log(`void: partykit dev rebuilt/restarted workerd meanwhile (a source file changed); running it again`);
              restarts++;
              await waitReady(server, 60_000);
              continue;
            }
            result.restarted = restarted;
            storms.push(result);
            herenows.push(http);
            if (users) usersResults.push(users);
            console.log(`${fmt(http.perSecond)} req/s`);
            break;
          }
        }
      }
      // Pushes, once, where our room runs with the directory on.
      if (kinds.includes("ours") && options.push && server.alive()) {
        for (const k of [1, 10, 32]) {
          process.stdout.write(`  push to a user with ${k} clients… `);
          const result = await pushLatency(server, k, options);
          pushResults.push(result);
          console.log(`${fmt(result.meanMs, 1)} ms mean`);
        }
      }
    } finally {
      crashed ||= !server.alive();
      const log = server.log();
      await server.stop();
      process.off("exit", stopServer);
      if (crashed) console.error(`partykit dev exited during the bench. Its output (tail):\n${log.slice(-4000)}`);
    }
  }
  if (restarts) console.log(`NOTE ${restarts} scenario run(s) were voided by a workerd restart and run again.`);
  const text = report(options, storms, herenows, usersResults, pushResults, (performance.now() - started) / 1000);
  if (options.json) writeFileSync(options.json, JSON.stringify({ options, storms, herenows, users: usersResults, pushes: pushResults }, null, 2));
  if (options.write && !crashed) {
    const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`;
    writeSection(options.write, "bench", command, `\`\`\`text\n${text.trim()}\n\`\`\``);
    console.log(`wrote the report into ${options.write}`);
  }
  return crashed ? 1 : 0;
}

process.once("SIGINT", () => process.exit(130)); // runs the exit handlers that stop the servers

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof UsageError ? `bench: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
