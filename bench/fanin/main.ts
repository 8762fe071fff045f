/**
 * `npm run bench:fanin -- [--channels N] [--users N] [--http-clients N] [--isolates N]
 * [--churn N] [--seconds S] [--warmup S] [--latency MS] [--ramp S] [--parts N]
 * [--shards N] [--index-root on] [--heartbeat-timeout S] [--ban-replicas N] [--seed N] [--write FILE [--section NAME]]`: the fan-in
 * simulation (simulation.ts) at a given size, the design as the code stands with these settings (`--shards 1`: one
 * index object, as before the shards; `--index-root on`: the shards' forwarding to the root played too; the isolates
 * reading the bans from the root, or with `--ban-replicas N` from N ban replicas);
 * prints the requests a second into each party's objects. `--write docs/benchmarks.md` puts the
 * table into that file's `fanin` section (or `--section NAME`'s).
 */
import { writeSection } from "../../scripts/doc-section.mjs";
import { todayDesign } from "./design.ts";
import { scenario, table } from "./report.ts";
import { simulate, type SimOptions } from "./simulation.ts";

const args = process.argv.slice(2);
const known = new Set(["channels", "users", "http-clients", "isolates", "churn", "seconds", "warmup", "latency", "ramp", "parts", "shards", "index-root", "heartbeat-timeout", "ban-replicas", "seed", "write", "section"]);
const value = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
for (const arg of args) if (arg.startsWith("--") && !known.has(arg.slice(2))) throw new Error(`unknown option ${arg} (known: ${[...known].map((k) => `--${k}`).join(" ")})`);
const number = (name: string, fallback: number): number => {
  const text = value(name);
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, "").replace(/\/s$/, ""));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number, not ${text}`);
  return n;
};

const design = todayDesign(
  {
    ...(value("parts") === undefined ? {} : { directoryParts: number("parts", 4) }),
    // PRESENCE_INDEX_SHARDS: the index shards channels report to.
    ...(value("shards") === undefined ? {} : { indexShards: Math.max(1, number("shards", 16)) }),
    // Seconds a socket may be silent (PRESENCE_HEARTBEAT_TIMEOUT_MS): past the run, rooms never wake for their idle check.
    ...(value("heartbeat-timeout") === undefined ? {} : { heartbeatTimeoutMs: number("heartbeat-timeout", 30) * 1000 }),
    ...(value("ban-replicas") === undefined ? {} : { banReplicas: Math.max(1, number("ban-replicas", 8)) }),
  },
  { banReads: value("ban-replicas") === undefined ? "root" : "replicas" },
);
const warmup = value("warmup");
const options: SimOptions = {
  design,
  channels: number("channels", 100_000),
  users: number("users", 1_000_000),
  httpClients: number("http-clients", 10_000),
  isolates: number("isolates", 1_000),
  churnPerSec: number("churn", 1_000),
  seconds: number("seconds", 300),
  ...(warmup === undefined ? {} : { warmupMs: number("warmup", 0) * 1000 }),
  latencyMs: number("latency", 5),
  rampMs: number("ramp", 10) * 1000,
  seed: number("seed", 1),
  // `--index-root on`: the shards' forwarding to the root (index/all) is simulated and counted too.
  indexRoot: value("index-root") === "on",
};
console.log(scenario(options));
let lastReport = performance.now();
const result = await simulate({
  ...options,
  progress: (second) => {
    if (performance.now() - lastReport < 10_000) return;
    lastReport = performance.now();
    console.log(`  … virtual ${second} s, ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB heap`);
  },
});
const { stats } = result;
const ran =
  `${stats.events.toLocaleString("en-US")} events, ${stats.runs.toLocaleString("en-US")} room runs, ${stats.rooms.toLocaleString("en-US")} rooms, ` +
  `${(stats.wallMs / 1000).toFixed(1)} s of wall time, ${Math.round(process.resourceUsage().maxRSS / 1024).toLocaleString("en-US")} MiB peak memory`;
console.log(`${table(result)}\n\n${ran}`);

const file = value("write");
if (file !== undefined) {
  const command = `npm run bench:fanin -- ${args.join(" ")}`;
  writeSection(file, value("section") ?? "fanin", command, `${scenario(options)}.\n\n${table(result)}\n\n${ran}.`);
  console.log(`wrote the figures into ${file}`);
}
