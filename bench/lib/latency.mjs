// @ts-check
/**
 * The latency of a lone change (`--latency 10,500,1000,i5000`): a room already holding N
 * members (raw sockets, filled like the join storm's, then left to settle), then lone joins
 * one at a time, each timed from the joiner's socket opening until an observer holds the new
 * counts; then lone updates the same way, each timed from the member's `update` until the
 * observer holds the new data. Full mode: one pass, changes 0.3 to 0.7 s apart (random; longer
 * than the tick of any full-mode room). Interval mode: two passes, quiet (1.3 to 1.7 s apart,
 * each change more than an interval after the last) and busy (0.3 to 0.7 s apart, within the
 * interval, where the interval holds a change back). Our room (`ours`) beside the
 * floor (`naive`, bench/naive-room.ts: each join and each update broadcast to every other
 * socket at once), on each engine. Sizes prefixed with `i` run our room in interval mode (the
 * default PRESENCE_ANNOUNCE_MAX, 1000, below N; every socket asks for the same window as the
 * large rooms' clients); the others in full mode.
 *
 * The observer is the last member filled (the last socket a broadcast reaches, in both rooms);
 * the updater is the member u1 (in the observer's window in interval mode). The naive room is
 * filled with `?silent=1` (no list, no broadcast: its N² messages would take minutes at 5,000
 * and are not what is timed); our room is filled as clients join it. The fill's sockets live in
 * a process of their own (fill-process.mjs) and parse nothing after their first snapshot, so
 * the load generator stays out of the timing as far as it can: the observer's process does not
 * read the other N - 1 frames of a broadcast before its own. They keep their heartbeats, as the
 * joiners do.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { applyNaive, applyOurs, connect, newClient, partyOf, userDataOf } from "./clients.mjs";
import { RAW_PING_MS, SETTLE_MS, teardown } from "./storm.mjs";
import { sleep, UsageError } from "./util.mjs";

/** @typedef {import("./clients.mjs").Client} Client */
/** @typedef {import("./server.mjs").Server} Server */

/** The rooms the latency bench runs: the floor and ours. */
export const LATENCY_KINDS = /** @type {const} */ (["naive", "ours"]);
/** @typedef {typeof LATENCY_KINDS[number]} LatencyKind */

/** A room size of the latency bench; `interval`: ours in interval mode (written `i5000`). @typedef {{ n: number; interval: boolean }} LatencySize */

/** How long one lone change may take before it counts as missed. */
const MISS_MS = 10_000;
/** PRESENCE_INTERVAL_MS of the bench's servers (the default). */
const INTERVAL_MS = 1000;

/**
 * How one pass spaces its lone changes: the pause before each is uniform in [minMs, maxMs).
 * `lone`: full mode; `quiet` and `busy`: interval mode, more than an interval apart and within one.
 * @typedef {{ name: "lone" | "quiet" | "busy"; minMs: number; maxMs: number }} Pace
 */

/** The passes a room of this size is timed in. @param {LatencySize} size @returns {Pace[]} */
export function pacesOf(size) {
  if (!size.interval) return [{ name: "lone", minMs: 300, maxMs: 700 }];
  return [
    { name: "quiet", minMs: INTERVAL_MS + 300, maxMs: INTERVAL_MS + 700 },
    { name: "busy", minMs: 300, maxMs: 700 },
  ];
}

/** How a pace reads in the report. @param {Pace} pace */
export function paceLabel(pace) {
  const apart = `${pace.minMs / 1000}-${pace.maxMs / 1000} s apart`;
  return pace.name === "lone" ? `changes ${apart}` : pace.name === "quiet" ? `quiet: changes ${apart} (more than the ${INTERVAL_MS / 1000} s interval)` : `busy: changes ${apart} (within the interval)`;
}
/** The member whose updates are timed. */
const UPDATER = 1;

/**
 * `--latency 10,500,1000,i5000`: full-mode sizes, and interval-mode ones prefixed with `i`;
 * absent, empty or `0`: none.
 * @param {string | undefined} raw @returns {LatencySize[]}
 */
export function parseLatencySizes(raw) {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "0") return [];
  /** @type {LatencySize[]} */
  const sizes = [];
  for (const part of raw.split(",").map((s) => s.trim())) {
    const interval = part.startsWith("i");
    const n = Number(interval ? part.slice(1) : part);
    if (!Number.isInteger(n) || n < 2 || n > (interval ? 10_000 : 5000) || (interval && n <= 1000)) {
      throw new UsageError(`--latency takes room sizes (2..5000, full mode) and i-prefixed ones (1001..10000, interval mode), comma-separated; got ${raw}`);
    }
    if (!sizes.some((s) => s.n === n && s.interval === interval)) sizes.push({ n, interval });
  }
  return sizes.sort((a, b) => Number(a.interval) - Number(b.interval) || a.n - b.n);
}

/** The label of a size: `1000` or `i5000`. @param {LatencySize} size */
export const sizeLabel = (size) => `${size.interval ? "i" : ""}${size.n}`;

/**
 * p50, p90 and p99 (the sorted sample at ⌊q × count⌋, as http.mjs takes its p99) of the changes the observer
 * saw, and how many it missed (not seen within MISS_MS) or saw before the joiner's socket had
 * opened on our side (counted as 0 ms).
 * @typedef {{ count: number; p50: number; p90: number; p99: number; max: number; mean: number; missed: number; early: number }} Latencies
 */

/**
 * @typedef {{ pace: Pace; join: Latencies; joinRequest: Latencies; update: Latencies; joinsMs: number[]; joinsFromRequestMs: number[]; updatesMs: number[] }} LatencyPass
 * @typedef {{ engine: "partykit" | "workers"; kind: LatencyKind; n: number; interval: boolean; samples: number; window: number | null;
 *   fillMs: number; passes: LatencyPass[]; error: string | null }} LatencyResult
 * In a pass, `join` is timed from the joiner's socket opening on the bench's side, `joinRequest` from the bench asking for it (the
 * WebSocket request: the engine's handshake included); an observer may hold the new counts before the joiner's handshake
 * has completed (the engine runs the room's connect before its answer reaches the joiner), and such a join counts 0 ms in `join`.
 */

/** @param {number[]} values @param {number} missed @param {number} early @returns {Latencies} */
export function latencies(values, missed, early) {
  const sorted = [...values].sort((a, b) => a - b);
  /** @param {number} q */
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN, mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN, missed, early };
}

/**
 * What the observer waits for: `holds` is asked after each message it applies, and `at` is set
 * the first time it says yes.
 * @typedef {{ holds: () => boolean; at: number | null; seen: () => void }} Waiter
 */

/** @param {() => boolean} holds @returns {{ waiter: Waiter; seen: Promise<void> }} */
function waiterFor(holds) {
  /** @type {() => void} */
  let seen = () => undefined;
  const promise = new Promise((done) => (seen = () => done(undefined)));
  return { waiter: { holds, at: null, seen }, seen: promise };
}

/**
 * The ids of members in one message of our wire, with their data (diff groups and snapshot members).
 * @param {any} msg @returns {Array<[string, unknown]>}
 */
function membersIn(msg) {
  if (msg.type === "sync") return msg.members ?? [];
  if (msg.type !== "diff") return [];
  return [...(msg.quiet ?? []), ...(msg.join ?? []), ...(msg.online ?? []), ...(msg.update ?? [])];
}

/**
 * One room: fill it with N members, settle, then in each pass (pacesOf) time `samples` lone joins and `samples` lone updates.
 * @param {Server} server @param {"partykit" | "workers"} engine @param {LatencyKind} kind @param {LatencySize} size
 * @param {{ samples: number; window: number; concurrency: number; timeoutMs: number; settleMs?: number }} options
 * @returns {Promise<LatencyResult>}
 */
export async function latencyRoom(server, engine, kind, size, options) {
  const { n, interval } = size;
  const window = kind === "ours" && interval ? options.window : null;
  const room = `latency-${kind}-${sizeLabel(size)}-${Date.now().toString(36)}`;
  const base = `ws://${server.host}/parties/${partyOf(kind)}/${room}`;
  /** @type {LatencyResult} */
  const result = { engine, kind, n, interval, samples: options.samples, window, fillMs: NaN, passes: [], error: null };
  /** @type {Client[]} */
  const clients = [];
  const counters = { gaps: 0 };
  /** @type {FillProcess | null} */
  let fill = null;
  /** @type {Set<Waiter>} */
  const waiting = new Set();
  /** The updater's data as the observer holds it. */
  let updaterData = /** @type {any} */ (null);
  const updaterId = `u${UPDATER}`;

  /** The observer: applies every message, then tells the waiters. @param {Client} client */
  const observe = (client) => /** @param {WebSocket.RawData} data */ (data) => {
    const msg = JSON.parse(String(data));
    if (kind === "ours") {
      applyOurs(client, msg, counters);
      for (const member of membersIn(msg)) if (member[0] === updaterId) updaterData = member[1];
    } else {
      applyNaive(client, msg);
      if (msg.type === "update" && msg.id === updaterId) updaterData = msg.data;
    }
    if (waiting.size === 0) return;
    const now = performance.now();
    for (const waiter of waiting) {
      if (waiter.at === null && waiter.holds()) {
        waiter.at = now;
        waiting.delete(waiter);
        waiter.seen();
      }
    }
  };
  /** Opens member `id`'s socket (the observer with its handler, any other quiet). @param {Client} client @param {string} id @param {number} i @param {boolean} silent @param {boolean} observer */
  const open = (client, id, i, silent, observer) => openMember(client, { base, kind, window, i, id, silent, onMessage: observer ? observe(client) : null });

  try {
    // Fill: N members, the observer last, `concurrency` connects in flight: all but the updater and
    // the observer in a process of their own (fill-process.mjs), the updater here (it sends the updates).
    const t0 = performance.now();
    const deadline = t0 + options.timeoutMs;
    for (let i = 0; i < n; i++) clients.push(newClient());
    const others = Array.from({ length: n - 1 }, (_, i) => i).filter((i) => i !== UPDATER);
    fill = await FillProcess.start({ base, kind, window, members: others, concurrency: options.concurrency }, options.timeoutMs);
    if (UPDATER < n - 1) await open(/** @type {Client} */ (clients[UPDATER]), `u${UPDATER}`, UPDATER, kind === "naive", false);
    const observer = /** @type {Client} */ (clients[n - 1]);
    await open(observer, `u${n - 1}`, n - 1, kind === "naive", true);
    // Everyone in: ours when the observer holds the counts, the naive room when its herenow counts N sockets.
    while (performance.now() < deadline && !(kind === "ours" ? observer.synced && !observer.syncing && observer.userAmount === n : (await naiveSockets(server, room)) === n)) await sleep(100);
    if (performance.now() >= deadline) throw new Error(`the room did not hold ${n} members within ${options.timeoutMs / 1000} s`);
    result.fillMs = performance.now() - t0;
    await sleep(options.settleMs ?? SETTLE_MS);

    let joined = 0;
    let version = 0;
    for (const pace of pacesOf(size)) {
      /** @type {LatencyPass} */
      const pass = { pace, join: latencies([], 0, 0), joinRequest: latencies([], 0, 0), update: latencies([], 0, 0), joinsMs: [], joinsFromRequestMs: [], updatesMs: [] };
      result.passes.push(pass);
      const pause = () => pace.minMs + Math.random() * (pace.maxMs - pace.minMs);

      // Lone joins: each a new member (`x…`, after every `u…` by userId, so outside any window), kept until the end.
      let missed = 0;
      let early = 0;
      for (let k = 0; k < options.samples; k++) {
        await sleep(pause());
        const j = joined++;
        const id = `x${j}`;
        const expected = n + j + 1;
        const { waiter, seen } = waiterFor(() => (kind === "ours" ? observer.userAmount >= expected : observer.view.has(id)));
        waiting.add(waiter);
        const joiner = newClient();
        clients.push(joiner);
        const requested = performance.now();
        await open(joiner, id, n + j, false, false);
        const opened = performance.now();
        const got = await Promise.race([seen.then(() => true), sleep(MISS_MS).then(() => false)]);
        waiting.delete(waiter);
        if (!got || waiter.at === null) {
          missed++;
          continue;
        }
        if (waiter.at < opened) early++;
        pass.joinsMs.push(Math.max(0, waiter.at - opened));
        pass.joinsFromRequestMs.push(waiter.at - requested);
      }
      pass.join = latencies(pass.joinsMs, missed, early);
      pass.joinRequest = latencies(pass.joinsFromRequestMs, missed, 0);

      // Lone updates of u1's data, a new value each time.
      missed = 0;
      const updater = /** @type {Client} */ (clients[UPDATER]);
      for (let k = 0; k < options.samples; k++) {
        await sleep(pause());
        const v = ++version;
        const { waiter, seen } = waiterFor(() => updaterData?.v === v);
        waiting.add(waiter);
        const sent = performance.now();
        updater.ws?.send(JSON.stringify({ type: "update", data: { ...userDataOf(UPDATER), v } }));
        const got = await Promise.race([seen.then(() => true), sleep(MISS_MS).then(() => false)]);
        waiting.delete(waiter);
        if (!got || waiter.at === null) {
          missed++;
          continue;
        }
        pass.updatesMs.push(waiter.at - sent);
      }
      pass.update = latencies(pass.updatesMs, missed, 0);
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    await fill?.close();
    await teardown(server, kind, room, clients);
  }
  return result;
}

/**
 * Opens member `i`'s socket (userId `id`, by default `u${i}`), as every latency room's members
 * are opened: its userData, the window in interval mode, `silent` for the naive room's fill.
 * `onMessage` null: a quiet member, whose first snapshot starts its heartbeat (ours) and which
 * parses nothing else; the naive room's members ping as raw sockets do.
 * @param {Client} client
 * @param {{ base: string; kind: LatencyKind; window: number | null; i: number; id?: string; silent: boolean; onMessage: ((data: WebSocket.RawData) => void) | null }} member
 */
export async function openMember(client, { base, kind, window, i, id = `u${i}`, silent, onMessage }) {
  const query = new URLSearchParams({ userId: id, userData: JSON.stringify(userDataOf(i)) });
  if (window !== null) query.set("window", String(window));
  if (silent) query.set("silent", "1");
  const counters = { gaps: 0 };
  /** @param {WebSocket.RawData} data */
  const quiet = (data) => {
    if (kind !== "ours" || client.synced) return;
    const msg = JSON.parse(String(data));
    if (msg.type === "sync") applyOurs(client, msg, counters);
  };
  client.ws = await connect(`${base}?${query}`, onMessage ?? quiet, () => undefined);
  if (kind !== "ours") client.ping = setInterval(() => client.ws?.readyState === WebSocket.OPEN && client.ws.send('{"type":"ping"}'), RAW_PING_MS);
}

/** The fill's process (fill-process.mjs): started with its members open, closed with its sockets terminated. */
class FillProcess {
  /** @param {import("node:child_process").ChildProcess} child */
  constructor(child) {
    this.child = child;
  }

  /**
   * Forks the fill and waits until its members are open.
   * @param {{ base: string; kind: LatencyKind; window: number | null; members: number[]; concurrency: number }} fill @param {number} timeoutMs
   */
  static async start(fill, timeoutMs) {
    const child = fork(fileURLToPath(new URL("./fill-process.mjs", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const started = new FillProcess(child);
    const answer = await started.#ask({ type: "fill", ...fill }, "filled", timeoutMs);
    if (answer.failed > 0) throw new Error(`the fill could not open ${answer.failed} of ${fill.members.length} members`);
    return started;
  }

  /** Terminates the fill's sockets and waits for the process to end. */
  async close() {
    if (this.child.exitCode !== null) return;
    await this.#ask({ type: "close" }, "closed", 30_000).catch(() => this.child.kill("SIGKILL"));
  }

  /** @param {object} message @param {string} answer @param {number} timeoutMs @returns {Promise<any>} */
  #ask(message, answer, timeoutMs) {
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the fill process did not answer ${answer} within ${timeoutMs / 1000} s`)), timeoutMs);
      /** @param {any} reply */
      const onMessage = (reply) => {
        if (reply?.type !== answer) return;
        clearTimeout(timer);
        this.child.off("message", onMessage);
        done(reply);
      };
      this.child.on("message", onMessage);
      this.child.once("exit", (code) => fail(new Error(`the fill process exited (${code}) before ${answer}`)));
      this.child.send(message);
    });
  }
}

/** The naive room's socket count, from its herenow (-1 when it does not answer). @param {Server} server @param {string} room */
async function naiveSockets(server, room) {
  try {
    const body = await (await fetch(`http://${server.host}/parties/naive/${room}`, { signal: AbortSignal.timeout(5000) })).json();
    return body.content.channels[room].clientAmount;
  } catch {
    return -1;
  }
}
