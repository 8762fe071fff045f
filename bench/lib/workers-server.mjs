// @ts-check
/**
 * The bench's Workers engine: bench/workers/worker.ts (the service as shipped beside its
 * floors) bundled with esbuild as wrangler bundles it, run by Miniflare in a process of its
 * own (bench/lib/miniflare-host.mjs) on a free port with its own persist dir. Returns the
 * same `Server` as server.mjs, so every scenario runs on it unchanged.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build as build_ } from "esbuild";
import { freePort, spawnServer } from "./server.mjs";
import { sleep } from "./util.mjs";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(BENCH_DIR, "..");

/**
 * Starts the Workers engine with these settings and waits until its parties answer; `again`:
 * on the port and folder (state) of a server killed before.
 * @param {Record<string, string>} vars @param {{ port: number; dir: string } | null} [again]
 * @returns {Promise<import("./server.mjs").Server>}
 */
export async function startWorkersServer(vars, again = null) {
  const port = again?.port ?? (await freePort());
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), "presence-bench-workers-"));
  const script = join(dir, "worker.js");
  await buildWorker(script, 1);
  const server = spawnServer([join(BENCH_DIR, "lib/miniflare-host.mjs"), script, String(port), join(dir, "state"), JSON.stringify(vars)], port, dir);
  const deadline = Date.now() + 60_000;
  while (server.alive() && Date.now() < deadline) {
    if (await answers(server.host)) return server;
    await sleep(250);
  }
  await server.stop();
  throw new Error(`the Workers engine (Miniflare) did not answer within 60 s:\n${server.log()}`);
}

/**
 * What a deploy does: the worker rebuilt with changed code (`build` goes into it) and loaded
 * in place of the running one, which drops every socket of every room; resolves once it answers.
 * @param {import("./server.mjs").Server} server @param {number} build
 */
export async function reloadWorkers(server, build) {
  await buildWorker(join(server.dir, "worker.js"), build);
  // The host process alone (workerd, in the same group, would die of the signal).
  process.kill(server.pgid, "SIGUSR2");
  const deadline = Date.now() + 60_000;
  // The reload takes a moment to start: wait until a request fails or the engine was replaced, then until it answers.
  while (Date.now() < deadline && !server.log().includes(`reloaded ${build}`)) await sleep(20);
  while (Date.now() < deadline && !(await answers(server.host))) await sleep(50);
}

/** Whether every party the bench uses answers HTTP (any status below 500). @param {string} host */
async function answers(host) {
  const ready = await Promise.all(
    ["main", "empty", "counts", "naive"].map((party) =>
      fetch(`http://${host}/parties/${party}/ready-check`, { signal: AbortSignal.timeout(2000) })
        // Any answer but a 5xx: with auth on a room answers 401 to a request without the key.
        .then((response) => response.status < 500)
        .catch(() => false),
    ),
  );
  return ready.every(Boolean);
}

/** Bundles bench/workers/worker.ts as wrangler does; `build` marks the code (a reload is a change). @param {string} script @param {number} build */
async function buildWorker(script, build) {
  await build_({
    banner: { js: `// build ${build}` },
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
}
