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
import { build } from "esbuild";
import { freePort, spawnServer } from "./server.mjs";
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
  const server = spawnServer([join(BENCH_DIR, "lib/miniflare-host.mjs"), script, String(port), join(dir, "state"), JSON.stringify(vars)], port, dir);
  const deadline = Date.now() + 60_000;
  while (server.alive() && Date.now() < deadline) {
    const ready = await Promise.all(
      ["main", "empty", "counts"].map((party) =>
        fetch(`http://${server.host}/parties/${party}/ready-check`, { signal: AbortSignal.timeout(2000) })
          // Any answer but a 5xx: with auth on a room answers 401 to a request without the key.
          .then((response) => response.status < 500)
          .catch(() => false),
      ),
    );
    if (ready.every(Boolean)) return server;
    await sleep(250);
  }
  await server.stop();
  throw new Error(`the Workers engine (Miniflare) did not answer within 60 s:\n${server.log()}`);
}
