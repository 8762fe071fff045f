/**
 * The fan-in simulation: how many requests a second the service's shared objects (the index,
 * the directory's parts, the channel rooms) receive at a given scale, from the rooms' and the
 * edge's own code on a virtual clock. Each channel room runs the real `PresenceState` (its
 * members, grace, idle checks, diffs), the design's real reporters through the real tick hooks,
 * and the tick loop's rule for when a change runs (`waitForRun`); each edge isolate runs the
 * real `BanCache`. Rooms run on their own deadlines (the alarm: the earliest of their members'
 * and reporters' `nextDeadline`) and on changes; every call any of them makes is counted in the
 * object it names and answered after `latencyMs`. Nothing loops over all rooms: a run with
 * 100,000 rooms costs what its events cost.
 *
 * With `indexRoot`, each index shard a room reports to runs too: the real `ChannelTable` and
 * `ShardForwarder` (index/forwarder.ts) on the virtual clock, woken at the forwarder's and the
 * leases' deadlines, so the root's (`index/all`) `shard-report` calls are counted as well.
 *
 * What it leaves out, on purpose: storage, sockets' frames and the broadcast (no calls to other
 * objects); the tick loop's hold of an alarm's run within a tick after a send (`sendFrom`: it
 * moves a diff by under a tick, never adds a call); webhooks, history, watchers (off or idle).
 * Every call succeeds. Parties are always reachable (Cloudflare's engine; on PartyKit a room an
 * alarm woke waits for a request first, which only delays its reports).
 */
import type { Effect } from "../../party/channel/effects.ts";
import { Outbox } from "../../party/channel/effects.ts";
import { httpConnectionId } from "../../party/channel/http-client-rows.ts";
import { PresenceState } from "../../party/channel/presence.ts";
import type { Tick } from "../../party/channel/tick-hooks.ts";
import type { Parties } from "../../party/server/calls.ts";
import { waitForRun } from "../../party/server/tick-loop.ts";
import { forwardIntervalMs, ShardForwarder } from "../../party/index/forwarder.ts";
import { ChannelTable } from "../../party/index/table.ts";
import type { IndexReport } from "../../party/protocol/index.ts";
import { CHANNEL_PARTY, INDEX_PARTY, INDEX_ROOM } from "../../party/wire/parties.ts";
import type { ChannelReporting, Design, Isolate } from "./design.ts";
import { EventQueue } from "./queue.ts";
import { type PartyFigures, Tally } from "./tally.ts";

/** A scripted change (tests): a new user's socket joins channel `join`, or session `leave`'s socket closes. */
export type Scripted = { at: number; join: number } | { at: number; leave: number };

export type SimOptions = {
  design: Design;
  channels: number;
  /** Users online at the start, each with one socket in one channel (users `u0`…, sockets `s0`…). */
  users: number;
  /** HTTP clients (devices, each its own user `d0`… in one channel), heartbeating every `httpBeatMs` with a TTL of `httpTtlMs`. */
  httpClients: number;
  isolates: number;
  /** Joins a second (a new user's socket in a random channel), and as many leaves (a random socket closes: grace, then offline); Poisson. */
  churnPerSec: number;
  /** Virtual seconds to run. */
  seconds: number;
  /** The warm-up reported apart (default: one lease). */
  warmupMs?: number;
  /** When every call is answered, after it was sent. */
  latencyMs?: number;
  /** The starting users connect over this long (0: all at once at time 0). */
  rampMs?: number;
  httpTtlMs?: number;
  httpBeatMs?: number;
  seed?: number;
  /** Tests: the channel of each starting user (else random). */
  placement?: readonly number[];
  /** Tests: changes at given times (besides the churn). */
  script?: readonly Scripted[];
  /** Run the index shards too, forwarding to the root (`index/all`), and count the root's calls. */
  indexRoot?: boolean;
  /** Called at each virtual second the run reaches, with the wall time so far. */
  progress?: (second: number) => void;
};

export type SimResult = {
  design: string;
  figures: PartyFigures[];
  tally: Tally;
  /** Events handled, room runs, rooms started, virtual ms, wall ms. */
  stats: { events: number; runs: number; rooms: number; virtualMs: number; wallMs: number };
};

type Room = {
  name: string;
  members: PresenceState;
  out: Outbox;
  reporting: ChannelReporting;
  lastSentAt: number | null;
  timerAt: number | null;
  alarmAt: number | null;
  /** Guards against a room that keeps re-arming at the same instant (a bug, here or in the code under test). */
  runsAt: [number, number];
};

type Event =
  | { kind: "connect"; session: number }
  | { kind: "join" }
  | { kind: "leave" }
  | { kind: "scripted"; change: Scripted }
  | { kind: "beat"; client: number }
  | { kind: "timer"; room: number }
  | { kind: "alarm"; room: number; at: number }
  | { kind: "reply"; room: number; ticket: number; name: string }
  | { kind: "resolve"; resolve: () => void }
  | { kind: "shard"; shard: string; at: number };

/** An index shard in the simulation: its table, its forwarder, and when it is next woken. */
type SimShard = { table: ChannelTable; forwarder: ShardForwarder; wakeAt: number | null };

/** Runs the simulation and returns each party's figures. */
export async function simulate(options: SimOptions): Promise<SimResult> {
  const { design, channels, users, httpClients, isolates: isolateCount, churnPerSec, seconds } = options;
  const config = design.config;
  const latencyMs = options.latencyMs ?? 5;
  const rampMs = options.rampMs ?? 0;
  const httpTtlMs = options.httpTtlMs ?? 60_000;
  const httpBeatMs = options.httpBeatMs ?? 20_000;
  const endMs = seconds * 1000;
  const random = mulberry32(options.seed ?? 1);
  const queue = new EventQueue<Event>();
  const tally = new Tally(options.warmupMs ?? config.leaseMs, endMs);
  const started = performance.now();
  let events = 0;
  let runs = 0;

  // The edge: isolates with their own ban copies, calling the parties through the counted network.
  const parties = {
    reachable: true,
    call(party: string, room: string, name: string) {
      tally.count(party, room, name, queue.now);
      return new Promise((resolve) => queue.push(queue.now + latencyMs, { kind: "resolve", resolve: () => resolve(replyTo(name)) }));
    },
  } as unknown as Parties;
  // The isolates' clock reads like Date.now (BanCache takes 0 for "never read").
  const isolates: Isolate[] = design.isolates(isolateCount, () => EPOCH + queue.now, mulberry32((options.seed ?? 1) + 1));
  /** A request through a random isolate: its ban check (the answer is not needed: nobody is banned). */
  const throughEdge = (userId: string) => {
    const isolate = isolates[Math.floor(random() * isolates.length)];
    isolate?.check(userId, parties).catch(() => undefined);
  };

  // Channel rooms, started on their first request.
  const rooms: Array<Room | undefined> = new Array(channels);
  const roomOf = (index: number): Room => {
    let room = rooms[index];
    if (!room) {
      const name = `c${index}`;
      const out = new Outbox();
      const members = new PresenceState(config);
      rooms[index] = room = { name, members, out, reporting: design.channel(name, out, members), lastSentAt: null, timerAt: null, alarmAt: null, runsAt: [-1, 0] };
    }
    return room;
  };

  // Sockets: session n is user `u${n}`'s socket `s${n}` in channel sessionChannel[n], pinging every heartbeat interval from its connect.
  const sessionChannel: number[] = [];
  const connectedAt: number[] = [];
  /** Sockets open now, for a random leave. */
  const open: number[] = [];
  const newSession = (channel: number) => {
    sessionChannel.push(channel);
    connectedAt.push(Number.NaN);
    return sessionChannel.length - 1;
  };
  const interval = config.heartbeatIntervalMs;
  /** When the engine last answered a ping of this socket (Cloudflare answers them without waking the room). */
  const pingedAt = (connectionId: string): number | null => {
    if (!connectionId.startsWith("s")) return null;
    const at = connectedAt[Number(connectionId.slice(1))];
    if (at === undefined || Number.isNaN(at)) return null;
    const pings = Math.floor((queue.now - at) / interval);
    return pings > 0 ? at + pings * interval : null;
  };

  const schedule = (index: number, room: Room, now: number) => {
    if (room.timerAt !== null) return;
    room.timerAt = now + waitForRun(room.lastSentAt, tickMsOf(room), now);
    queue.push(room.timerAt, { kind: "timer", room: index });
  };
  const armBy = (index: number, room: Room, at: number, now: number) => {
    // TickLoop.#armBy: one alarm per room, moved earlier, never later while it is ahead.
    if (room.alarmAt !== null && room.alarmAt <= at && room.alarmAt > now) return;
    room.alarmAt = at;
    queue.push(at, { kind: "alarm", room: index, at });
  };
  const apply = (index: number, room: Room, effects: Effect[], now: number) => {
    for (const effect of effects) {
      if (effect.kind === "call") {
        tally.count(effect.call.party, effect.call.room, effect.call.name, now);
        if (options.indexRoot && effect.call.party === INDEX_PARTY && effect.call.name === "report") {
          const shard = shardOf(effect.call.room);
          shard.table.apply(effect.call.args as IndexReport, now, config.leaseMs);
          if (shard.wakeAt === null || shard.wakeAt > now) {
            shard.wakeAt = now;
            queue.push(now, { kind: "shard", shard: effect.call.room, at: now });
          }
        }
        queue.push(now + latencyMs, { kind: "reply", room: index, ticket: effect.ticket, name: effect.call.name });
      } else if (effect.kind === "tick") {
        schedule(index, room, now);
      }
    }
  };
  // Index shards (with `indexRoot`): made on their first report, each forwarding to the root through the counted network.
  const shards = new Map<string, SimShard>();
  const wakeShard = (name: string, shard: SimShard, now: number) => {
    const deadlines = [shard.forwarder.nextDeadline(), shard.table.nextExpiry()].filter((at): at is number => at !== null);
    if (deadlines.length === 0) return;
    const at = Math.max(now, Math.min(...deadlines));
    if (shard.wakeAt !== null && shard.wakeAt <= at && shard.wakeAt >= now) return;
    shard.wakeAt = at;
    queue.push(at, { kind: "shard", shard: name, at });
  };
  const shardOf = (name: string): SimShard => {
    let shard = shards.get(name);
    if (!shard) {
      const table = new ChannelTable();
      const forwarder = new ShardForwarder({
        shard: name,
        leaseMs: config.leaseMs,
        intervalMs: forwardIntervalMs(config.indexShards),
        table: () => table.all(),
        send: () => {
          tally.count(INDEX_PARTY, INDEX_ROOM, "shard-report", queue.now);
          return new Promise((resolve) => queue.push(queue.now + latencyMs, { kind: "resolve", resolve: () => resolve({ full: false }) }));
        },
      });
      shards.set(name, (shard = { table, forwarder, wakeAt: null }));
    }
    return shard;
  };
  /** A shard's run (IndexShard's tick): lapsed leases dropped, the changes to the forwarder, a report if one is due. */
  const runShard = (name: string, shard: SimShard, now: number) => {
    shard.wakeAt = null;
    shard.table.expire(now);
    const changes = shard.table.take();
    if (changes) shard.forwarder.note(changes);
    shard.forwarder
      .flush(now)
      .then(() => wakeShard(name, shard, queue.now))
      .catch(() => undefined);
    wakeShard(name, shard, now);
  };
  const tickMsOf = (room: Room) => (room.members.size > config.announceMax ? config.intervalMs : config.tickMs);
  /** One run of the room's tick (ChannelCore.tick then publish, the parts that reach other objects). */
  const run = (index: number, room: Room, now: number) => {
    runs++;
    if (room.runsAt[0] === now) {
      if (++room.runsAt[1] > 1000) throw new Error(`room ${room.name} ran 1000 times at ${now} ms`);
    } else room.runsAt = [now, 1];
    // TickLoop.#runOnce: this run takes every change so far; a timer armed for them is not needed.
    room.timerAt = null;
    const { members } = room;
    members.lapse(now);
    members.expire(now, pingedAt);
    const diff = members.takeDiff();
    const tick: Tick = { now, diff, seq: 0, wasOccupied: false, mode: members.size > config.announceMax ? "interval" : "full", reachable: true };
    for (const hook of room.reporting.hooks) hook.published?.(tick);
    if (diff) room.lastSentAt = now;
    apply(index, room, room.out.take(), now);
    let next = members.nextDeadline() ?? Infinity;
    for (const hook of room.reporting.hooks) next = Math.min(next, hook.nextDeadline() ?? Infinity);
    if (Number.isFinite(next)) armBy(index, room, next, now);
  };

  const connect = (session: number, now: number) => {
    const channel = sessionChannel[session]!;
    const userId = `u${session}`;
    throughEdge(userId);
    tally.count(CHANNEL_PARTY, `c${channel}`, "connect", now);
    const room = roomOf(channel);
    connectedAt[session] = now;
    open.push(session);
    room.members.connect({ connectionId: `s${session}`, userId, data: null, lastActive: now }, now);
    room.out.tick();
    apply(channel, room, room.out.take(), now);
  };
  const close = (session: number, now: number) => {
    const channel = sessionChannel[session]!;
    const room = roomOf(channel);
    connectedAt[session] = Number.NaN;
    room.members.drop(`s${session}`, now);
    room.out.tick();
    apply(channel, room, room.out.take(), now);
  };
  const closeRandom = (now: number) => {
    // A random open socket (swap-remove); one already closed by the script is skipped.
    while (open.length > 0) {
      const i = Math.floor(random() * open.length);
      const session = open[i]!;
      open[i] = open[open.length - 1]!;
      open.pop();
      if (!Number.isNaN(connectedAt[session]!)) return close(session, now);
    }
  };

  // HTTP clients: device `d${k}`, client `h${k}`, in a random channel, first heartbeat within one beat.
  const httpChannel: number[] = [];
  for (let k = 0; k < httpClients; k++) {
    httpChannel.push(Math.floor(random() * channels));
    queue.push(random() * httpBeatMs, { kind: "beat", client: k });
  }
  const beat = (client: number, now: number) => {
    const channel = httpChannel[client]!;
    const userId = `d${client}`;
    throughEdge(userId);
    tally.count(CHANNEL_PARTY, `c${channel}`, "heartbeat", now);
    const room = roomOf(channel);
    const connectionId = httpConnectionId(`h${client}`);
    const expiresAt = now + httpTtlMs;
    // Heartbeats.apply: renew, or create (a new member: a tick).
    if (!room.members.renew(connectionId, expiresAt, now)) {
      room.members.connect({ connectionId, userId, clientType: "device", data: null, lastActive: now, expiresAt }, now);
      room.out.tick();
    }
    apply(channel, room, room.out.take(), now);
    queue.push(now + httpBeatMs, { kind: "beat", client });
  };

  // The starting users, the churn, the script.
  for (let n = 0; n < users; n++) {
    const session = newSession(options.placement?.[n] ?? Math.floor(random() * channels));
    queue.push(rampMs > 0 ? random() * rampMs : 0, { kind: "connect", session });
  }
  const nextChurn = (now: number) => now + (-Math.log(1 - random()) * 1000) / churnPerSec;
  if (churnPerSec > 0) {
    queue.push(nextChurn(0), { kind: "join" });
    queue.push(nextChurn(0), { kind: "leave" });
  }
  for (const change of options.script ?? []) queue.push(change.at, { kind: "scripted", change });

  let second = -1;
  for (;;) {
    const at = queue.peek();
    if (at === null || at >= endMs) break;
    const { event } = queue.pop()!;
    const now = queue.now;
    events++;
    if (Math.floor(now / 1000) !== second) {
      second = Math.floor(now / 1000);
      options.progress?.(second);
    }
    switch (event.kind) {
      case "connect":
        connect(event.session, now);
        break;
      case "join":
        connect(newSession(Math.floor(random() * channels)), now);
        queue.push(nextChurn(now), { kind: "join" });
        break;
      case "leave":
        closeRandom(now);
        queue.push(nextChurn(now), { kind: "leave" });
        break;
      case "scripted":
        if ("join" in event.change) connect(newSession(event.change.join), now);
        else close(event.change.leave, now);
        break;
      case "beat":
        beat(event.client, now);
        break;
      case "timer": {
        const room = rooms[event.room]!;
        if (room.timerAt === now) run(event.room, room, now);
        break;
      }
      case "alarm": {
        const room = rooms[event.room]!;
        if (room.alarmAt !== event.at) break;
        room.alarmAt = null;
        run(event.room, room, now);
        break;
      }
      case "reply": {
        const room = rooms[event.room]!;
        room.reporting.replied(event.ticket, { reply: replyTo(event.name) }, now);
        apply(event.room, room, room.out.take(), now);
        break;
      }
      case "shard": {
        const shard = shards.get(event.shard)!;
        if (shard.wakeAt === event.at) runShard(event.shard, shard, now);
        break;
      }
      case "resolve":
        event.resolve();
        // The isolate's code goes on in promise jobs: let it finish at this virtual time.
        await new Promise((resolve) => setImmediate(resolve));
        break;
    }
  }
  return {
    design: design.name,
    figures: tally.figures(),
    tally,
    stats: { events, runs, rooms: rooms.filter(Boolean).length, virtualMs: endMs, wallMs: performance.now() - started },
  };
}

/** Virtual time 0 on the isolates' wall clock. */
const EPOCH = Date.UTC(2026, 0, 1);

/** What each call is answered (only the shape its caller reads). */
function replyTo(name: string): unknown {
  if (name === "bans") return { bans: [] };
  if (name === "status") return { users: [] };
  return {};
}

/** A small seeded generator: the same run every time. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
