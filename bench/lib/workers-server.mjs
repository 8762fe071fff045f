// @ts-check
/**
 * The bench's Workers engine: bench/workers/worker.ts (the service as shipped beside its
 * floors) bundled with esbuild as wrangler bundles it, run by Miniflare in a process of its
 * own (bench/lib/miniflare-host.mjs) on a free port with its own persist dir. Returns the
 * same `Server` as server.mjs, so every scenario runs on it unchanged.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { freePort } from "./server.mjs";
import { sleep } from "./util.mjs";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(BENCH_DIR, "..");

/**
 * Starts the Workers engine with these settings and waits until its parties answer.
 * @param {Record<string, string>} vars @returns {Promise<import("./server.mjs").Server>}
 */
export async function startWorkersServer(vars) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "presence-bench-workers-"));
  const script = join(dir, "worker.js");
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(BENCH_DIR, "workers/worker.ts")],
    outfile: script,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  const child = spawn(process.execPath, [join(BENCH_DIR, "lib/miniflare-host.mjs"), script, String(port), join(dir, "state"), JSON.stringify(vars)], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    output += String(chunk);
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
  const server = {
    host: `127.0.0.1:${port}`,
    port,
    pgid,
    dir,
    alive,
    log: () => output,
    builds: () => 0,
    stop: async () => {
      await signal("SIGTERM");
      await signal("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 60_000;
  while (alive() && Date.now() < deadline) {
    const ready = await Promise.all(
      ["main", "empty", "counts"].map((party) =>
        fetch(`http://${server.host}/parties/${party}/ready-check`, { signal: AbortSignal.timeout(2000) })
          .then((response) => response.status === 200)
          .catch(() => false),
      ),
    );
    if (ready.every(Boolean)) return server;
    await sleep(250);
  }
  await server.stop();
  throw new Error(`the Workers engine (Miniflare) did not answer within 60 s:\n${output}`);
}
