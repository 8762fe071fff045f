#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:channels -- [--channels 2500] [--members 2] [--concurrency 200] [--repeat 1]
 * [--engines partykit,workers] [--vars NAME=VALUE,…] [--write FILE]`: many small channels at once, the cost that
 * 100,000 channels multiply. `channels × members` raw sockets (one user each) connect, at most
 * `concurrency` in flight, to
 *   - the engine's floor (bench/empty-room.ts: rooms that accept and do nothing): the clock
 *     stops when every socket is open;
 *   - our room (default settings, the directory and the index on): the clock stops when every
 *     socket holds its channel's exact counts and members, and again when the cross-room parts
 *     agree: `GET /channels` lists every channel with its counts and `POST /users` has every
 *     user online.
 * Our sockets ping as the real client does, and one the room closes as idle (4001) comes back with
 * the same id (`_pk`), as partysocket does; such reconnects are counted and printed.
 * `--vars` gives our room's server settings (PRESENCE_DIRECTORY=off: what the directory costs).
 * Each kind on a fresh server; figures are medians of `repeat` runs, with workerd's CPU seconds.
 * `--write docs/benchmarks.md` puts the table into that file's `channels` section.
 */
import WebSocket from "ws";
import { writeSection } from "../scripts/doc-section.mjs";
import { applyOurs, connect } from "./lib/clients.mjs";
import { startServer, watchWorkerd } from "./lib/server.mjs";
import { startWorkersServer } from "./lib/workers-server.mjs";
import { cliOptions, fmt, ratio, sleep, table, UsageError } from "./lib/util.mjs";

/** @typedef {import("./lib/server.mjs").Server} Server */
/** @typedef {"empty" | "ours"} Kind */
/** @typedef {{ kind: Kind; openMs: number; exactMs: number; crossMs: number; cpuSeconds: number; failed: number; reconnects: number }} Run */

const args = process.argv.slice(2);
const { option, count } = cliOptions(args, ["channels", "members", "concurrency", "repeat", "engines", "write", "timeout-ms", "vars"]);
const channels = count("channels", 2500);
const members = count("members", 2);
const concurrency = count("concurrency", 200);
const repeat = count("repeat", 1);
const timeoutMs = count("timeout-ms", 180_000);
const engines = option("engines", "partykit").split(",");
/** Settings for our room's server only (`--vars PRESENCE_DIRECTORY=off,…`), to see what a part of it costs. */
const oursVars = Object.fromEntries(
  option("vars", "")
    .split(",")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new UsageError(`--vars takes NAME=VALUE pairs, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);
for (const engine of engines) if (engine !== "partykit" && engine !== "workers") throw new UsageError(`--engines takes partykit and workers, not ${engine}`);

/** The room's close code for a socket silent past the heartbeat timeout (`CloseCode.heartbeatTimeout`). */
const HEARTBEAT_TIMEOUT = 4001;

/** A socket of the run, and what it holds of its channel. @typedef {{ ws: WebSocket | null; client: import("./lib/clients.mjs").Client; done: boolean }} Member */

/**
 * One run of one kind on a fresh server of `engine`.
 * @param {string} engine @param {Kind} kind @returns {Promise<Run>}
 */
async function runOnce(engine, kind) {
  const vars = kind === "ours" ? oursVars : {};
  const server = engine === "workers" ? await startWorkersServer(vars) : await startServer(vars);
  try {
    return await storm(server, kind);
  } finally {
    await server.stop();
  }
}

/**
 * Opens every socket and times the run.
 * @param {Server} server @param {Kind} kind @returns {Promise<Run>}
 */
async function storm(server, kind) {
  const run = Date.now().toString(36);
  const channelOf = (/** @type {number} */ c) => `ch-${run}-${c}`;
  const idOf = (/** @type {number} */ c, /** @type {number} */ m) => `u${c}-${m}`;
  /** @type {Member[]} */
  const sockets = [];
  let done = 0;
  let failed = 0;
  let exactAt = 0;
  /** Sockets that came back after the room closed them as idle (4001), as the real client does. */
  let reconnects = 0;
  let finished = false;
  /** Sockets the server closed during the run, by close code. */
  const closes = new Map();
  const counters = { gaps: 0 };
  const watch = watchWorkerd(server.pgid);
  const t0 = performance.now();
  const deadline = t0 + timeoutMs;
  const open = async (/** @type {number} */ i) => {
    const c = Math.floor(i / members);
    const m = i % members;
    const party = kind === "ours" ? "main" : "empty";
    // The connection id a partysocket keeps across reconnects (`_pk`).
    const url = `ws://${server.host}/parties/${party}/${channelOf(c)}?userId=${idOf(c, m)}&_pk=${idOf(c, m)}`;
    /** @type {Member} */
    const member = { ws: null, client: /** @type {any} */ ({ ws: null, view: new Set(), syncing: false, seq: null, mode: "full", userAmount: 0, ping: null, synced: false }), done: false };
    sockets.push(member);
    const dial = async () => {
      member.ws = await connect(
        url,
        (data) => {
          if (kind !== "ours" || member.done) return;
          applyOurs(member.client, JSON.parse(String(data)), counters);
          if (member.client.userAmount === members && member.client.view.size === members && !member.client.syncing) {
            member.done = true;
            if (++done === channels * members) exactAt = performance.now();
          }
        },
        /** @type {() => void} */ (
          (/** @type {number} */ code) => {
            closes.set(code, (closes.get(code) ?? 0) + 1);
            // Closed as idle: the real client (partysocket) comes back with the same id, within grace.
            if (code !== HEARTBEAT_TIMEOUT || finished) return;
            reconnects++;
            dial().catch(() => void failed++);
          }
        ),
      );
      member.client.ws = member.ws;
    };
    try {
      await dial();
    } catch {
      failed++;
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < channels * members && performance.now() < deadline) await open(next++);
    }),
  );
  const openAt = performance.now();
  let crossAt = 0;
  if (kind === "ours") {
    while (done < channels * members && performance.now() < deadline) await sleep(20);
    while (crossAt === 0 && performance.now() < deadline) {
      if ((await indexAgrees(server, channelOf)) && (await directoryAgrees(server, idOf))) crossAt = performance.now();
      else await sleep(100);
    }
  }
  const workerd = watch.stop();
  finished = true;
  const closed = [...closes].map(([code, n]) => `${n} closed with ${code}`).join(", ");
  for (const member of sockets) {
    if (member.client.ping) clearInterval(member.client.ping);
    member.ws?.terminate();
  }
  const timedOut = kind === "ours" ? exactAt === 0 || crossAt === 0 : openAt > deadline;
  if (timedOut || failed > 0) {
    const held = new Map();
    for (const member of sockets) if (!member.done) held.set(`${member.client.userAmount}/${member.client.view.size}`, (held.get(`${member.client.userAmount}/${member.client.view.size}`) ?? 0) + 1);
    const short = [...held].map(([counts, n]) => `${n} holding ${counts}`).join(", ");
    throw new Error(
      `${kind}: ${failed} connects failed, ${closed || "none closed"}, ${reconnects} reconnects after 4001, all open after ${fmt((openAt - t0) / 1000, 1)} s, ${done} of ${channels * members} sockets exact (the others: userAmount/members ${short || "none"}), ` +
        `cross-room ${crossAt === 0 ? "not agreed" : "agreed"} within ${timeoutMs} ms`,
    );
  }
  return { kind, openMs: openAt - t0, exactMs: kind === "ours" ? exactAt - t0 : openAt - t0, crossMs: kind === "ours" ? crossAt - t0 : NaN, cpuSeconds: workerd.cpuSeconds, failed, reconnects };

  /**
   * Whether `GET /channels` lists every channel of the run with its exact counts.
   * @param {Server} server @param {(c: number) => string} channelOf
   */
  async function indexAgrees(server, channelOf) {
    const response = await fetch(`http://${server.host}/channels?q=ch-${run}-&limit=10000`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
    if (!response?.ok) return false;
    /** @type {{ content: { total: number; channels: Array<{ channel: string; userAmount: number; clientAmount: number }> } }} */
    const body = await response.json();
    const held = new Map(body.content.channels.map((entry) => [entry.channel, entry]));
    for (let c = 0; c < channels; c++) {
      const entry = held.get(channelOf(c));
      if (entry?.userAmount !== members || entry.clientAmount !== members) return false;
    }
    return true;
  }

  /**
   * Whether `POST /users` has every user of the run online, 1,000 ids a call.
   * @param {Server} server @param {(c: number, m: number) => string} idOf
   */
  async function directoryAgrees(server, idOf) {
    // With the directory off there is nothing to agree: /users knows no one.
    if (oursVars.PRESENCE_DIRECTORY === "off") return true;
    const ids = Array.from({ length: channels * members }, (_, i) => idOf(Math.floor(i / members), i % members));
    for (let at = 0; at < ids.length; at += 1000) {
      const userIds = ids.slice(at, at + 1000);
      const response = await fetch(`http://${server.host}/users`, { method: "POST", body: JSON.stringify({ userIds }), headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(10_000) }).catch(() => null);
      if (!response?.ok) return false;
      /** @type {{ content: { users: Record<string, { online: boolean }> } }} */
      const body = await response.json();
      if (!userIds.every((id) => body.content.users[id]?.online === true)) return false;
    }
    return true;
  }
}

/** @param {number[]} values */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const startedAt = performance.now();
/** @type {string[][]} */
const rows = [["engine", "floor: all open (s)", "ours: all exact (s)", "ours: index and directory agree (s)", "exact / floor", "agree / floor", "workerd CPU floor (s)", "ours (s)", "CPU ours / floor"]];
for (const engine of engines) {
  /** @type {Record<Kind, Run[]>} */
  const runs = { empty: [], ours: [] };
  for (let r = 0; r < repeat; r++) {
    for (const kind of /** @type {Kind[]} */ (["empty", "ours"])) {
      process.stdout.write(`${engine}, ${kind}, run ${r + 1}/${repeat}… `);
      const result = await runOnce(engine, kind);
      runs[kind].push(result);
      console.log(kind === "ours" ? `exact ${fmt(result.exactMs / 1000, 2)} s, agree ${fmt(result.crossMs / 1000, 2)} s, CPU ${fmt(result.cpuSeconds, 1)} s${result.reconnects > 0 ? `, ${result.reconnects} reconnects after 4001` : ""}` : `open ${fmt(result.openMs / 1000, 2)} s, CPU ${fmt(result.cpuSeconds, 1)} s`);
    }
  }
  const floor = median(runs.empty.map((r) => r.openMs));
  const exact = median(runs.ours.map((r) => r.exactMs));
  const cross = median(runs.ours.map((r) => r.crossMs));
  const floorCpu = median(runs.empty.map((r) => r.cpuSeconds));
  const oursCpu = median(runs.ours.map((r) => r.cpuSeconds));
  rows.push([engine, fmt(floor / 1000, 2), fmt(exact / 1000, 2), fmt(cross / 1000, 2), ratio(exact, floor), ratio(cross, floor), fmt(floorCpu, 1), fmt(oursCpu, 1), ratio(oursCpu, floorCpu)]);
}
const settings = Object.keys(oursVars).length === 0 ? "" : `, ours with ${Object.entries(oursVars).map(([k, v]) => `${k}=${v}`).join(" ")}`;
const text = `${channels.toLocaleString("en-US")} channels × ${members} members (${(channels * members).toLocaleString("en-US")} sockets, ${concurrency} connects in flight${settings}), medians of ${repeat} run${repeat === 1 ? "" : "s"} each:\n\n${table(rows)}`;
console.log(`\n${text}\n\n${fmt((performance.now() - startedAt) / 1000, 0)} s in all`);
const file = option("write", "");
if (file !== "") {
  writeSection(file, "channels", `npm run bench:channels -- ${args.join(" ")}`, text);
  console.log(`wrote the figures into ${file}`);
}
