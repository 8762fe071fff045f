#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:partitioning`: how the user directory's partitioning costs a join storm and
 * a 1,000-user status call. For each PRESENCE_DIRECTORY_PARTS value it runs `bench/run.mjs`
 * (our room with the directory on, and off, N clients) and tabulates: storm time and workerd
 * CPU against the same storm with the directory off, and POST /users latency. Writes the
 * table into docs/architecture.md's `partitioning` section with `--write`.
 *   --parts 1,4,16,64,0   the values to try (0: one directory room per user)
 *   --n 1000              the storm's size (and ids per /users call, at most 1,000)
 *   --repeat 3            runs per value; the table shows each figure's median (this machine is noisy)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "../scripts/doc-section.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? /** @type {string} */ (args[at + 1]) : fallback;
};
const parts = option("parts", "1,4,16,64,0").split(",").map(Number);
const n = option("n", "1000");
const repeat = Number(option("repeat", "3"));
const write = args.includes("--write");
const dir = mkdtempSync(join(tmpdir(), "presence-partitioning-"));

/** @type {string[][]} */
const rows = [["PRESENCE_DIRECTORY_PARTS", "storm, dir on (s)", "storm, dir off (s)", "on/off (range)", "workerd CPU on/off", "POST /users, 1,000 ids: mean (ms)", "p99 (ms)"]];
/** @param {number[]} values */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
for (const p of parts) {
  /** @type {Array<{ on: number; off: number; cpu: number; mean: number; p99: number }>} */
  const runs = [];
  for (let r = 0; r < repeat; r++) {
    const json = join(dir, `parts-${p}-${r}.json`);
    process.stdout.write(`parts ${p}, run ${r + 1}/${repeat}… `);
    execFileSync(process.execPath, [join(here, "run.mjs"), "--sizes", n, "--rooms", "ours,ours-nodir", "--herenow-ms", "1000", "--directory-parts", String(p), "--push", "false", "--json", json], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const result = JSON.parse(readFileSync(json, "utf8"));
    const on = result.storms.find((/** @type {{kind: string}} */ s) => s.kind === "ours");
    const off = result.storms.find((/** @type {{kind: string}} */ s) => s.kind === "ours-nodir");
    const users = result.users[0];
    runs.push({ on: on.fullViewMs / 1000, off: off.fullViewMs / 1000, cpu: on.workerd.cpuSeconds / off.workerd.cpuSeconds, mean: users.meanMs, p99: users.p99Ms });
    console.log(`${runs.at(-1)?.on.toFixed(2)} s on, ${runs.at(-1)?.off.toFixed(2)} s off, /users ${runs.at(-1)?.mean.toFixed(1)} ms`);
  }
  const f = (/** @type {number} */ x, d = 2) => x.toFixed(d);
  const ratios = runs.map((run) => run.on / run.off);
  rows.push([
    p === 0 ? "0 (a room per user)" : String(p),
    f(median(runs.map((run) => run.on))),
    f(median(runs.map((run) => run.off))),
    `${f(median(ratios))}x (${f(Math.min(...ratios))}–${f(Math.max(...ratios))})`,
    `${f(median(runs.map((run) => run.cpu)))}x`,
    f(median(runs.map((run) => run.mean)), 1),
    f(median(runs.map((run) => run.p99)), 1),
  ]);
}
rmSync(dir, { recursive: true, force: true });
const table = [`| ${rows[0]?.join(" | ")} |`, `| ${rows[0]?.map(() => "---").join(" | ")} |`, ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`)].join("\n");
console.log(`\n${table}`);
if (write) {
  writeSection(join(here, "../docs/architecture.md"), "partitioning", `npm run bench:partitioning -- ${args.join(" ")}`, `A join storm of ${n} clients in one channel, and POST /users for their ids; medians of ${repeat} runs per value:\n\n${table}`);
  console.log("wrote docs/architecture.md");
}
