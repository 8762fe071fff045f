// @ts-check
/**
 * The bench's `partykit dev` (bench/partykit.json on a free port, its own --persist dir) and
 * what /proc says of it: its workerd processes, their CPU seconds and peak RSS.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep, sum } from "./util.mjs";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(BENCH_DIR, "..");
const CLK_TCK = clockTicks();

/**
 * @typedef {{ host: string; port: number; pgid: number; dir: string; alive(): boolean;
 *   log(): string; builds(): number; stop(): Promise<void>; kill(): Promise<void> }} Server
 * `stop` ends it and removes its folder; `kill` is a SIGKILL that keeps the folder (its state),
 * for a restart on the same storage.
 */

/** A TCP port nobody listens on now. @returns {Promise<number>} */
export function freePort() {
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
 * Starts `partykit dev -c bench/partykit.json` with these settings and waits until the parties answer;
 * `again`: on the port and folder (state) of a server killed before.
 * @param {Record<string, string>} vars @param {{ port: number; dir: string } | null} [again] @returns {Promise<Server>}
 */
export async function startServer(vars, again = null) {
  const port = again?.port ?? (await freePort());
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), "presence-bench-"));
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
  const server = spawnServer(args, port, dir, (text) => text.includes("Build succeeded"));
  if (!(await waitReady(server, 90_000))) {
    await server.stop();
    throw new Error(`partykit dev did not answer within 90 s:\n${server.log()}`);
  }
  return server;
}

/**
 * Spawns a dev server's process in a process group of its own (so its workerd can be watched
 * and killed with it) and keeps the tail of what it prints; `isBuild` spots a line that says
 * it rebuilt. Used by startServer and by workers-server.mjs.
 * @param {string[]} args node's arguments @param {number} port @param {string} dir removed at stop
 * @param {(text: string) => boolean} [isBuild] @returns {Server}
 */
export function spawnServer(args, port, dir, isBuild = () => false) {
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let builds = 0;
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    const text = String(chunk);
    // `partykit dev` always watches the source files and restarts workerd when one changes
    // (another session editing party/ while the bench runs): every socket drops then.
    if (isBuild(text)) builds++;
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise((done) => child.once("exit", done));
  const alive = () => child.exitCode === null && child.signalCode === null;
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
  return {
    host: `127.0.0.1:${port}`,
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
    kill: () => signal("SIGKILL"),
  };
}

/**
 * Waits until both parties answer HTTP; false if the server died or the time ran out.
 * @param {Pick<Server, "host" | "alive">} server @param {number} timeoutMs
 */
export async function waitReady(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (server.alive() && Date.now() < deadline) {
    const ready = await Promise.all(
      ["main", "naive", "empty", "counts", "yjs"].map((party) =>
        fetch(`http://${server.host}/parties/${party}/ready-check`, { signal: AbortSignal.timeout(2000) })
          // Any answer but a 5xx: with auth on a room answers 401 to a request without the key.
          .then((response) => response.status < 500)
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
export function generation(server) {
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
export function watchWorkerd(pgid) {
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
        rssEndMB: rssNow / 2 ** 20,
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
