/**
 * A directory part (the `directory` party) with valid settings: the pure DirectoryState, its
 * store, its tick loop and webhooks, the pushes it coordinates, and the news it owes the
 * channel rooms that watch its users. Only the service's own parts reach it, through calls.
 *
 * After PRESENCE_DIRECTORY_PARTS grew, users move between parts (layout.ts): a part that meets
 * a user it does not know asks the user's old part, which hands the row over and forgets it
 * once stored here (`hand-over`, `handed`); an old part also drains its moved users to their
 * new parts on its own (`adopt`). Their rows stay at the old part until the new one stored
 * them, and are never counted there: nothing is lost if either dies mid-move, and no move is
 * a transition. A part started with a smaller count refuses every call.
 */
import { kickEverywhere } from "../server/kicks.ts";
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { fail } from "../server/envelope.ts";
import { partOf } from "../server/parts.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { mergeDeliveries, type PushLog, storagePushLog } from "../server/pushes.ts";
import { TickLoop } from "../server/tick-loop.ts";
import { WebhookDispatch } from "../server/webhooks.ts";
import { CloseCode, type HandedUser, MAX_USERS_PER_REQUEST, type Push, type PushDelivery, type PushResult } from "../protocol/index.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";
import { DirectoryState, type VersionedStatus } from "./directory.ts";
import { DirectoryStore } from "./store.ts";
import { FIRST_PART, layoutAtStart, type StoredLayout } from "./layout.ts";

/** How many moved users an old part sends its new part in one `adopt`. */
const ADOPT_BATCH = 200;

/** How long an old part waits to drain again after a failed `adopt`: doubling with each failure in a row, up to 30 s. */
const DRAIN_RETRY_MS = 1000;
const DRAIN_RETRY_MAX_MS = 30_000;

/** How long past a push's deadline a room may take to answer before it is named as failed. */
const DELIVERY_MARGIN_MS = 2000;

/** One directory part with valid settings. */
export class DirectoryService implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #config: Config;
  readonly #store: DirectoryStore;
  readonly #ticks: TickLoop;
  /** Replaced once, at start, by the part as stored. */
  #state: DirectoryState;
  /** Changes for watching rooms not sent yet (unreachable parties, or a failed call), newest per user. */
  readonly #outbox = new Map<string, Map<string, VersionedStatus>>();
  readonly #pushLog: PushLog;
  readonly #webhooks: WebhookDispatch;
  readonly #calls: CallHandlers<typeof DIRECTORY_PARTY>;
  #commits: Promise<void> = Promise.resolve();
  /** The layout the part runs with and the one before; null until learned from p0 (a part that never ran). */
  #layout: StoredLayout | null = null;
  /** Set when the part was started with a smaller count than it ran with: every call is refused with it. */
  #refused: string | null = null;
  /** Old parts that said they have no moved user left: never asked again. */
  readonly #drainedFrom = new Set<string>();
  #draining = false;
  /** After a failed drain, when to try again (null: no retry due). */
  #drainAt: number | null = null;
  #drainFailures = 0;

  constructor(host: Host<unknown>, config: Config) {
    this.#host = host;
    this.#config = config;
    this.#store = new DirectoryStore(host.storage);
    this.#webhooks = new WebhookDispatch(config.webhook, host.storage, (at) => void this.#ticks.cover(at).catch((error) => console.error("presence: alarm failed", error)), () => host.now());
    this.#state = new DirectoryState(config);
    this.#pushLog = storagePushLog(host.storage, () => host.now());
    this.#ticks = new TickLoop({
      tickMs: () => config.tickMs,
      storage: host.storage,
      now: () => host.now(),
      // Every run counts as sent: a change right after one waits a tick.
      run: async (now) => {
        await this.#tick(now);
        return true;
      },
      nextDeadline: () => {
        const deadlines = [this.#state.nextDeadline(), this.#pushLog.nextExpiry(), this.#webhooks.nextDeadline(), this.#drainAt].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
    this.#calls = {
      report: async (report) => {
        await this.#settle(report.presence.map((entry) => entry.userId));
        const now = this.#expire();
        this.#state.apply(report, now);
        // Stored before the room hears it was taken: a report the directory acknowledged survives a crash.
        await this.#commit(now);
        this.#ticks.schedule();
        return {};
      },
      status: async ({ userIds }) => {
        await this.#settle(userIds);
        this.#expire();
        this.#ticks.schedule();
        return { users: userIds.map((userId) => this.#state.versioned(userId)) };
      },
      push: async (push) => {
        await this.#settle([push.userId]);
        const now = this.#expire();
        this.#ticks.schedule();
        return this.#push(push, now);
      },
      disconnect: async (kick) => {
        await this.#settle([kick.userId]);
        this.#expire();
        this.#ticks.schedule();
        const channels = (this.#state.status(kick.userId).channels ?? []).map((c) => c.channel).filter((channel) => kick.channel === undefined || channel === kick.channel);
        return kickEverywhere(this.#host.parties, kick, channels);
      },
      webhooks: () => this.#webhooks.report(),
      "resend-webhooks": async () => ({ resent: await this.#webhooks.resend() }),
      layout: () => this.#knownLayout(),
      "hand-over": ({ userIds, to }) => {
        const current = this.#layout?.current;
        const users = current ? this.#state.handOut(userIds.filter((userId) => partOf(userId, current) === to)) : [];
        return { users, drained: this.#state.movingCount() === 0 };
      },
      handed: async ({ userIds }) => {
        this.#state.forget(userIds);
        await this.#commit(this.#host.now());
        return {};
      },
      adopt: async ({ users }) => {
        const layout = await this.#knownLayout();
        this.#state.adopt(users.filter((user) => partOf(user.id, layout.current) === this.#host.name));
        await this.#commit(this.#host.now());
        this.#ticks.schedule();
        return {};
      },
    };
  }

  /** Rebuilds the part and settles what came due while it was down (lapsed leases above all). */
  async start(): Promise<void> {
    const rows = await this.#store.load();
    const decided = layoutAtStart(await this.#store.layout(), rows.users.length + rows.leases.length + rows.watches.length > 0, this.#config.directoryParts, this.#host.name);
    if ("refused" in decided) {
      this.#refused = decided.refused;
      console.error(`presence: ${decided.refused}`);
      return;
    }
    if ("layout" in decided) {
      this.#layout = decided.layout;
      if (decided.changed) await this.#store.saveLayout(decided.layout);
    }
    const current = this.#layout?.current;
    // A part that never ran holds no rows, so nothing of it is moving.
    this.#state = DirectoryState.restore(this.#config, rows, (userId) => !current || partOf(userId, current) === this.#host.name);
    await this.#pushLog.load();
    await this.#webhooks.load();
    await this.#ticks.load();
    await this.#ticks.flush();
  }

  /** The edge refuses every connect to the directory; one that arrives anyway is closed. */
  connect(socket: HostSocket<unknown>): void {
    socket.close(CloseCode.internalError, "the user directory takes no sockets");
  }

  message(): void {}

  closed(): void {}

  /** Calls only: the edge refuses the outside. */
  async request(request: Request): Promise<Response> {
    if (!isCall(request)) return fail(404, "not_found", "the user directory is internal; see GET /users");
    if (this.#refused !== null) return fail(500, "misconfigured", this.#refused);
    return answerCall(DIRECTORY_PARTY, request, this.#calls);
  }

  alarm(): Promise<void> {
    if (this.#refused !== null) return Promise.resolve();
    return this.#ticks.alarm();
  }

  /** News for watching rooms, and moved users, that waited for the parties go with the next tick. */
  reachable(): void {
    if (this.#outbox.size > 0 || this.#state.movingCount() > 0) this.#ticks.schedule();
  }

  /** The part's layouts, learned from p0 first by a part that never ran (and then stored). */
  async #knownLayout(): Promise<StoredLayout> {
    if (this.#layout) return this.#layout;
    const { previous } = await this.#host.parties.call(DIRECTORY_PARTY, FIRST_PART, "layout", {});
    this.#layout ??= { current: { parts: this.#config.directoryParts, hash: "jump" }, previous };
    await this.#store.saveLayout(this.#layout);
    return this.#layout;
  }

  /**
   * Before a call touches users this part does not know: asks their old part (where the layout
   * before placed them) for them, stores what it hands over, then lets it forget them. An old
   * part with nothing left to hand over is not asked again; up to 1,000 users a call. Fails (so the call fails and is
   * tried again) when an old part cannot answer: a user is never taken as new while its row
   * may still be elsewhere.
   */
  async #settle(userIds: Iterable<string>): Promise<void> {
    const { previous } = await this.#knownLayout();
    if (!previous) return;
    const byOldPart = new Map<string, Set<string>>();
    for (const userId of userIds) {
      if (this.#state.knows(userId)) continue;
      const old = partOf(userId, previous);
      if (old === this.#host.name || this.#drainedFrom.has(old)) continue;
      let ids = byOldPart.get(old);
      if (!ids) byOldPart.set(old, (ids = new Set()));
      ids.add(userId);
    }
    const asks: Array<[string, string[]]> = [];
    for (const [old, ids] of byOldPart) {
      const list = [...ids];
      for (let i = 0; i < list.length; i += MAX_USERS_PER_REQUEST) asks.push([old, list.slice(i, i + MAX_USERS_PER_REQUEST)]);
    }
    await Promise.all(
      asks.map(async ([old, ids]) => {
        const reply = await this.#host.parties.call(DIRECTORY_PARTY, old, "hand-over", { userIds: ids, to: this.#host.name });
        if (reply.users.length > 0) {
          this.#state.adopt(reply.users);
          await this.#commit(this.#host.now());
          // Stored here first: if this is lost, the old part offers them again as it drains.
          this.#host.parties.call(DIRECTORY_PARTY, old, "handed", { userIds: reply.users.map((user) => user.id) }).catch(() => undefined);
        }
        if (reply.drained) this.#drainedFrom.add(old);
      }),
    );
  }

  /**
   * An old part's own move: each moved user to its new part, a batch at a time; a batch is
   * forgotten here only once the new part stored it. A failure waits (1 s, doubling up to 30 s) and tries again.
   */
  async #drain(): Promise<void> {
    const current = this.#layout?.current;
    if (this.#draining || !current || this.#state.movingCount() === 0) return;
    // Without the parties (an alarm on PartyKit) it waits for `reachable`, with no deadline of its own that would spin the alarm.
    if (!this.#host.parties.reachable) {
      this.#drainAt = null;
      return;
    }
    if (this.#drainAt !== null && this.#drainAt > this.#host.now()) return;
    this.#draining = true;
    this.#drainAt = null;
    try {
      const byNewPart = new Map<string, HandedUser[]>();
      for (const user of this.#state.handOut()) {
        const part = partOf(user.id, current);
        let rows = byNewPart.get(part);
        if (!rows) byNewPart.set(part, (rows = []));
        rows.push(user);
      }
      for (const [part, rows] of byNewPart) {
        for (let i = 0; i < rows.length; i += ADOPT_BATCH) {
          const batch = rows.slice(i, i + ADOPT_BATCH);
          await this.#host.parties.call(DIRECTORY_PARTY, part, "adopt", { users: batch });
          this.#state.forget(batch.map((user) => user.id));
          await this.#commit(this.#host.now());
        }
      }
      this.#drainFailures = 0;
    } catch (error) {
      this.#drainFailures++;
      console.warn(`presence: directory part ${this.#host.name} could not hand its moved users over yet: ${(error as Error).message}`);
      this.#drainAt = this.#host.now() + Math.min(DRAIN_RETRY_MAX_MS, DRAIN_RETRY_MS * 2 ** (this.#drainFailures - 1));
      this.#ticks.schedule();
    } finally {
      this.#draining = false;
    }
  }

  /** Applies the deadlines that passed, so a lapsed lease is never read as current; returns the time. */
  #expire(): number {
    const now = this.#host.now();
    this.#state.expire(now);
    return now;
  }

  /**
   * Runs a push to a user (once per id): to each channel it is online in (or the one asked
   * for, when it is there), each room delivering to its clients and waiting for their acks.
   */
  #push(push: Push, now: number): Promise<PushResult> {
    return this.#pushLog.run(push.id, now, async () => {
      const channels = (this.#state.status(push.userId).channels ?? [])
        .filter((c) => push.channel === undefined || c.channel === push.channel)
        .filter((c) => push.clientType === undefined || (c.clientTypes[push.clientType] ?? 0) > 0)
        .map((c) => c.channel);
      const deliveries = await Promise.all(channels.map(async (channel) => ({ channel, delivery: await this.#deliverVia(channel, push) })));
      return mergeDeliveries(push.id, deliveries);
    });
  }

  /** Asks one channel room to deliver; a room that fails or does not answer by the deadline (plus a margin) is named in the answer. */
  async #deliverVia(channel: string, push: Push): Promise<PushDelivery | { error: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<{ error: string }>((done) => {
      timer = setTimeout(() => done({ error: "the channel's room did not answer in time" }), Math.max(0, push.deadline - this.#host.now()) + DELIVERY_MARGIN_MS);
    });
    const answer = this.#host.parties.call(CHANNEL_PARTY, channel, "deliver", push).catch((error: unknown) => ({ error: (error as Error).message }));
    try {
      return await Promise.race([answer, late]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** One tick: deadlines, the changes to storage, then to the rooms that watch them. */
  async #tick(now: number): Promise<void> {
    this.#state.expire(now);
    await this.#commit(now);
    await this.#pushLog.sweep(now);
    this.#tellWatchers();
    void this.#drain();
    this.#webhooks.dispatch();
  }

  /** Writes what changed since the last commit, and queues the news for watching rooms. Commits never overlap, so rows land in order. */
  #commit(now: number): Promise<void> {
    const next = this.#commits.then(() => this.#commitNow(now));
    this.#commits = next.catch(() => undefined);
    return next;
  }

  async #commitNow(now: number): Promise<void> {
    const changes = this.#state.takeChanges(now);
    if (!changes) return;
    const events = changes.transitions
      .map((t) => ({ type: t.online ? ("user.online" as const) : ("user.offline" as const), userId: t.userId, at: t.at, status: this.#state.status(t.userId) }))
      .filter((event) => this.#webhooks.wants(event.type));
    if (events.length > 0) this.#webhooks.enqueue({ type: "user.events", timestamp: new Date(now).toISOString(), data: { part: this.#host.name, events } }, now);
    // The user rows and the batch that tells of them are written together.
    await this.#store.save(changes);
    await this.#webhooks.save();
    for (const [room, statuses] of changes.watched) {
      let pending = this.#outbox.get(room);
      if (!pending) this.#outbox.set(room, (pending = new Map()));
      for (const entry of statuses) pending.set(entry.status.id, entry);
    }
  }

  /** Sends each watching room its pending news; what fails stays for the next tick. */
  #tellWatchers(): void {
    if (!this.#host.parties.reachable) return;
    for (const [room, pending] of [...this.#outbox]) {
      this.#outbox.delete(room);
      const users = [...pending.values()];
      this.#host.parties.call(CHANNEL_PARTY, room, "watched", { users }).catch(() => {
        // Keep it (unless something newer came meanwhile) and try again next tick.
        let again = this.#outbox.get(room);
        if (!again) this.#outbox.set(room, (again = new Map()));
        for (const entry of users) if ((again.get(entry.status.id)?.version ?? -1) < entry.version) again.set(entry.status.id, entry);
        this.#ticks.schedule();
      });
    }
  }
}
