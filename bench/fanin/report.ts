/** The fan-in simulation's figures as a table (the terminal's, and the docs' markdown). */
import type { SimOptions, SimResult } from "./simulation.ts";
import type { PartyFigures, WindowFigures } from "./tally.ts";

const f = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(n >= 10 ? 1 : 2));

/** The scenario in one line. */
export function scenario(options: SimOptions): string {
  const c = options.design.config;
  return (
    `design ${options.design.name}: ${options.channels.toLocaleString("en-US")} channels, ${options.users.toLocaleString("en-US")} users online (one socket each), ` +
    `${options.httpClients.toLocaleString("en-US")} HTTP clients (heartbeat every ${(options.httpBeatMs ?? 20_000) / 1000} s, TTL ${(options.httpTtlMs ?? 60_000) / 1000} s), ` +
    `${options.isolates.toLocaleString("en-US")} edge isolates (each connect and heartbeat through a random one), the starting users connecting over the first ${(options.rampMs ?? 0) / 1000} s, ` +
    `churn ${options.churnPerSec.toLocaleString("en-US")} joins/s (a new user's socket) and as many leaves/s (a socket closes: ${c.graceMs / 1000} s grace, then offline); ` +
    `lease ${c.leaseMs / 1000} s, ${c.directoryParts} directory parts, heartbeat timeout ${c.heartbeatTimeoutMs / 1000} s, reply latency ${options.latencyMs ?? 5} ms; ` +
    `${options.seconds} virtual s, the first ${(options.warmupMs ?? c.leaseMs) / 1000} s (start-up: every channel fills) reported apart`
  );
}

/** One row per party and window, as markdown. */
export function table(result: SimResult): string {
  const rows = [
    "| party | objects | window | total req/s (mean) | total req/s (peak second) | hottest object: mean req/s | hottest object: peak req/s | mean req/s by call |",
    "|---|--:|---|--:|--:|--:|--:|---|",
  ];
  const row = (party: PartyFigures, label: string, w: WindowFigures) =>
    `| ${party.party} | ${party.objects.toLocaleString("en-US")} | ${label} (${w.seconds} s) | ${f(w.totalMean)} | ${f(w.totalPeak)} | ${f(w.hottestMean)} (${w.hottestMeanObject}) | ${f(w.hottestPeak)} (${w.hottestPeakObject}) | ${Object.entries(w.byName)
      .map(([name, n]) => `${name} ${f(n)}`)
      .join(", ")} |`;
  for (const party of result.figures) {
    if (party.measured.seconds > 0) rows.push(row(party, "after start-up", party.measured));
    if (party.warmup.seconds > 0) rows.push(row(party, "start-up", party.warmup));
  }
  return rows.join("\n");
}
