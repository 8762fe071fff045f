/**
 * A directory part (the `directory` party) with valid settings: the pure DirectoryState, its
 * store, its tick loop and webhooks, the pushes it coordinates, and the news it owes the
 * channel rooms that watch its users. Only the service's own parts reach it, through calls.
 */
import { kickEverywhere } from "../server/kicks.ts";
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { fail } from "../server/envelope.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { mergeDeliveries, type PushLog, storagePushLog } from "../server/pushes.ts";
import { TickLoop } from "../server/tick-loop.ts";
import { WebhookDispatch } from "../server/webhooks.ts";
import { CloseCode, type Push, type PushDelivery, type PushResult } from "../protocol/index.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";
import { DirectoryState, type VersionedStatus } from "./directory.ts";
import { DirectoryStore } from "./store.ts";

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
        const deadlines = [this.#state.nextDeadline(), this.#pushLog.nextExpiry(), this.#webhooks.nextDeadline()].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
    this.#calls = {
      report: async (report) => {
        const now = this.#expire();
        this.#state.apply(report, now);
        // Stored before the room hears it was taken: a report the directory acknowledged survives a crash.
        await this.#commit(now);
        this.#ticks.schedule();
        return {};
      },
      status: ({ userIds }) => {
        this.#expire();
        this.#ticks.schedule();
        return { users: userIds.map((userId) => this.#state.versioned(userId)) };
      },
      push: (push) => {
        const now = this.#expire();
        this.#ticks.schedule();
        return this.#push(push, now);
      },
      disconnect: (kick) => {
        this.#expire();
        this.#ticks.schedule();
        const channels = (this.#state.status(kick.userId).channels ?? []).map((c) => c.channel).filter((channel) => kick.channel === undefined || channel === kick.channel);
        return kickEverywhere(this.#host.parties, kick, channels);
      },
      webhooks: () => this.#webhooks.report(),
      "resend-webhooks": async () => ({ resent: await this.#webhooks.resend() }),
    };
  }

  /** Rebuilds the part and settles what came due while it was down (lapsed leases above all). */
  async start(): Promise<void> {
    this.#state = DirectoryState.restore(this.#config, await this.#store.load());
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
    return answerCall(DIRECTORY_PARTY, request, this.#calls);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /** News for watching rooms that waited for the parties goes with the next tick. */
  reachable(): void {
    if (this.#outbox.size > 0) this.#ticks.schedule();
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
