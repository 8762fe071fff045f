// @ts-check
/** The bench's report: the tables side by side, ratios against the baselines, and notes of anything that went wrong. */
import { loadavg } from "node:os";
import { paceLabel, pacesOf } from "./latency.mjs";
import { SETTLE_MS } from "./storm.mjs";
import { fmt, ratio, table } from "./util.mjs";

/** @typedef {import("./clients.mjs").Kind} Kind */
/** @typedef {import("./storm.mjs").StormResult} StormResult */
/** @typedef {import("./http.mjs").HereNowResult} HereNowResult */

/**
 * @param {{ sizes: number[]; large: number[]; window: number; directoryParts: number; serverPerRoom: boolean }} options
 * @param {{ storms: StormResult[]; herenows: HereNowResult[]; heaps: import("./room-heap.mjs").RoomHeap[]; users: import("./http.mjs").UsersResult[]; pushes: import("./http.mjs").PushBench[] }} results
 * @param {number} totalSeconds @returns {string} the report, as printed
 */
export function report(options, results, totalSeconds) {
  const { storms, herenows, users, pushes } = results;
  /** @type {string[]} */
  const out = [];
  /** @param {Kind} kind @param {number} n @param {boolean} large */
  const storm = (kind, n, large) => storms.find((s) => s.kind === kind && s.n === n && s.large === large);
  /** @param {Kind} kind @param {number} n @param {boolean} large @param {number} [page] */
  const herenow = (kind, n, large, page = 1000) => herenows.find((h) => h.kind === kind && h.n === n && (h.large ?? false) === large && h.page === page);
  /** A storm's time, or "> t" when it timed out. @param {StormResult | undefined} s */
  const seconds = (s) => (s === undefined ? NaN : s.fullViewMs / 1000);
  /** Our ratio to a baseline that may have timed out: then at least that much. @param {StormResult | undefined} base @param {StormResult | undefined} ours */
  const timeRatio = (base, ours) => {
    const r = ratio(seconds(base), seconds(ours));
    return base?.timedOut && r !== "n/a" ? `>${r}` : r;
  };

  const kinds = /** @type {const} */ (["empty", "naive", "yjs", "ours", "ours-nodir"]);
  /** @type {string[][]} */
  const rows = [["join storm (full membership)", "floor*", "naive", "y-partykit", "ours", "ours, no dir", "naive/ours", "yjs/ours", "ours/floor"]];
  for (const n of options.sizes) {
    const [f, a, y, o, d] = kinds.map((kind) => storm(kind, n, false));
    /** @param {string} label @param {(s: StormResult) => number} pick @param {number} digits @param {string[]} [extra] */
    const row = (label, pick, digits, extra) => {
      const values = [f, a, y, o, d].map((s) => (s ? pick(s) : NaN));
      const [vf, va, vy, vo] = values;
      rows.push([label, ...values.map((v) => fmt(v, digits)), ...(extra ?? [ratio(va ?? NaN, vo ?? NaN), ratio(vy ?? NaN, vo ?? NaN), ratio(vo ?? NaN, vf ?? NaN)])]);
    };
    rows.push([`N = ${n}`, "", "", "", "", "", "", "", ""]);
    row("  time until all see all (s)", (s) => s.fullViewMs / 1000, 2, [timeRatio(a, o), timeRatio(y, o), ratio(seconds(o), f ? f.connectMs / 1000 : NaN)]);
    row("  connect phase (s)", (s) => s.connectMs / 1000, 2);
    row("  messages received, all clients", (s) => s.messages, 0);
    row("  MB received, all clients", (s) => s.megabytes, 1);
    row("    of which snapshots (sync/list)", (s) => s.snapshotMegabytes, 1);
    row("  KB received per client", (s) => (s.megabytes * 1024) / s.n, 1);
    row("  received / information minimum", (s) => s.megabytes / s.minimumMegabytes, 2);
    row("  workerd CPU (s)", (s) => s.workerd.cpuSeconds, 2);
    row("  workerd peak RSS (MB)", (s) => s.workerd.rssPeakMB, 0);
    row("  workerd RSS growth (MB)", (s) => s.workerd.rssPeakMB - s.workerd.rssStartMB, 0);
    row("  load generator CPU (s)", (s) => s.clientCpuSeconds, 2);
  }
  /** @type {string[][]} */
  const httpRows = [["herenow over HTTP (sequential)", "floor*", "naive", "ours", "ours, no dir", "naive/ours", "ours/floor"]];
  for (const n of options.sizes) {
    const [f, a, o, d] = /** @type {const} */ (["empty", "naive", "ours", "ours-nodir"]).map((kind) => herenow(kind, n, false));
    /** @param {string} label @param {(h: HereNowResult) => number} pick @param {number} digits */
    const row = (label, pick, digits) => {
      const [vf, va, vo, vd] = [f, a, o, d].map((h) => (h ? pick(h) : NaN));
      httpRows.push([label, fmt(vf ?? NaN, digits), fmt(va ?? NaN, digits), fmt(vo ?? NaN, digits), fmt(vd ?? NaN, digits), ratio(va ?? NaN, vo ?? NaN), ratio(vo ?? NaN, vf ?? NaN)]);
    };
    httpRows.push([`N = ${n}`, "", "", "", "", "", ""]);
    row("  requests/s", (h) => h.perSecond, 0);
    row("  mean latency (ms)", (h) => h.meanMs, 2);
    row("  p99 latency (ms)", (h) => h.p99Ms, 2);
  }
  /** @type {string[][]} */
  const largeRows = [[`large rooms (ours in interval mode, window ${options.window})`, "floor*", "sending floor†", "ours", "ours/floor", "ours/sending"]];
  for (const n of options.large) {
    const f = storm("empty", n, true);
    const c = storm("counts", n, true);
    const o = storm("ours", n, true);
    /**
     * A row: the floor's, the sending floor's and ours' figure, and ours against each (or the ratios given).
     * @param {string} label @param {number} vf @param {number} vc @param {number} vo @param {number} digits @param {[string, string]} [r]
     */
    const row = (label, vf, vc, vo, digits, r) => largeRows.push([label, fmt(vf, digits), fmt(vc, digits), fmt(vo, digits), ...(r ?? [ratio(vo, vf), ratio(vo, vc)])]);
    const pick = (/** @type {StormResult | undefined} */ s, /** @type {(s: StormResult) => number} */ get) => (s ? get(s) : NaN);
    const floorConnect = f ? f.connectMs / 1000 : NaN;
    largeRows.push([`N = ${n}`, "", "", "", "", ""]);
    // Against the floor's connect phase (its clients wait for nothing); against the sending floor's own convergence.
    row("  time until all hold counts and window (s)", pick(f, (s) => s.fullViewMs / 1000), seconds(c), seconds(o), 2, [ratio(seconds(o), floorConnect), ratio(seconds(o), seconds(c))]);
    const nd = storm("ours-nodir", n, true);
    if (nd) {
      row("  the same, ours with PRESENCE_DIRECTORY=off (s)", NaN, NaN, seconds(nd), 2, [ratio(seconds(nd), floorConnect), ratio(seconds(nd), seconds(c))]);
      row("  workerd CPU, ours with PRESENCE_DIRECTORY=off (s)", NaN, NaN, nd.workerd.cpuSeconds, 2, [ratio(nd.workerd.cpuSeconds, f ? f.workerd.cpuSeconds : NaN), ratio(nd.workerd.cpuSeconds, c ? c.workerd.cpuSeconds : NaN)]);
    }
    row("  connect phase (s)", pick(f, (s) => s.connectMs / 1000), pick(c, (s) => s.connectMs / 1000), pick(o, (s) => s.connectMs / 1000), 2);
    row("  KB received per client", NaN, pick(c, (s) => (s.megabytes * 1024) / s.n), pick(o, (s) => (s.megabytes * 1024) / s.n), 2, ["", ""]);
    row("    of which after its snapshot (bytes)", NaN, pick(c, (s) => s.bytesAfterSnapshotPerClient), pick(o, (s) => s.bytesAfterSnapshotPerClient), 0, ["", ""]);
    row("  messages in a client's busiest second", NaN, pick(c, (s) => s.busiestSecond), pick(o, (s) => s.busiestSecond), 0, ["", ""]);
    row("  workerd CPU (s)", pick(f, (s) => s.workerd.cpuSeconds), pick(c, (s) => s.workerd.cpuSeconds), pick(o, (s) => s.workerd.cpuSeconds), 2);
    row("  workerd peak RSS (MB)", pick(f, (s) => s.workerd.rssPeakMB), pick(c, (s) => s.workerd.rssPeakMB), pick(o, (s) => s.workerd.rssPeakMB), 0);
    row("  workerd RSS, settled (MB)", pick(f, (s) => s.workerd.rssEndMB), pick(c, (s) => s.workerd.rssEndMB), pick(o, (s) => s.workerd.rssEndMB), 0);
    /** Memory per member of `room` beyond `base`, in KiB. @param {StormResult | undefined} room @param {StormResult | undefined} base @param {(s: StormResult) => number} get */
    const perMember = (room, base, get) => (room && base ? ((get(room) - get(base)) * 1024) / n : NaN);
    const peak = (/** @type {StormResult} */ s) => s.workerd.rssPeakMB;
    const settled = (/** @type {StormResult} */ s) => s.workerd.rssEndMB;
    row("  memory per member beyond the floor, peak (KiB)", NaN, perMember(c, f, peak), perMember(o, f, peak), 2, ["", ""]);
    row("  memory per member beyond the floor, settled (KiB)", NaN, perMember(c, f, settled), perMember(o, f, settled), 2, ["", ""]);
    row("  memory per member beyond the sending floor, settled (KiB)", NaN, NaN, perMember(o, c, settled), 2, ["", ""]);
    const heap = results.heaps.find((h) => h.n === n);
    row("  room heap per member, its code in Node (bytes)", NaN, NaN, heap?.heapPerMember ?? NaN, 0, ["", ""]);
    row("    the same, the room's warm-up included (bytes)", NaN, NaN, heap?.heapPerMemberAll ?? NaN, 0, ["", ""]);
    row("    of which userData (bytes of JSON)", NaN, NaN, heap?.userDataPerMember ?? NaN, 0, ["", ""]);
    for (const page of [100, 1000]) {
      const [pf, po] = [herenow("empty", n, true, page), herenow("ours", n, true, page)];
      row(`  herenow, one page of ${page} users: mean (ms)`, pf?.meanMs ?? NaN, NaN, po?.meanMs ?? NaN, 2, [ratio(po?.meanMs ?? NaN, pf?.meanMs ?? NaN), ""]);
    }
  }
  /** @type {string[][]} */
  const historyRows = [["presence history: the same join storm", "ours (history on)", "PRESENCE_HISTORY_MAX=0", "on/off"]];
  for (const n of options.sizes) {
    const [on, off] = [storm("ours", n, false), storm("ours-nohist", n, false)];
    if (!on || !off) continue;
    /** @param {string} label @param {(s: StormResult) => number} pick @param {number} digits */
    const row = (label, pick, digits) => historyRows.push([label, fmt(pick(on), digits), fmt(pick(off), digits), ratio(pick(on), pick(off))]);
    historyRows.push([`N = ${n}`, "", "", ""]);
    row("  time until all see all (s)", (s) => s.fullViewMs / 1000, 2);
    row("  workerd CPU (s)", (s) => s.workerd.cpuSeconds, 2);
    row("  workerd RSS growth (MB)", (s) => s.workerd.rssPeakMB - s.workerd.rssStartMB, 0);
  }
  /** @type {string[][]} */
  const userRows = [["users' status: POST /users (sequential)", "ids", "calls/s", "mean (ms)", "p99 (ms)", "herenow mean (ms)", "users/herenow"]];
  for (const u of users) {
    const h = herenow("ours", u.n, false);
    userRows.push([`  N = ${u.n}, all online`, String(u.ids), fmt(u.perSecond, 0), fmt(u.meanMs, 2), fmt(u.p99Ms, 2), fmt(h?.meanMs ?? NaN, 2), ratio(u.meanMs, h?.meanMs ?? NaN)]);
  }
  /** @type {string[][]} */
  const pushRows = [["push to one user's clients (POST → answer)", "channels", "pushes", "mean (ms)", "p99 (ms)", "herenow mean (ms)", "push/herenow"]];
  for (const p of pushes) {
    pushRows.push([`  ${p.clients} client${p.clients === 1 ? "" : "s"}, all acking`, String(p.channels), String(p.requests), fmt(p.meanMs, 2), fmt(p.p99Ms, 2), fmt(p.herenowMeanMs, 2), ratio(p.meanMs, p.herenowMeanMs)]);
  }
  for (const [rowsOf, shown] of /** @type {const} */ ([[rows, options.sizes.length > 0], [httpRows, options.sizes.length > 0], [historyRows, historyRows.length > 1], [largeRows, options.large.length > 0], [userRows, users.length > 0], [pushRows, pushes.length > 0]])) {
    if (!shown) continue;
    out.push("", table(rowsOf));
  }
  out.push("");
  out.push(`floor* = a room that accepts sockets and does nothing (bench/empty-room.ts): the engine's own cost; its clients see no one,`);
  out.push(`         so its "time until all see all" is its connect phase, and ours/floor compares ours with that connect phase.`);
  out.push(`sending floor† = a room that only counts its sockets and sends each the count when it joins and once a second when it`);
  out.push(`         changed (bench/counts-room.ts): the least interval mode must send; its clients are done when they hold the exact count.`);
  out.push(`naive = one broadcast per join (bench/naive-room.ts); y-partykit = its awareness (bench/yjs-room.ts, y-partykit/provider clients).`);
  out.push(`ratio = baseline / ours (above 1: ours is faster or smaller; ">" when the baseline timed out: at least that much).`);
  out.push(`information minimum = the JSON of every other member's id and userData (about 25 bytes each here), for every client.`);
  out.push(`ours, no dir = ours with PRESENCE_DIRECTORY=off, on its own server; users hashed over ${options.directoryParts === 0 ? "one directory room per user" : `${options.directoryParts} directory rooms`}.`);
  if (historyRows.length > 1) out.push(`history on/off = ours (PRESENCE_HISTORY_MAX=10000: every event a row, written with the tick's members) / ours with no history, on its own server.`);
  out.push(`full-membership rooms run with PRESENCE_ANNOUNCE_MAX=${Math.max(1000, ...options.sizes)} (full mode at every size); large rooms with the default (1000).`);
  out.push(`large rooms: each on a fresh server; memory per member = (a room's RSS - the floor's, or the sending floor's) / N, at the peak and ${SETTLE_MS / 1000} s after convergence.`);
  out.push(`workerd = ${options.serverPerRoom ? "a fresh dev server per room" : "one process for the full-membership rooms (RSS is cumulative: compare growth)"}; RSS peak from ${storms[0]?.workerd.peakFrom ?? "n/a"}.`);
  for (const note of notes(results)) out.push(`NOTE ${note}`);
  out.push(`Total bench time ${fmt(totalSeconds, 1)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`);
  const text = out.join("\n");
  console.log(text);
  return text;
}

/** What went wrong in a run, if anything. @param {Parameters<typeof report>[1]} results @returns {string[]} */
function notes({ storms, herenows, users, pushes }) {
  /** @type {string[]} */
  const said = [];
  for (const s of storms) {
    const what = `${s.kind} N=${s.n}`;
    if (s.restarted) said.push(`${what}: workerd restarted during it three times in a row; its figures are void`);
    if (s.timedOut) said.push(`${what}: TIMED OUT after ${fmt(s.fullViewMs / 1000, 1)} s with ${s.completed}/${s.n} clients seeing what they should`);
    if (s.failedConnects) said.push(`${what}: ${s.failedConnects} connects failed`);
    if (s.unexpectedCloses) said.push(`${what}: ${s.unexpectedCloses} sockets closed by the server during the storm`);
    if (s.closedBeforeTeardown) said.push(`${what}: ${s.closedBeforeTeardown} sockets were closed before the bench closed them`);
    if (s.seqGaps) said.push(`${what}: ${s.seqGaps} sequence gaps (clients resynced)`);
    if (s.workerd.processes === 0) said.push(`${what}: no workerd process found in /proc; CPU and RSS not measured`);
  }
  for (const h of herenows) {
    if (h.kind === "empty") continue;
    const listed = Math.min(h.n, h.page);
    if (h.users !== listed || h.clientAmount !== h.n) said.push(`${h.kind} N=${h.n}: herenow listed ${h.users} users, clientAmount ${h.clientAmount} (expected ${listed} and ${h.n})`);
    if (h.errors) said.push(`${h.kind} N=${h.n}: ${h.errors} herenow requests failed`);
  }
  for (const p of pushes) if (!p.allAcked) said.push(`push to ${p.clients} clients: some answers did not list every client as acked`);
  for (const u of users) {
    if (u.online !== u.ids) said.push(`users N=${u.n}: the directory had ${u.online}/${u.ids} online when timing began`);
    if (u.errors) said.push(`users N=${u.n}: ${u.errors} calls failed`);
  }
  return said;
}

/**
 * The engines side by side: the same storms beside each engine's own floors, the idle room
 * on each, devices (HTTP clients) on each, the largest room the Workers engine held here, and
 * the room's heap at that scale.
 * @param {{ sizes: number[]; large: number[]; window: number; engines: string[]; idle: number; idleMs: number; largest: number; heapMax: number }} options
 * @param {{ storms: StormResult[]; heaps: import("./room-heap.mjs").RoomHeap[]; idle: import("./idle.mjs").IdleResult[]; devices: import("./devices.mjs").DevicesResult[]; restartStorms: import("./restart.mjs").RestartResult[] }} partykit
 * @param {{ storms: StormResult[] }} workers
 * @param {number} totalSeconds @returns {string}
 */
export function enginesReport(options, partykit, workers, totalSeconds) {
  /** @type {string[]} */
  const out = [];
  /** @param {{ storms: StormResult[] }} r @param {Kind} kind @param {number} n @param {boolean} large */
  const storm = (r, kind, n, large) => r.storms.find((s) => s.kind === kind && s.n === n && s.large === large);
  const secs = (/** @type {StormResult | undefined} */ s) => (s ? s.fullViewMs / 1000 : NaN);
  const cpu = (/** @type {StormResult | undefined} */ s) => (s ? s.workerd.cpuSeconds : NaN);
  const full = options.sizes.length > 0 ? Math.max(...options.sizes) : 0;
  /** @type {string[][]} */
  const rows = [["engines side by side (the same service)", "PartyKit floor*", "ours", "ours/floor", "Workers floor*", "ours", "ours/floor"]];
  if (full > 0) {
    const [pf, po, wf, wo] = [storm(partykit, "empty", full, false), storm(partykit, "ours", full, false), storm(workers, "empty", full, false), storm(workers, "ours", full, false)];
    rows.push([`join storm, N = ${full} (full membership)`, "", "", "", "", "", ""]);
    rows.push(["  time until all see all (s)", fmt(pf ? pf.connectMs / 1000 : NaN, 2), fmt(secs(po), 2), ratio(secs(po), pf ? pf.connectMs / 1000 : NaN), fmt(wf ? wf.connectMs / 1000 : NaN, 2), fmt(secs(wo), 2), ratio(secs(wo), wf ? wf.connectMs / 1000 : NaN)]);
    rows.push(["  workerd CPU (s)", fmt(cpu(pf), 2), fmt(cpu(po), 2), ratio(cpu(po), cpu(pf)), fmt(cpu(wf), 2), fmt(cpu(wo), 2), ratio(cpu(wo), cpu(wf))]);
  }
  for (const n of options.large) {
    const [pf, pc, po] = /** @type {const} */ (["empty", "counts", "ours"]).map((kind) => storm(partykit, kind, n, true));
    const [wf, wc, wo] = /** @type {const} */ (["empty", "counts", "ours"]).map((kind) => storm(workers, kind, n, true));
    rows.push([`large room, N = ${n} (interval mode; floor: connect phase)`, "", "", "", "", "", ""]);
    rows.push(["  time until all hold counts and window (s)", fmt(pf ? pf.connectMs / 1000 : NaN, 2), fmt(secs(po), 2), ratio(secs(po), pf ? pf.connectMs / 1000 : NaN), fmt(wf ? wf.connectMs / 1000 : NaN, 2), fmt(secs(wo), 2), ratio(secs(wo), wf ? wf.connectMs / 1000 : NaN)]);
    rows.push(["  the sending floor†'s time (s), and ours against it", fmt(secs(pc), 2), "", ratio(secs(po), secs(pc)), fmt(secs(wc), 2), "", ratio(secs(wo), secs(wc))]);
    rows.push(["  workerd CPU (s)", fmt(cpu(pf), 2), fmt(cpu(po), 2), ratio(cpu(po), cpu(pf)), fmt(cpu(wf), 2), fmt(cpu(wo), 2), ratio(cpu(wo), cpu(wf))]);
    /** @param {StormResult | undefined} o @param {StormResult | undefined} c */
    const beyondSending = (o, c) => (o && c ? ((o.workerd.rssEndMB - c.workerd.rssEndMB) * 1024) / n : NaN);
    rows.push(["  memory per member beyond the sending floor, settled (KiB)", "", fmt(beyondSending(po, pc), 2), "", "", fmt(beyondSending(wo, wc), 2), ""]);
  }
  if (rows.length > 1) out.push(table(rows), "");

  if (partykit.idle.length > 0) {
    const first = partykit.idle[0];
    const minutes = (first?.windowMs ?? 60_000) / 60_000;
    const timeouts = (first?.windowMs ?? 0) / (first?.heartbeatTimeoutMs || 1);
    /** @type {string[][]} */
    const idleRows = [[
      `idle room, N = ${options.idle}: a ping every ${fmt((first?.heartbeatIntervalMs ?? 0) / 1000)} s, timeout ${fmt((first?.heartbeatTimeoutMs ?? 0) / 1000)} s, watched ${fmt(options.idleMs / 1000)} s`,
      "pings the room answered",
      "pings the engine answered",
      "wakes (starts)",
      "room runs per minute",
      "per heartbeat timeout",
    ]];
    for (const idle of partykit.idle) {
      // A room that never sleeps runs once per ping it answers; one that sleeps, once per wake.
      const runs = idle.roomPongs + idle.starts;
      const engine = idle.engine === "workers" ? "Workers (auto-response, hibernation)" : "PartyKit (pings reach the room)";
      idleRows.push([`  ${engine}, ${idle.features ? "every feature on" : "features off"}`, fmt(idle.roomPongs), fmt(idle.enginePongs), fmt(idle.starts), fmt(runs / minutes, 1), fmt(runs / timeouts, 1)]);
    }
    out.push(table(idleRows), "");
    if (partykit.idle.some((idle) => idle.features)) {
      out.push("Every feature on: webhooks to a loopback endpoint that answers 200, auth (each member with a token; stats with the server key), an HTTP client with a 1 h TTL, 10 members watching 20 others each, history and the directory.", "");
    }
  }

  if (partykit.restartStorms.length > 0) {
    const n = partykit.restartStorms[0]?.n ?? 0;
    /** @type {string[][]} */
    const rows = [[
      `restart storms, N = ${n} on PresenceClient (default settings; ${Math.max(1, Math.floor(n / 100))} closed for good in a kill's outage)`,
      "down (s)",
      "all back (s)",
      "floor‡ (s)",
      "back/floor",
      "counts exact (s)",
      "events about members back: heard / history",
      "lowest userAmount held (of those not gone)",
      "ghosts, lost, changed",
    ]];
    for (const r of partykit.restartStorms) {
      const label = `  ${r.engine === "workers" ? "Workers" : "PartyKit"}, ${r.event === "deploy" ? "deploy (reload with changed code)" : "kill -9, restart on the same storage"}`;
      const f = r.figures;
      if (!f) {
        rows.push([label, `failed: ${r.error ?? "?"}`, "", "", "", "", "", "", ""]);
        continue;
      }
      const sumOf = (/** @type {Record<string, number>} */ counts) => Object.values(counts).reduce((a, b) => a + b, 0);
      rows.push([
        label,
        fmt(f.downMs / 1000, 1),
        fmt(f.backMs / 1000, 1),
        r.floorMs === null ? "n/a" : fmt(r.floorMs / 1000, 1),
        r.floorMs === null ? "n/a" : ratio(f.backMs, r.floorMs),
        fmt(f.exactMs / 1000, 1),
        `${fmt(sumOf(f.heard))} / ${fmt(sumOf(f.history))}`,
        `${fmt(f.lowest.userAmount)} of ${fmt(f.members - f.gone)}`,
        `${f.ghosts.length}, ${f.missing.length}, ${f.changed.length}`,
      ]);
    }
    out.push(table(rows), "");
    out.push("‡ the engine's floor: N raw sockets connecting (200 in flight) to a room that does nothing, on the same engine after the restart. Back = every member's socket open again, from the moment the engine answered; exact = every observer and herenow hold the exact counts, the gone members offline.", "");
  }

  if (partykit.devices.length > 0) {
    const on = (/** @type {string} */ engine) => partykit.devices.find((d) => d.engine === engine);
    const [p, w] = [on("partykit"), on("workers")];
    const inFlight = p?.inFlight ?? w?.inFlight ?? 0;
    const fleet = p?.fleet ?? w?.fleet;
    /** @param {import("./devices.mjs").DevicesResult | undefined} d @param {(d: import("./devices.mjs").DevicesResult) => number} value @param {number} [digits] */
    const cell = (d, value, digits = 0) => (d ? fmt(value(d), digits) : "n/a");
    const perDevice = (/** @type {number} */ ms, /** @type {number} */ n) => (ms * 1000) / n;
    /** @type {string[][]} */
    const deviceRows = [["devices (HTTP clients), one room", "PartyKit", "herenow", "herenow/heartbeat", "Workers", "herenow", "herenow/heartbeat"]];
    /** @param {string} label @param {(d: import("./devices.mjs").DevicesResult) => number} hb @param {(d: import("./devices.mjs").DevicesResult) => number} read */
    const pair = (label, hb, read) => deviceRows.push([label, cell(p, hb), cell(p, read), p ? ratio(read(p), hb(p)) : "n/a", cell(w, hb), cell(w, read), w ? ratio(read(w), hb(w)) : "n/a"]);
    pair("  heartbeats (PUT) per second, 1 in flight (vs herenow reads)", (d) => d.heartbeat.perSecond, (d) => d.herenow.perSecond);
    pair(`  heartbeats per second, ${inFlight} devices in flight`, (d) => d.heartbeatParallel.perSecond, (d) => d.herenowParallel.perSecond);
    if (fleet) {
      deviceRows.push([`${fmt(fleet.devices)} devices, batches of ${fmt(fleet.batch)} (POST …/clients)`, "PartyKit", "", "", "Workers", "", ""]);
      deviceRows.push(["  created (s)", cell(p, (d) => d.fleet.createMs / 1000, 2), "", "", cell(w, (d) => d.fleet.createMs / 1000, 2), "", ""]);
      deviceRows.push(["  one renewal of all (s)", cell(p, (d) => d.fleet.renewMs / 1000, 2), "", "", cell(w, (d) => d.fleet.renewMs / 1000, 2), "", ""]);
      deviceRows.push(["  per device in a batch (µs), and one PUT each instead (µs)", cell(p, (d) => perDevice(d.fleet.renewMs, d.fleet.devices)), cell(p, (d) => perDevice(d.fleet.singlesMs, d.fleet.singles)), p ? ratio(perDevice(p.fleet.singlesMs, p.fleet.singles), perDevice(p.fleet.renewMs, p.fleet.devices)) : "n/a", cell(w, (d) => perDevice(d.fleet.renewMs, d.fleet.devices)), cell(w, (d) => perDevice(d.fleet.singlesMs, d.fleet.singles)), w ? ratio(perDevice(w.fleet.singlesMs, w.fleet.singles), perDevice(w.fleet.renewMs, w.fleet.devices)) : "n/a"]);
      deviceRows.push(["  share of the room's time if every device renews each 10 s", cell(p, (d) => (d.fleet.renewMs / 10_000) * 100, 1) + "%", "", "", cell(w, (d) => (d.fleet.renewMs / 10_000) * 100, 1) + "%", "", ""]);
    }
    out.push(table(deviceRows), "");
    for (const d of partykit.devices) {
      const errors = d.heartbeat.errors + d.herenow.errors + d.heartbeatParallel.errors + d.herenowParallel.errors;
      if (errors > 0) out.push(`NOTE devices on ${d.engine}: ${errors} requests failed`);
      if (d.fleet.refused > 0 || d.fleet.clientAmount !== d.fleet.devices) out.push(`NOTE devices on ${d.engine}: ${d.fleet.refused} refused, the room counted ${d.fleet.clientAmount} of ${d.fleet.devices}`);
    }
  }

  const largest = storm(workers, "ours", options.largest, true);
  if (largest) {
    out.push(`largest room on the Workers engine (PRESENCE_MAX_CLIENTS=32768, window ${options.window}): ${fmt(largest.completed)} of ${fmt(largest.n)} members hold the exact counts and their window ` +
      `${largest.timedOut ? "(TIMED OUT) " : ""}after ${fmt(secs(largest), 1)} s (connect phase ${fmt(largest.connectMs / 1000, 1)} s, ${fmt(largest.failedConnects)} connects failed); ` +
      `workerd ${fmt(largest.workerd.rssEndMB, 0)} MB RSS settled, ${fmt((largest.workerd.rssEndMB * 1024) / largest.n, 0)} KiB per member with the engine's own.`);
  }
  const heap = partykit.heaps.find((h) => h.n === options.heapMax);
  if (heap) {
    const beyondData = heap.heapPerMember - heap.userDataPerMember;
    out.push(`room heap per member in Node at N = ${fmt(heap.n)}: ${fmt(heap.heapPerMember, 0)} bytes (${fmt(heap.userDataPerMember, 0)} of them userData, so ${fmt(beyondData, 0)} beyond it; target 1,024): ` +
      `32,768 members keep ${fmt((heap.heapPerMember * 32_768) / 2 ** 20, 1)} MB of the 128 MB an isolate has.`);
  }
  out.push("");
  out.push(`Workers = the service on partyserver (bench/workers/worker.ts), run by Miniflare (workerd without wrangler's dev proxy) in a process of its own.`);
  out.push(`floor* and sending floor† as above, on each engine (bench/workers/ for Workers). Wakes = runs of the room's start (?stats starts); the last ?stats may add one.`);
  if (partykit.devices.length > 0) out.push(`devices: herenow = GET ?includeUsers=true&limit=10 of the same room timed the same way (ratio above 1: a heartbeat costs more than a read); one PUT each = the first 1,000 of the fleet renewed one request at a time.`);
  for (const note of notes({ storms: workers.storms, herenows: [], heaps: [], users: [], pushes: [] })) out.push(`NOTE Workers ${note}`);
  out.push(`Total bench time ${fmt(totalSeconds, 1)} s.`);
  const text = out.join("\n");
  console.log(text);
  return text;
}

/**
 * The latency of a lone change: p50, p90 and p99 of each room, ours beside the naive room
 * (the floor: every change broadcast to every socket at once), and ours/floor at p99.
 * @param {{ latencySamples: number; window: number }} options
 * @param {import("./latency.mjs").LatencyResult[]} results
 * @returns {string} the report, as printed
 */
export function latencyReport(options, results) {
  /** @type {string[]} */
  const out = [];
  /** @type {string[][]} */
  const rows = [[`latency of a lone change (ms; ${options.latencySamples} of each per pass)`, "floor p50", "p90", "p99", "ours p50", "p90", "p99", "ours/floor p99"]];
  const engines = [...new Set(results.map((r) => r.engine))];
  for (const engine of engines) {
    const sizes = [...new Map(results.filter((r) => r.engine === engine).map((r) => [`${r.interval ? "i" : ""}${r.n}`, r])).values()];
    for (const { n, interval } of sizes) {
      /** @param {string} kind */
      const of = (kind) => results.find((r) => r.engine === engine && r.kind === kind && r.n === n && r.interval === interval);
      const [floor, ours] = [of("naive"), of("ours")];
      for (const pace of pacesOf({ n, interval })) {
        const [fp, op] = [floor?.passes.find((p) => p.pace.name === pace.name), ours?.passes.find((p) => p.pace.name === pace.name)];
        rows.push([`${engine === "workers" ? "Workers" : "PartyKit"}, N = ${fmt(n)} (${interval ? `ours in interval mode, window ${options.window}` : "full mode"}), ${paceLabel(pace)}`, "", "", "", "", "", "", ""]);
        for (const [label, pick] of /** @type {const} */ ([["  join: socket open → observer holds the counts", "join"], ["  join: connect request → observer holds the counts", "joinRequest"], ["  update: sent → observer holds the data", "update"]])) {
          const [f, o] = [fp?.[pick], op?.[pick]];
          const cells = (/** @type {import("./latency.mjs").Latencies | undefined} */ l) => (l ? [fmt(l.p50, 1), fmt(l.p90, 1), fmt(l.p99, 1)] : ["n/a", "n/a", "n/a"]);
          rows.push([label, ...cells(f), ...cells(o), ratio(o?.p99 ?? NaN, f?.p99 ?? NaN)]);
        }
      }
    }
  }
  out.push(table(rows), "");
  out.push(`floor = the naive room (bench/naive-room.ts, bench/workers/naive-room.ts): each join and each update broadcast to every other socket at once.`);
  out.push(`join from socket open: the joiner's handshake done on the bench's side (the observer may hold the counts before: then 0 ms, counted in a NOTE);`);
  out.push(`join from connect request: from the bench asking for the joiner's socket, the engine's handshake included (the same for both rooms).`);
  out.push(`Each room first holds N members (raw sockets, all but the observer and the updater in a process of their own; the naive room's joined silently), settled ${SETTLE_MS / 1000} s; the observer is the last member in, the updater u1.`);
  out.push(`Full mode: PRESENCE_ANNOUNCE_MAX above N + the lone joiners; interval mode: the default (1000). p99 = the sorted sample at ⌊0.99 × count⌋, as herenow's p99 (of ${options.latencySamples}: ${options.latencySamples < 100 ? "the largest" : "one in a hundred"}).`);
  out.push(`ours/floor = ours' p99 / the floor's (above 1: ours is slower). Our pacing: a change after a quiet spell at once, what follows within a tick gathered (the tick grows with the room, party/channel/pacing.ts; interval mode: PRESENCE_INTERVAL_MS).`);
  for (const r of results) {
    const what = `latency ${r.engine} ${r.kind} N=${r.interval ? "i" : ""}${r.n}`;
    if (r.error) out.push(`NOTE ${what}: failed: ${r.error}`);
    for (const pass of r.passes) {
      if (pass.join.missed || pass.update.missed) out.push(`NOTE ${what}, ${pass.pace.name}: ${pass.join.missed} joins and ${pass.update.missed} updates not seen within 10 s (left out)`);
      if (pass.join.early) out.push(`NOTE ${what}, ${pass.pace.name}: ${pass.join.early} joins seen before the joiner's socket had opened on the bench's side (counted as 0 ms)`);
    }
  }
  const text = out.join("\n");
  console.log(text);
  return text;
}
