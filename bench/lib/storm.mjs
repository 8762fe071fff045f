// @ts-check
/**
 * Scenario 1, the join storm: N clients connect to one fresh room, `concurrency` connects in
 * flight, and the clock runs until every client sees what it should (everyone; or in interval
 * mode the exact counts and its window). Also what the clients received against the
 * information minimum, each client's busiest second, and workerd's CPU and memory.
 */
import WebSocket from "ws";
import { applyCounts, applyNaive, applyOurs, connect, connectYjs, isOurs, newClient, partyOf, userDataOf } from "./clients.mjs";
import { generation, watchWorkerd } from "./server.mjs";

/** The heartbeat of the floor's and the naive room's clients: ours' default interval. */
export const RAW_PING_MS = 10_000;

/** How long a large room is left alone after it converged before its memory is read. */
export const SETTLE_MS = 5000;
import { sleep } from "./util.mjs";

/** @typedef {import("./clients.mjs").Kind} Kind */
/** @typedef {import("./clients.mjs").Client} Client */
/** @typedef {import("./server.mjs").Server} Server */

/**
 * @typedef {{ kind: Kind; n: number; window: number | null; large: boolean; room: string; completed: number; timedOut: boolean;
 *   fullViewMs: number; connectMs: number; messages: number; megabytes: number; snapshotMegabytes: number;
 *   minimumMegabytes: number; bytesAfterSnapshotPerClient: number; busiestSecond: number;
 *   failedConnects: number; unexpectedCloses: number; closedBeforeTeardown: number; restarted: boolean; seqGaps: number; clientCpuSeconds: number;
 *   workerd: ReturnType<ReturnType<typeof watchWorkerd>["stop"]> }} StormResult
 */

/** The ids of a storm's members, as the room sorts them (JavaScript string order). @param {number} n */
const idsOf = (n) => Array.from({ length: n }, (_, i) => `u${i}`);

/**
 * What every client must learn at the least: each other member's id and userData as JSON,
 * with nothing around them. @param {number} n @returns {number} bytes, all clients together
 */
export function informationMinimum(n) {
  let each = 0;
  for (let i = 0; i < n; i++) each += JSON.stringify(`u${i}`).length + JSON.stringify(userDataOf(i)).length;
  // Every client needs every member but itself: (n - 1) of each member's bytes reach someone.
  return (n - 1) * each;
}

/**
 * `promise`, or a rejection once `deadline` (performance.now() time) passed.
 * @template T @param {number} deadline @param {Promise<T>} promise @returns {Promise<T>}
 */
function withDeadline(deadline, promise) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const late = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error("deadline")), Math.max(0, deadline - performance.now()))));
  return /** @type {Promise<T>} */ (Promise.race([promise, late]).finally(() => clearTimeout(timer)));
}

/**
 * N clients join one fresh room; ends when every client sees what it should (or at the
 * timeout). `window` (ours only): the clients ask for that window, for a room in interval
 * mode, and are done once they hold the exact counts and that window.
 * @param {Server} server @param {Kind} kind @param {number} n
 * @param {{ concurrency: number; timeoutMs: number }} options @param {number | null} [window]
 * @returns {Promise<{ result: StormResult; clients: Client[] }>}
 */
export async function joinStorm(server, kind, n, options, window = null) {
  const room = `storm-${kind}-${n}${window === null ? "" : `-w${window}`}-${Date.now().toString(36)}`;
  const base = `ws://${server.host}/parties/${partyOf(kind)}/${room}`;
  const counters = { messages: 0, bytes: 0, snapshotBytes: 0, afterSnapshotBytes: 0, completed: 0, gaps: 0, failedConnects: 0, unexpectedCloses: 0, busiest: 0 };
  const clients = Array.from({ length: n }, () => newClient());
  const expectedWindow = window === null ? [] : idsOf(n).sort().slice(0, window);
  let finishedAt = 0;
  /** @type {() => void} */
  let allDone = () => undefined;
  const everyoneSees = new Promise((done) => (allDone = () => done(undefined)));
  let measuring = true;

  const watch = watchWorkerd(server.pgid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  /** Whether a client sees what it should. @param {Client} client */
  const sees = (client) => {
    if (client.syncing) return false;
    if (kind === "counts") return client.userAmount === n;
    if (window === null) return client.view.size >= n;
    return client.userAmount === n && expectedWindow.every((id) => client.view.has(id));
  };
  /** @param {Client} client */
  const check = (client) => {
    if (client.done || !sees(client)) return;
    client.done = true;
    if (++counters.completed === n) {
      finishedAt = performance.now();
      allDone();
    }
  };
  /** Counts a message a client received, and its busiest second. @param {Client} client @param {number} bytes @param {boolean} snapshot */
  const count = (client, bytes, snapshot) => {
    if (!measuring) return;
    counters.messages++;
    counters.bytes += bytes;
    if (snapshot) counters.snapshotBytes += bytes;
    else if (client.synced) counters.afterSnapshotBytes += bytes;
    const second = Math.floor((performance.now() - t0) / 1000);
    if (second !== client.second) {
      client.second = second;
      client.inSecond = 0;
    }
    counters.busiest = Math.max(counters.busiest, ++client.inSecond);
  };
  /** @param {Client} client */
  const handler = (client) => /** @param {WebSocket.RawData} data */ (data) => {
    const text = String(data);
    const msg = JSON.parse(text);
    if (msg.type === "pong") return; // heartbeat traffic, not presence
    count(client, data instanceof Buffer ? data.byteLength : text.length, msg.type === "sync" || msg.type === "list" || (kind === "counts" && !client.synced));
    if (isOurs(kind)) applyOurs(client, msg, counters);
    else if (kind === "counts") applyCounts(client, msg);
    else applyNaive(client, msg);
    check(client);
  };
  const onClose = () => {
    if (measuring) counters.unexpectedCloses++;
  };

  let next = 0;
  // The timeout covers the connects too: a room that slows its own connects down is cut off.
  const deadline = t0 + options.timeoutMs;
  const workers = Array.from({ length: Math.min(options.concurrency, n) }, async () => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      const client = /** @type {Client} */ (clients[i]);
      const query = new URLSearchParams({ userId: `u${i}` });
      if (kind !== "empty") query.set("userData", JSON.stringify(userDataOf(i)));
      if (window !== null) query.set("window", String(window));
      try {
        if (kind === "yjs") {
          await withDeadline(deadline, connectYjs(server.host, room, i, client, (bytes) => count(client, bytes, false), () => check(client)));
        } else {
          client.ws = await withDeadline(deadline, connect(`${base}?${query}`, handler(client), onClose));
          // Every raw client sends the same heartbeat traffic (ours starts it at its sync, at the interval the room names).
          if (!isOurs(kind)) client.ping = setInterval(() => client.ws?.send('{"type":"ping"}'), RAW_PING_MS);
        }
      } catch {
        counters.failedConnects++;
      }
    }
  });
  await Promise.all(workers);
  counters.failedConnects += n - Math.min(next, n); // never tried: the deadline came first
  const connectMs = performance.now() - t0;
  if (kind === "empty") {
    // The floor room sends nothing: its storm is over once every socket is open.
    finishedAt = performance.now();
    counters.completed = n - counters.failedConnects;
    allDone();
  }
  // Stop waiting early if workerd restarts (the caller then voids and reruns the storm).
  const before = generation(server);
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let poll;
  const restarted = new Promise((done) => {
    poll = setInterval(() => generation(server) !== before && done(false), 500);
  });
  const timedOut = !(await Promise.race([
    everyoneSees.then(() => true),
    restarted,
    sleep(Math.max(0, options.timeoutMs - connectMs)).then(() => false),
  ]));
  clearInterval(poll);
  const end = timedOut ? performance.now() : finishedAt;
  measuring = false;
  // A large room settles for a few seconds first, so its RSS at the end is what its members
  // keep (peak RSS also holds the storm's buffers and garbage not yet collected).
  if (window !== null && !timedOut) await sleep(SETTLE_MS);
  const cpu = process.cpuUsage(cpu0);
  const workerd = watch.stop();
  return {
    clients,
    result: {
      kind,
      n,
      window,
      large: false,
      room,
      completed: counters.completed,
      timedOut,
      fullViewMs: end - t0,
      connectMs,
      messages: counters.messages,
      megabytes: counters.bytes / 2 ** 20,
      snapshotMegabytes: counters.snapshotBytes / 2 ** 20,
      minimumMegabytes: kind === "empty" ? NaN : informationMinimum(n) / 2 ** 20,
      bytesAfterSnapshotPerClient: counters.afterSnapshotBytes / n,
      busiestSecond: counters.busiest,
      failedConnects: counters.failedConnects,
      unexpectedCloses: counters.unexpectedCloses,
      closedBeforeTeardown: 0,
      restarted: false,
      seqGaps: counters.gaps,
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
      workerd,
    },
  };
}

/**
 * Closes every client and waits (bounded) until the room holds no socket and, for our
 * room, no online member (its grace has run out), so leftover work does not leak into the
 * next measurement. Returns how many sockets were closed before the bench closed them.
 * @param {Server} server @param {Kind} kind @param {string} room @param {Client[]} clients
 */
export async function teardown(server, kind, room, clients) {
  const closedEarly = clients.filter((client) => client.ws && client.ws.readyState !== WebSocket.OPEN).length;
  for (const client of clients) {
    if (client.ping) clearInterval(client.ping);
    client.ws?.terminate();
    client.provider?.destroy();
  }
  if (kind === "empty" || kind === "counts" || kind === "yjs") {
    await sleep(1000);
    return closedEarly;
  }
  const url = isOurs(kind) ? `http://${server.host}/parties/main/${room}?stats` : `http://${server.host}/parties/naive/${room}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const body = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json();
      const idle = isOurs(kind)
        ? body.content.sockets === 0 && body.content.userAmount === 0 && body.content.clientAmount === 0
        : body.content.channels[room].clientAmount === 0;
      if (idle) break;
    } catch {
      // try again
    }
    await sleep(250);
  }
  await sleep(500);
  return closedEarly;
}
