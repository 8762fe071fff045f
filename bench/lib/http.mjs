// @ts-check
/**
 * The bench's HTTP scenarios, each a sequential loop of calls for `herenowMs` (at most
 * `herenowMax` calls): herenow on a room after its storm (scenario 2), the user directory's
 * `/users` (3), and a push to a user's clients until every one acknowledged (4).
 */
import { connect, partyOf } from "./clients.mjs";
import { sleep, sum } from "./util.mjs";

/** @typedef {import("./clients.mjs").Kind} Kind */
/** @typedef {import("./server.mjs").Server} Server */
/** @typedef {{ herenowMs: number; herenowMax: number }} LoopOptions */
/** @typedef {{ requests: number; seconds: number; perSecond: number; meanMs: number; p99Ms: number; errors: number }} Timing */

/**
 * Calls `call` one after the other for `herenowMs` (at most `herenowMax` times), in `parallel`
 * loops at once (default 1); a call that throws or answers false counts as an error.
 * @param {() => Promise<boolean>} call @param {LoopOptions} options @param {number} [parallel] @returns {Promise<Timing>}
 */
export async function timeLoop(call, options, parallel = 1) {
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() - t0 < options.herenowMs && latencies.length < options.herenowMax) {
        const start = performance.now();
        try {
          if (!(await call())) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    meanMs: sum(latencies) / Math.max(1, latencies.length),
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
    errors,
  };
}

/** @typedef {Timing & { kind: Kind; n: number; page: number; users: number; clientAmount: number; large?: boolean }} HereNowResult */

/**
 * Scenario 2: sequential GET ?includeUsers=true&limit=PAGE on a room while its N members are
 * still connected (one page of users, the first PAGE by userId; the floor answers a made-up
 * page of the same size).
 * @param {Server} server @param {Kind} kind @param {string} room @param {number} n @param {LoopOptions} options
 * @param {number} [page] @returns {Promise<HereNowResult>}
 */
export async function hereNowThroughput(server, kind, room, n, options, page = 1000) {
  const url = `http://${server.host}/parties/${partyOf(kind)}/${room}?includeUsers=true&limit=${Math.min(page, n)}`;
  // Warm up, and check that the room really lists its users.
  let users = -1;
  let clientAmount = -1;
  for (let i = 0; i < 10; i++) {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) continue;
    const channel = (await response.json()).content.channels[room];
    users = channel.users?.length ?? -1;
    clientAmount = channel.clientAmount;
  }
  const timing = await timeLoop(async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    await response.text();
    return response.status === 200;
  }, options);
  return { kind, n, page, users, clientAmount, ...timing };
}

/** @typedef {Timing & { n: number; ids: number; online: number }} UsersResult */

/**
 * Scenario 3: sequential POST /users for the storm's users (at most 1,000 ids: the most one
 * call takes), while they are still connected: how fast the directory answers.
 * @param {Server} server @param {number} n @param {LoopOptions} options @returns {Promise<UsersResult>}
 */
export async function usersThroughput(server, n, options) {
  const ids = Array.from({ length: Math.min(n, 1000) }, (_, i) => `u${i}`);
  const body = JSON.stringify({ userIds: ids });
  const ask = async () => {
    const response = await fetch(`http://${server.host}/users`, { method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, text: await response.text() };
  };
  // Warm up, and wait (bounded) until the directory has heard of every user.
  let online = 0;
  for (let i = 0; i < 40; i++) {
    const { status, text } = await ask();
    if (status === 200) online = Object.values(JSON.parse(text).content.users).filter((u) => /** @type {{online: boolean}} */ (u).online).length;
    if (online === ids.length && i >= 5) break;
    await sleep(100);
  }
  const timing = await timeLoop(async () => (await ask()).status === 200, options);
  return { n, ids: ids.length, online, ...timing };
}

/** @typedef {Timing & { clients: number; channels: number; allAcked: boolean; herenowMeanMs: number }} PushBench */

/**
 * Scenario 4: a user with `k` clients spread over up to 5 channels (raw sockets that ack every
 * push): sequential POST /users/USER/push, the time from the POST to the answer; beside a
 * herenow of one of those channels, timed the same way.
 * @param {Server} server @param {number} k @param {LoopOptions} options @returns {Promise<PushBench>}
 */
export async function pushLatency(server, k, options) {
  const userId = `pusher-${k}-${Date.now().toString(36)}`;
  const channels = Array.from({ length: Math.min(k, 5) }, (_, i) => `push-bench-${k}-${i}-${Date.now().toString(36)}`);
  /** @type {import("ws").WebSocket[]} */
  const sockets = [];
  for (let i = 0; i < k; i++) {
    const url = `ws://${server.host}/parties/main/${channels[i % channels.length]}?userId=${userId}`;
    const ws = await connect(url, (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === "push") ws.send(JSON.stringify({ type: "ack", id: msg.id, ok: true }));
    }, () => undefined);
    sockets.push(ws);
  }
  // Wait (bounded) until the directory knows every client.
  for (let i = 0; i < 100; i++) {
    const body = await (await fetch(`http://${server.host}/users?userId=${userId}`)).json();
    const user = body.content.users[userId];
    if ((user.channels ?? []).reduce((/** @type {number} */ n, /** @type {{clientAmount: number}} */ c) => n + c.clientAmount, 0) === k) break;
    await sleep(100);
  }
  const pushed = await timeLoop(async () => {
    const response = await fetch(`http://${server.host}/users/${userId}/push`, { method: "POST", body: JSON.stringify({ data: { n: 1 } }), signal: AbortSignal.timeout(15_000) });
    const body = await response.json();
    return response.status === 200 && body.content.acked.length === k;
  }, options);
  const herenow = await timeLoop(async () => (await fetch(`http://${server.host}/parties/main/${channels[0]}?includeUsers=true`)).status === 200, options);
  for (const ws of sockets) ws.terminate();
  return { clients: k, channels: channels.length, allAcked: pushed.errors === 0, herenowMeanMs: herenow.meanMs, ...pushed };
}
