/**
 * The chaos tests' reference model and the simulated crowd that keeps it.
 *
 * - `Prng`: a seeded PRNG (mulberry32), so a run can be replayed with `CHAOS_SEED=<seed>`.
 * - `PresenceModel`: what the room must show once every grace period has run out: which users
 *   are members, online or offline, with which data and how many live clients.
 * - `Swarm`: real `PresenceClient`s over `ws` doing random joins, updates, leaves, clean closes,
 *   vanishes (socket killed, never back), kills (socket killed, partysocket reconnects) and
 *   reloads, each action recorded in the model at the moment it is made. Actions whose effect
 *   would depend on timing the test cannot see (the last live client's leave right after
 *   another client of the user closed, before the room can have seen that close; an update
 *   while a client of the user is mid-connect with the old data) are skipped, so the model
 *   stays exact.
 *
 * Every step draws the same number of random values whatever happens, so a seed replays the
 * same stream of intended actions; only which of them are skipped can differ with timing.
 */
import WebSocket from "ws";
import { PresenceClient } from "../../client/index.ts";
import type { JsonValue, Member, ServerMessage } from "../../party/protocol/index.ts";
import { readMember } from "../support/messages.ts";

// ------------------------------------------------------------------------------ PRNG

/** mulberry32: small, fast and good enough to drive a simulation. */
/** The room settings the churn and crash servers share; only the grace period differs. */
export function chaosVars(graceMs: number): Record<string, string> {
  return {
    PRESENCE_GRACE_MS: String(graceMs),
    PRESENCE_TICK_MS: "50",
    PRESENCE_HEARTBEAT_INTERVAL_MS: "1000",
    PRESENCE_HEARTBEAT_TIMEOUT_MS: "5000",
  };
}

export class Prng {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }
}

/** The seed of this run: `CHAOS_SEED` if set, else a fresh one. Print it. */
export function chaosSeed(): number {
  const fromEnv = process.env.CHAOS_SEED;
  if (fromEnv !== undefined && fromEnv !== "") {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CHAOS_SEED must be a non-negative integer, not ${fromEnv}`);
    return seed >>> 0;
  }
  return (Date.now() ^ (process.pid << 12)) >>> 0;
}

// ------------------------------------------------------------------------------ model

/** A member as the test compares it: what must hold once grace has passed. */
export type ModelMember = { id: string; status: "online" | "offline"; data: JsonValue; clients: number };

/** The herenow answer the model expects (users sorted by id, then by data text). */
export type ModelHereNow = { clientAmount: number; userAmount: number; users: Array<{ id: string; data: JsonValue }> };

type UserRecord = {
  id: string;
  /** The data every client of this user carries now (all of them are updated together). */
  data: JsonValue;
  /** Whether the user is a member of the channel (joined, and not left since). */
  member: boolean;
  /** Keys of the user's clients the test has not closed. */
  live: Set<string>;
  /** Clients closed without a leave, by key, with when they were closed: counted for grace. */
  lingering: Map<string, number>;
  /** Since when the user has had no live client while still a member (null: has one, or is no member). */
  darkSince: number | null;
  /** Closed periods without a live client: [start, end). */
  dark: Array<{ start: number; end: number }>;
};

/** The reference model of one channel. Times are `Date.now()` on the test's side. */
export class PresenceModel {
  readonly #users = new Map<string, UserRecord>();

  constructor(
    readonly graceMs: number,
    /** How early an offline may come before a full grace period (clock and tick slack). */
    readonly marginMs = 400,
    /** How long after a close or vanish the room may not have seen it yet. */
    readonly settleMs = 300,
  ) {}

  user(id: string): UserRecord {
    let user = this.#users.get(id);
    if (!user) {
      user = { id, data: { name: id, v: 0 }, member: false, live: new Set(), lingering: new Map(), darkSince: null, dark: [] };
      this.#users.set(id, user);
    }
    return user;
  }

  /** The data a new client of `userId` carries. */
  dataOf(userId: string): JsonValue {
    return this.user(userId).data;
  }

  /** A client of `userId` connected (or is about to). */
  join(userId: string, key: string, now: number): void {
    const user = this.user(userId);
    user.member = true;
    if (user.live.size === 0 && user.darkSince !== null) {
      user.dark.push({ start: user.darkSince, end: now });
      user.darkSince = null;
    }
    user.live.add(key);
  }

  /** All of the user's clients now carry `data`. */
  update(userId: string, data: JsonValue): void {
    this.user(userId).data = data;
  }

  /** A client is gone without a leave: counted for grace, then (if it was the last) offline. */
  drop(userId: string, key: string, now: number): void {
    const user = this.user(userId);
    if (!user.live.delete(key)) return;
    user.lingering.set(key, now);
    if (user.live.size === 0 && user.member) user.darkSince = now;
  }

  /**
   * Whether a leave by this user's last live client has a certain outcome now: the room
   * must have seen every close the test made (a client it still thinks live would keep
   * the member).
   */
  leaveIsSure(userId: string, now: number): boolean {
    const user = this.user(userId);
    for (const [key, closedAt] of user.lingering) {
      if (now - closedAt > this.graceMs * 3) user.lingering.delete(key);
      else if (now - closedAt < this.settleMs) return false;
    }
    return true;
  }

  /**
   * A client leaves (unsubscribes). If it was the user's last live client, the member
   * leaves at once, even if other clients of the user are still in grace (gone tabs);
   * otherwise it stays. Returns whether the member left.
   */
  leave(userId: string, key: string, now: number): boolean {
    const user = this.user(userId);
    user.live.delete(key);
    if (user.live.size > 0) return false;
    if (!this.leaveIsSure(userId, now)) throw new Error(`model: leave of ${userId} is not deterministic now`);
    user.member = false;
    user.darkSince = null;
    user.lingering.clear();
    return true;
  }

  /** The members once grace has passed, sorted by id. */
  members(): ModelMember[] {
    const members: ModelMember[] = [];
    for (const user of this.#users.values()) {
      if (!user.member) continue;
      const online = user.live.size > 0;
      members.push({ id: user.id, status: online ? "online" : "offline", data: user.data, clients: online ? user.live.size : 0 });
    }
    return members.sort((a, b) => compareText(a.id, b.id));
  }

  /** herenow once grace has passed. */
  hereNow(distinct: boolean): ModelHereNow {
    const online = this.members().filter((m) => m.status === "online");
    const users = online.flatMap((m) => Array.from({ length: distinct ? 1 : m.clients }, () => ({ id: m.id, data: m.data })));
    return {
      clientAmount: online.reduce((sum, m) => sum + m.clients, 0),
      userAmount: online.length,
      users: sortUsers(users),
    };
  }

  /**
   * Checks presence events an observer saw against the model: an `offline` is legitimate
   * only after its user had no live client for (about) a whole grace period. A blip (killed
   * socket, reload, restart with a quick reconnect) must never produce one. Returns the
   * events that had no such reason.
   */
  flickers(events: ReadonlyArray<{ action: string; id: string; at: number }>, now: number): Array<{ id: string; at: number }> {
    const periods = new Map<string, Array<{ start: number; end: number; used: boolean }>>();
    for (const user of this.#users.values()) {
      const all = [...user.dark];
      if (user.darkSince !== null) all.push({ start: user.darkSince, end: now + 60_000 });
      periods.set(user.id, all.map((p) => ({ ...p, used: false })));
    }
    const bad: Array<{ id: string; at: number }> = [];
    for (const event of events) {
      if (event.action !== "offline") continue;
      const reason = periods
        .get(event.id)
        ?.find((p) => !p.used && p.end - p.start >= this.graceMs - this.marginMs && event.at >= p.start + this.graceMs - this.marginMs);
      if (reason) reason.used = true;
      else bad.push({ id: event.id, at: event.at });
    }
    return bad;
  }

  /** Users the model knows, members or not. */
  get users(): UserRecord[] {
    return [...this.#users.values()];
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** herenow users in a canonical order, so multisets compare as arrays. */
export function sortUsers<T extends { id: string; data: unknown }>(users: T[]): T[] {
  return [...users].sort((a, b) => compareText(a.id, b.id) || compareText(JSON.stringify(a.data), JSON.stringify(b.data)));
}

/** A member list reduced to what the model predicts, sorted by id. */
export function comparable(members: readonly Member[]): ModelMember[] {
  return members
    .map((m) => ({ id: m.id, status: m.status, data: m.data, clients: m.clients }))
    .sort((a, b) => compareText(a.id, b.id));
}

// ------------------------------------------------------------------------------ swarm

/** One simulated client. */
export type SimClient = {
  key: string;
  userId: string | null;
  client: PresenceClient;
  /** False once the test closed it (close, vanish or leave). */
  live: boolean;
  /** Whether it has a complete snapshot since its socket last opened. */
  synced: boolean;
  /** How many times its socket opened. */
  opens: number;
  /** Error messages the room sent it (an honest client should get none). */
  errors: string[];
  /** Exempt from churn (the event recorder). */
  pinned: boolean;
};

export type Action = "join" | "update" | "leave" | "close" | "vanish" | "kill" | "reload" | "observe" | "unobserve";

export type SwarmOptions = {
  host: string;
  channel: string;
  rng: Prng;
  model: PresenceModel;
  userIds: string[];
  /** Keep about this many live clients (members and observers). */
  target: number;
  /** Most live clients one user may have in the simulation. */
  maxPerUser?: number;
};

/** Relative weight of each action in a step. */
const WEIGHTS: Array<[Action, number]> = [
  ["join", 18],
  ["update", 14],
  ["leave", 9],
  ["close", 9],
  ["vanish", 7],
  ["kill", 14],
  ["reload", 7],
  ["observe", 3],
  ["unobserve", 3],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

/** The crowd: creates clients, makes random moves, and records each in the model. */
export class Swarm {
  readonly clients = new Map<string, SimClient>();
  /** Presence events the pinned recorder saw, with when. */
  readonly recorded: Array<{ action: string; id: string; at: number; resync: boolean }> = [];
  /** Actions made, by kind; `skipped` counts steps whose action was not possible then. */
  readonly done: Record<Action | "skipped", number> = {
    join: 0, update: 0, leave: 0, close: 0, vanish: 0, kill: 0, reload: 0, observe: 0, unobserve: 0, skipped: 0,
  };
  /** Failures of the simulation itself (a leave that was never answered…). */
  readonly problems: string[] = [];
  /** Every action made: time, action, user, connection id (for diagnosing a failure). */
  readonly log: Array<{ at: number; action: string; userId: string | null; key: string; note?: string }> = [];
  /** In an outage: only closes, updates and joins, which need no answer from the room. */
  outage = false;
  /** Per user: actions awaiting an answer, and a time before which nothing else may touch it. */
  readonly #inflight = new Map<string, number>();
  readonly #busyUntil = new Map<string, number>();
  readonly #pending = new Set<Promise<unknown>>();
  #step = 0;
  readonly #outageUpdated = new Set<string>();
  readonly #outageClosed = new Set<string>();
  /** Users closed for good during an outage: the churn leaves them alone from then on. */
  readonly #parked = new Set<string>();
  /** Users with a client closed during any outage so far. */
  readonly closedInOutage = new Set<string>();

  constructor(readonly options: SwarmOptions) {}

  get model(): PresenceModel {
    return this.options.model;
  }

  /** Clients the test has not closed. */
  live(): SimClient[] {
    return [...this.clients.values()].filter((c) => c.live);
  }

  /** Total socket opens so far (first connects and reconnects). */
  opens(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.opens;
    return n;
  }

  // ---------------------------------------------------------------- creating clients

  /** Connects a new client (a member of `userId`, or an observer for null). */
  connect(userId: string | null, pinned = false): SimClient {
    const now = Date.now();
    const client = new PresenceClient({
      host: this.options.host,
      channel: this.options.channel,
      WebSocket,
      minReconnectionDelay: 100,
      maxReconnectionDelay: 500,
      requestTimeoutMs: 15_000,
      ...(userId === null ? {} : { userId, userData: this.model.dataOf(userId) }),
    });
    const sim: SimClient = { key: client.connectionId, userId, client, live: true, synced: false, opens: 0, errors: [], pinned };
    client.on("status", (status) => {
      if (status === "open") sim.opens++;
      sim.synced = false;
    });
    client.on("sync", () => (sim.synced = true));
    client.on("error", (error) => sim.errors.push(`${error.code}: ${error.message}`));
    if (pinned) {
      client.on("presence", (event) =>
        this.recorded.push({ action: event.action, id: event.member.id, at: Date.now(), resync: event.resync === true }),
      );
    }
    this.clients.set(sim.key, sim);
    this.log.push({ at: now, action: userId === null ? "observe" : "join", userId, key: sim.key });
    if (userId !== null) {
      this.model.join(userId, sim.key, now);
      this.#hold(userId, client.ready(), 20_000, `join of ${userId}`);
    }
    return sim;
  }

  /** Connects the starting crowd in batches, waiting for each batch's snapshots. */
  async populate(members: number, observers: number, batch = 25): Promise<void> {
    const plan: Array<string | null> = [];
    for (let i = 0; i < members; i++) plan.push(this.options.userIds[i % this.options.userIds.length]!);
    for (let i = 0; i < observers; i++) plan.push(null);
    for (let i = 0; i < plan.length; i += batch) {
      const made = plan.slice(i, i + batch).map((userId) => this.connect(userId));
      await Promise.all(made.map((sim) => withTimeout(sim.client.ready(), 30_000, `first snapshot of ${sim.userId ?? "an observer"}`)));
    }
  }

  // ---------------------------------------------------------------- one random step

  /** Draws one action and makes it if it is possible now. Returns what was done, or null. */
  step(): Action | null {
    const rng = this.options.rng;
    this.#step++;
    // Always draw the same values, so the stream of intended actions depends on the seed only.
    let roll = rng.next() * TOTAL_WEIGHT;
    const userIndex = rng.int(this.options.userIds.length);
    const clientRoll = rng.next();
    const value = rng.int(1_000_000);
    let action: Action = "join";
    for (const [name, weight] of WEIGHTS) {
      if ((roll -= weight) < 0) {
        action = name;
        break;
      }
    }
    // Keep the crowd near its target size.
    const liveCount = this.live().length;
    if (action === "join" && liveCount > this.options.target * 1.15) action = "close";
    const removal = action === "close" || action === "vanish" || action === "leave" || action === "unobserve";
    if (removal && !this.outage && liveCount < this.options.target * 0.95) {
      action = action === "unobserve" ? "observe" : "join";
    }

    const userId = this.options.userIds[userIndex]!;
    const made = !this.#parked.has(userId) && this.#try(action, userId, clientRoll, value);

    this.done[made ? action : "skipped"]++;
    return made ? action : null;
  }

  #try(action: Action, userId: string, clientRoll: number, value: number): boolean {
    const now = Date.now();
    const user = this.model.user(userId);
    const mine = this.live().filter((c) => c.userId === userId);
    const ready = mine.filter((c) => this.#usable(c));
    const pickFrom = (list: SimClient[]) => list[Math.floor(clientRoll * list.length)]!;
    const busy = this.#isBusy(userId, now);

    if (this.outage) {
      // The room is down: nothing that needs an answer. A user is either updated or closed
      // during one outage, so its new data surely reaches the room through a reconnect.
      // Leaves and reloads cannot happen without the room: they become closes.
      if (action === "leave" || action === "reload") action = "close";
      if (action === "update" && mine.length > 0 && user.member && !busy && !this.#outageClosed.has(userId)) {
        this.#outageUpdated.add(userId);
        return this.#update(userId, mine, value);
      }
      if ((action === "close" || action === "vanish") && mine.length > 0 && !busy && !this.#outageUpdated.has(userId)) {
        this.#outageClosed.add(userId);
        this.closedInOutage.add(userId);
        const target = pickFrom(mine);
        this.#record("close (outage)", target);
        target.client.close();
        this.#closed(target, now);
        return true;
      }
      if (action === "join" && !busy && mine.length < (this.options.maxPerUser ?? 6)) {
        this.connect(userId);
        return true;
      }
      return false;
    }

    switch (action) {
      case "join": {
        if (busy || mine.length >= (this.options.maxPerUser ?? 6)) return false;
        this.connect(userId);
        return true;
      }
      case "update": {
        if (busy || !user.member || mine.length === 0 || ready.length !== mine.length) return false;
        return this.#update(userId, mine, value);
      }
      case "leave": {
        if (busy || ready.length === 0) return false;
        // The last live client: the room must have seen the user's other closes by now.
        if (mine.length === 1 && !this.model.leaveIsSure(userId, now)) return false;
        const target = pickFrom(ready);
        target.live = false;
        const left = this.model.leave(userId, target.key, now);
        this.#record("leave", target, left ? "member leaves" : "member stays");
        this.#hold(userId, target.client.leave(), 20_000, `leave of ${userId}`);
        return true;
      }
      case "close":
      case "vanish": {
        if (busy || ready.length === 0) return false;
        const target = pickFrom(ready);
        this.#record(action, target);
        if (action === "vanish") {
          // The network dies and the client never comes back: no close frame at all.
          socketOf(target)?.terminate();
        }
        target.client.close();
        this.#closed(target, now);
        return true;
      }
      case "kill":
      case "reload": {
        const candidates = this.live().filter((c) => !c.pinned && this.#usable(c) && !(c.userId !== null && this.#isBusy(c.userId, now)));
        if (candidates.length === 0) return false;
        const target = pickFrom(candidates);
        this.#record(action, target);
        target.synced = false;
        // kill: the TCP connection dies, partysocket reconnects with the same id.
        // reload: a clean close and a reconnect, as a page reload does.
        if (action === "kill") socketOf(target)?.terminate();
        else target.client.socket.reconnect();
        return true;
      }
      case "observe": {
        this.connect(null);
        return true;
      }
      case "unobserve": {
        const observers = this.live().filter((c) => c.userId === null && !c.pinned && this.#usable(c));
        if (observers.length === 0) return false;
        const target = pickFrom(observers);
        this.#record(action, target);
        target.client.close();
        target.live = false;
        return true;
      }
    }
  }

  #update(userId: string, mine: SimClient[], value: number): boolean {
    const data: JsonValue = { name: userId, v: value, step: this.#step, note: NOTES[value % NOTES.length]! };
    this.model.update(userId, data);
    this.log.push({ at: Date.now(), action: "update", userId, key: "*", note: JSON.stringify(data) });
    for (const c of mine) c.client.setUserData(data);
    // Let the update frames leave before anything else happens to this user.
    this.#busyUntil.set(userId, Date.now() + 300);
    return true;
  }

  #record(action: string, target: SimClient, note?: string) {
    this.log.push({ at: Date.now(), action, userId: target.userId, key: target.key, ...(note === undefined ? {} : { note }) });
  }

  /** The log of one user's actions, as text. */
  history(userId: string): string {
    const start = this.log[0]?.at ?? 0;
    return this.log
      .filter((entry) => entry.userId === userId)
      .map((e) => `+${e.at - start}ms ${e.action} ${e.key.slice(0, 8)}${e.note ? ` (${e.note})` : ""}`)
      .join("\n");
  }

  #closed(target: SimClient, now: number) {
    target.live = false;
    if (target.userId !== null) this.model.drop(target.userId, target.key, now);
  }

  #isBusy(userId: string, now: number): boolean {
    return (this.#inflight.get(userId) ?? 0) > 0 || (this.#busyUntil.get(userId) ?? 0) > now;
  }

  #usable(c: SimClient): boolean {
    return c.synced && c.client.socket.readyState === 1;
  }

  /** Marks a user busy until `promise` settles (or `timeoutMs`), recording a failure. */
  #hold(userId: string, promise: Promise<unknown>, timeoutMs: number, what: string) {
    this.#inflight.set(userId, (this.#inflight.get(userId) ?? 0) + 1);
    const tracked = withTimeout(promise, timeoutMs, what)
      .catch((error: Error) => this.problems.push(error.message))
      .finally(() => {
        this.#inflight.set(userId, (this.#inflight.get(userId) ?? 1) - 1);
        this.#pending.delete(tracked);
      });
    this.#pending.add(tracked);
  }

  // ---------------------------------------------------------------- running

  /** Makes a step every `everyMs` for `durationMs`. */
  async churn(durationMs: number, everyMs = 25): Promise<void> {
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      this.step();
      await sleep(everyMs);
    }
  }

  /** Waits for every pending join and leave; those still pending after `timeoutMs` are added to `problems`, never dropped silently. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.size > 0 && Date.now() < deadline) await Promise.race([...this.#pending, sleep(200)]);
    if (this.#pending.size > 0) this.problems.push(`${this.#pending.size} joins or leaves still pending after ${timeoutMs} ms`);
  }

  /** Starts an outage: until `endOutage`, only closes, updates and joins. */
  beginOutage(): void {
    this.outage = true;
    this.#outageClosed.clear();
    this.#outageUpdated.clear();
  }

  endOutage(): void {
    this.outage = false;
  }

  /**
   * During an outage, closes every client of one member that is not busy and leaves it alone
   * from then on, so each run has a user that must end offline with its data. Returns it.
   */
  parkOneUser(): string | null {
    const now = Date.now();
    const candidates = this.options.userIds.filter((userId) => {
      if (this.#parked.has(userId) || this.#isBusy(userId, now) || this.#outageUpdated.has(userId)) return false;
      const mine = this.live().filter((c) => c.userId === userId && !c.pinned);
      return mine.length > 0 && this.model.user(userId).member;
    });
    if (candidates.length === 0) return null;
    const userId = candidates[Math.floor(this.options.rng.next() * candidates.length)]!;
    this.#parked.add(userId);
    this.#outageClosed.add(userId);
    this.closedInOutage.add(userId);
    for (const target of this.live().filter((c) => c.userId === userId)) {
      this.#record("close (outage, for good)", target);
      target.client.close();
      this.#closed(target, now);
    }
    return userId;
  }

  /** Waits until every live client has its socket open and a fresh snapshot. */
  async allSynced(timeoutMs: number): Promise<number> {
    const start = Date.now();
    while (this.live().some((c) => !this.#usable(c))) {
      if (Date.now() - start > timeoutMs) {
        const stuck = this.live().filter((c) => !this.#usable(c));
        throw new Error(`${stuck.length} live clients not open and synced after ${timeoutMs} ms (e.g. ${stuck[0]?.userId ?? "observer"})`);
      }
      await sleep(50);
    }
    return Date.now() - start;
  }

  /** What every live client shows now, for comparison with the model. */
  views(): Array<{ key: string; userId: string | null; members: ModelMember[]; counts: { clientAmount: number; userAmount: number } }> {
    return this.live().map((c) => ({ key: c.key, userId: c.userId, members: comparable(c.client.members), counts: c.client.counts }));
  }

  /** Errors honest clients received from the room. */
  errors(): string[] {
    return [...this.clients.values()].flatMap((c) => c.errors.map((e) => `${c.userId ?? "observer"}: ${e}`));
  }

  /** Closes every client. */
  closeAll(): void {
    for (const c of this.clients.values()) c.client.close();
  }
}

const NOTES = ["plain", "ünïcödé", "עברית", "emoji 👩‍👩‍👧", "nul\u0000byte", "quote\"back\\slash", "新しい", "\u202eRTL"];

/** The `ws` socket under a PresenceClient (partysocket keeps it as `_ws`). */
export function socketOf(sim: SimClient): WebSocket | undefined {
  return (sim.client.socket as unknown as { _ws?: WebSocket })._ws;
}

// ------------------------------------------------------------------------------ checks

/** What the room and the clients show, next to what the model expects. */
export type Observation = {
  http: { distinct: ModelHereNow; all: ModelHereNow };
  /** The members in a fresh snapshot from the room (a new observer's sync). */
  room: ModelMember[];
  expected: { distinct: ModelHereNow; all: ModelHereNow; members: ModelMember[] };
  /** Clients whose view differs from the model (empty when all agree). */
  mismatched: Array<{ userId: string | null; members: ModelMember[]; counts: { clientAmount: number; userAmount: number } }>;
  clientsChecked: number;
};

/** Reads herenow over HTTP (GoEasy shape) for one channel. */
export async function httpHereNow(host: string, channel: string, distinct: boolean): Promise<ModelHereNow> {
  const response = await fetch(`http://${host}/parties/main/${channel}?includeUsers=true&distinct=${distinct}`);
  const body = (await response.json()) as { code: number; content: { channels: Record<string, ModelHereNow> } };
  if (body.code !== 200) throw new Error(`herenow answered ${JSON.stringify(body)}`);
  const result = body.content.channels[channel]!;
  return { clientAmount: result.clientAmount, userAmount: result.userAmount, users: sortUsers(result.users ?? []) };
}

/** Compares HTTP herenow and every live client's view with the model, once. */
export async function observe(swarm: Swarm): Promise<Observation> {
  const { host, channel } = swarm.options;
  const model = swarm.model;
  const expected = { distinct: model.hereNow(true), all: model.hereNow(false), members: model.members() };
  const counts = { clientAmount: expected.all.clientAmount, userAmount: expected.all.userAmount };
  const http = { distinct: await httpHereNow(host, channel, true), all: await httpHereNow(host, channel, false) };
  const room = await snapshot(host, channel);
  const views = swarm.views();
  const mismatched = views
    .filter((v) => JSON.stringify(v.members) !== JSON.stringify(expected.members) || JSON.stringify(v.counts) !== JSON.stringify(counts))
    .map(({ userId, members, counts: c }) => ({ userId, members, counts: c }));
  return { http, room, expected, mismatched, clientsChecked: views.length };
}

/** The members of a fresh snapshot: connects an observer, reads its sync (all parts), closes. */
export async function snapshot(host: string, channel: string): Promise<ModelMember[]> {
  const ws = new WebSocket(`ws://${host}/parties/main/${channel}`);
  try {
    const members = await withTimeout(
      new Promise<Member[]>((done, fail) => {
        const parts: Member[] = [];
        ws.on("message", (data) => {
          const message = JSON.parse(String(data)) as ServerMessage;
          if (message.type !== "sync") return;
          parts.push(...message.members.map((wire) => readMember(wire, message.now)));
          if (!message.more) done(parts);
        });
        ws.once("error", fail);
      }),
      10_000,
      "a snapshot from the room",
    );
    return comparable(members);
  } finally {
    ws.terminate();
  }
}

/** Whether an observation agrees with the model everywhere. */
export function agrees(o: Observation): boolean {
  return (
    JSON.stringify(o.http.distinct) === JSON.stringify(o.expected.distinct) &&
    JSON.stringify(o.http.all) === JSON.stringify(o.expected.all) &&
    JSON.stringify(o.room) === JSON.stringify(o.expected.members) &&
    o.mismatched.length === 0
  );
}

/** Polls until the room and every client agree with the model, or `timeoutMs`; returns the last observation. */
export async function converge(swarm: Swarm, timeoutMs: number): Promise<{ observation: Observation; waitedMs: number }> {
  const start = Date.now();
  let observation = await observe(swarm);
  while (!agrees(observation) && Date.now() - start < timeoutMs) {
    await sleep(250);
    observation = await observe(swarm);
  }
  return { observation, waitedMs: Date.now() - start };
}

/** Users whose record differs between the model and the room or a client, with their action history. */
export function explain(swarm: Swarm, o: Observation): string {
  const key = (m: ModelMember) => JSON.stringify(m);
  const expected = new Map(o.expected.members.map((m) => [m.id, key(m)]));
  const suspects = new Set<string>();
  const lists = [o.room, ...o.mismatched.map((v) => v.members)];
  for (const list of lists) {
    const seen = new Map(list.map((m) => [m.id, key(m)]));
    for (const id of new Set([...expected.keys(), ...seen.keys()])) if (expected.get(id) !== seen.get(id)) suspects.add(id);
  }
  const lines = [`${o.mismatched.length} of ${o.clientsChecked} live clients differ (${o.mismatched.slice(0, 5).map((v) => v.userId ?? "observer").join(", ")})`];
  for (const id of [...suspects].slice(0, 5)) {
    lines.push(`user ${id}: model ${expected.get(id) ?? "absent"}; room ${JSON.stringify(o.room.find((m) => m.id === id) ?? "absent")}`);
    lines.push(swarm.history(id));
  }
  return lines.join("\n");
}

/** Rejects with `what` if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

// ------------------------------------------------------------------------------ the user directory

/** What the directory should say of a user, from the rooms' models: online anywhere, and where with how many clients. */
export type DirectoryView = { online: boolean; channels: string[] };

/** The union of the rooms: for every user of the swarms, the channels it is online in, with its client counts. */
export function expectedDirectory(swarms: readonly Swarm[], userIds: readonly string[]): Map<string, DirectoryView> {
  const expected = new Map<string, DirectoryView>(userIds.map((id) => [id, { online: false, channels: [] }]));
  for (const swarm of swarms) {
    for (const member of swarm.model.members()) {
      if (member.status !== "online") continue;
      const view = expected.get(member.id)!;
      view.online = true;
      view.channels.push(`${swarm.options.channel}×${member.clients}`);
    }
  }
  for (const view of expected.values()) view.channels.sort();
  return expected;
}

/** What the directory says of these users (GET /users, in chunks). */
export async function directoryViews(host: string, userIds: readonly string[]): Promise<Map<string, DirectoryView>> {
  const views = new Map<string, DirectoryView>();
  for (let i = 0; i < userIds.length; i += 200) {
    const query = new URLSearchParams(userIds.slice(i, i + 200).map((id) => ["userId", id]));
    const response = await fetch(`http://${host}/users?${query}`);
    const body = (await response.json()) as { content: { users: Record<string, { online: boolean; channels?: Array<{ channel: string; clientAmount: number }> }> } };
    for (const [id, status] of Object.entries(body.content.users)) {
      views.set(id, { online: status.online, channels: (status.channels ?? []).map((c) => `${c.channel}×${c.clientAmount}`).sort() });
    }
  }
  return views;
}

/** The users on whom the directory and the rooms disagree, each with both views. */
export function directoryMismatches(expected: Map<string, DirectoryView>, actual: Map<string, DirectoryView>): string[] {
  const problems: string[] = [];
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${id}: directory ${JSON.stringify(got)}, rooms ${JSON.stringify(want)}`);
  }
  return problems;
}
