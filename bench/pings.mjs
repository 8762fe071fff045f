#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:pings -- [--sockets 5000] [--members 2] [--concurrency 200] [--parties main,naive]
 * [--engines workers] [--write FILE]`: whether every socket of a storm is still heard once all are
 * open. `sockets` raw sockets open (`concurrency` connects in flight) into rooms of `members`,
 * then each sends a ping a second for 8 s, and the bench counts, 5 s later, the sockets that got an
 * answer to each ping. Our room
 * (`main`) answers `{"type":"ping"}` (on Workers the engine answers it for the room); the naive
 * floor (`naive`, which hibernates too) is sent an update, which it broadcasts to the room's
 * other member. A socket with no answer at all is one the engine no longer reads: the room hears
 * nothing from it and closes it as idle (4001) at the heartbeat timeout. Written for the storms
 * of `bench:channels` that fail that way (docs/benchmarks.md, "Sockets the engine stops reading").
 */
import WebSocket from "ws";
import { writeSection } from "../scripts/doc-section.mjs";
import { connect } from "./lib/clients.mjs";
import { startServer } from "./lib/server.mjs";
import { startWorkersServer } from "./lib/workers-server.mjs";
import { cliOptions, fmt, sleep, table, UsageError } from "./lib/util.mjs";

const args = process.argv.slice(2);
const { option, count } = cliOptions(args, ["sockets", "members", "concurrency", "parties", "engines", "write"]);
const sockets = count("sockets", 5000);
const members = count("members", 2);
const concurrency = count("concurrency", 200);
const parties = option("parties", "main,naive").split(",");
const engines = option("engines", "workers").split(",");
for (const party of parties) if (party !== "main" && party !== "naive") throw new UsageError(`--parties takes main and naive, not ${party}`);
for (const engine of engines) if (engine !== "partykit" && engine !== "workers") throw new UsageError(`--engines takes partykit and workers, not ${engine}`);

const PINGS = 8;

/** One socket of the run: its place in the opening order, and the answers it got. @typedef {{ ws: WebSocket; answers: number }} Probe */

/**
 * Opens every socket, pings, and counts the answers.
 * @param {string} engine @param {string} party
 * @returns {Promise<{ all: number; some: number; none: number; firstDeaf: number; lastDeaf: number }>}
 */
async function runOnce(engine, party) {
  const server = engine === "workers" ? await startWorkersServer({}) : await startServer({});
  const run = Date.now();
  /** @type {Probe[]} */
  const probes = [];
  try {
    let next = 0;
    const open = async (/** @type {number} */ i) => {
      const url = `ws://${server.host}/parties/${party}/pings-${run}-${Math.floor(i / members)}?userId=u${i}`;
      // Our room's pong, or the naive room's broadcast of the other member's update.
      const answer = party === "main" ? '"pong"' : '"update"';
      /** @type {{ ws: WebSocket | null; answers: number }} */
      const probe = { ws: null, answers: 0 };
      probe.ws = await connect(url, (data) => void (String(data).includes(answer) && probe.answers++), () => undefined);
      probe.ws.on("error", () => undefined);
      probes[i] = /** @type {Probe} */ (probe);
    };
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < sockets) await open(next++);
    }));
    const frame = party === "main" ? '{"type":"ping"}' : '{"type":"update","data":1}';
    for (let k = 0; k < PINGS; k++) {
      await sleep(1000);
      for (const probe of probes) if (probe.ws.readyState === WebSocket.OPEN) probe.ws.send(frame);
    }
    await sleep(5000);
    const deaf = probes.flatMap((probe, i) => (probe.answers === 0 ? [i] : []));
    // The naive room's member hears its peer's updates, some of them coalesced or late: any answer counts as heard.
    const all = probes.filter((probe) => probe.answers >= (party === "main" ? PINGS : 1)).length;
    return { all, some: sockets - all - deaf.length, none: deaf.length, firstDeaf: deaf[0] ?? NaN, lastDeaf: deaf.at(-1) ?? NaN };
  } finally {
    for (const probe of probes) probe?.ws.terminate();
    await server.stop();
  }
}

const rows = [["engine", "room", "sockets", "all answered", "some", "none", "unanswered: first opened", "last opened"]];
for (const engine of engines) {
  for (const party of parties) {
    process.stdout.write(`${engine}, ${party}… `);
    const result = await runOnce(engine, party);
    console.log(`${result.none} of ${sockets} sockets never answered`);
    rows.push([engine, party === "main" ? "ours" : "naive floor", fmt(sockets), fmt(result.all), fmt(result.some), fmt(result.none), fmt(result.firstDeaf), fmt(result.lastDeaf)]);
  }
}
const body = `${sockets.toLocaleString("en-US")} sockets in rooms of ${members}, opened ${concurrency} at a time; then ${PINGS} pings a socket, one a second; answers counted 5 s after the last:\n\n${table(rows)}`;
console.log(`\n${body}`);
const write = option("write", "");
if (write !== "") writeSection(write, "pings", `npm run bench:pings -- ${args.filter((arg, i) => arg !== "--write" && args[i - 1] !== "--write").join(" ")}`.trim(), `\`\`\`\n${body}\n\`\`\``);
