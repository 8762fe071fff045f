/**
 * A directory part at work: each PartyKit callback handed to the parts that do it (the pure
 * DirectoryState, its store, the tick loop, and the link to the channel rooms that watch).
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import type { Config } from "../shared/config.ts";
import { fail, methodNotAllowed, ok } from "../shared/envelope.ts";
import { CHANNEL_PARTY } from "../shared/parties.ts";
import { PartyLink } from "../shared/party-link.ts";
import { DirectoryRequest, type PushRequest, type PushResult, type RoomPush, RoomPushReply, type WatchedChanges } from "../shared/protocol.ts";
import { mergeReplies, newPushId, type PushLog, storagePushLog } from "../shared/pushes.ts";
import { TickLoop } from "../shared/tick-loop.ts";
import { WebhookDelivery } from "../shared/webhooks.ts";
import { DirectoryState, type VersionedStatus } from "./directory.ts";
import { DirectoryStore } from "./store.ts";

/** One directory part with valid settings. */
export class DirectoryService {
  readonly #store: DirectoryStore;
  readonly #ticks: TickLoop;
  readonly #link: PartyLink;
  readonly #config: Config;
  #state: DirectoryState;
  /** Changes for watching rooms not delivered yet (no parties yet, or a failed request), newest per user. */
  readonly #outbox = new Map<string, Map<string, VersionedStatus>>();
  readonly #pushLog: PushLog;
  readonly #webhooks: WebhookDelivery;
  readonly #room: Party.Room;
  /** This part's name (`p3`): alarms cannot read `room.id`, so it is kept in storage too. */
  #name = "";
  #commits: Promise<void> = Promise.resolve();

  constructor(room: Party.Room, config: Config) {
    this.#config = config;
    this.#room = room;
    this.#store = new DirectoryStore(room.storage);
    this.#webhooks = new WebhookDelivery(config.webhook, room.storage, () => this.#ticks.schedule());
    this.#link = new PartyLink(room);
    this.#state = new DirectoryState(config);
    this.#pushLog = storagePushLog(room.storage);
    this.#ticks = new TickLoop({
      tickMs: () => config.tickMs,
      storage: room.storage,
      run: (now) => this.#tick(now),
      nextDeadline: () => {
        const deadlines = [this.#state.nextDeadline(), this.#pushLog.nextExpiry(), this.#webhooks.nextDeadline()].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
  }

  /** Rebuilds the part and settles what came due while it was down (lapsed leases above all). */
  async start(): Promise<void> {
    this.#link.capture();
    this.#state = DirectoryState.restore(this.#config, await this.#store.load());
    await this.#pushLog.load();
    await this.#webhooks.load();
    this.#name = (await this.#room.storage.get<string>("name")) ?? "";
    if (!this.#name) {
      try {
        this.#name = this.#room.id;
        await this.#room.storage.put("name", this.#name);
      } catch {
        // Woken by an alarm before it ever had a request: the name comes with the first one.
      }
    }
    await this.#ticks.load();
    await this.#ticks.flush();
  }

  /** Internal requests only (the edge refuses the outside): reports from channel rooms, status queries. */
  async request(request: Party.Request): Promise<Response> {
    this.#link.capture();
    if (!this.#name) {
      this.#name = this.#room.id;
      await this.#room.storage.put("name", this.#name);
    }
    if (request.method === "GET") {
      const url = new URL(request.url);
      if (url.searchParams.has("webhooks")) return ok({ ...this.#webhooks.stats(), deadLetterBatches: this.#webhooks.deadLetters() });
      return ok({ part: this.#name, ...this.#state.size(), webhooks: this.#webhooks.stats() });
    }
    if (request.method === "POST" && new URL(request.url).searchParams.get("webhooks") === "resend") return ok({ resent: await this.#webhooks.resend() });
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const parsed = DirectoryRequest.safeParse(await request.json().catch(() => null));
    if (!parsed.success) return fail(400, "bad_request", z.prettifyError(parsed.error));
    const now = Date.now();
    // Deadlines first, so a lapsed lease is never read as current.
    this.#state.expire(now);
    const body = parsed.data;
    if (body.kind === "status") {
      this.#ticks.schedule();
      return ok({ users: body.userIds.map((userId) => this.#state.versioned(userId)) });
    }
    if (body.kind === "push") {
      this.#ticks.schedule();
      return ok(await this.#push(body.userId, body.request, body.timeoutMs, now));
    }
    this.#state.apply(body, now);
    // Stored before the room hears it was taken: a report the directory acknowledged survives a crash.
    await this.#commit(now);
    this.#ticks.schedule();
    return ok({});
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /**
   * Runs a push to a user (once per id): to each channel it is online in (or the one asked
   * for, when it is there), each room delivering to its clients and waiting for their acks.
   */
  #push(userId: string, request: PushRequest, timeoutMs: number, now: number): Promise<PushResult> {
    const id = request.id ?? newPushId();
    return this.#pushLog.run(id, now, async () => {
      const deadline = now + timeoutMs;
      const channels = (this.#state.status(userId).channels ?? [])
        .filter((c) => request.channel === undefined || c.channel === request.channel)
        .filter((c) => request.clientType === undefined || (c.clientTypes[request.clientType] ?? 0) > 0)
        .map((c) => c.channel);
      const push: RoomPush = { kind: "deliver", id, userId, data: request.data, deadline, from: null };
      if (request.clientType !== undefined) push.clientType = request.clientType;
      const replies = await Promise.all(
        channels.map(async (channel) => ({ channel, reply: await this.#deliverVia(channel, push, deadline) })),
      );
      return mergeReplies(id, replies);
    });
  }

  /** Asks one channel room to deliver; a room that fails or does not answer by the deadline (plus a margin) is named in the answer. */
  async #deliverVia(channel: string, push: RoomPush, deadline: number): Promise<RoomPushReply | { error: string }> {
    const sent = this.#link.post(CHANNEL_PARTY, channel, push);
    if (!sent) return { error: "the channel's room could not be reached" };
    const late = new Promise<{ error: string }>((done) => setTimeout(() => done({ error: "the channel's room did not answer in time" }), Math.max(0, deadline - Date.now()) + 2000));
    const answer = sent
      .then(async (response) => {
        if (!response.ok) return { error: `the channel's room answered ${response.status}` };
        return RoomPushReply.parse(((await response.json()) as { content: unknown }).content);
      })
      .catch((error: unknown) => ({ error: (error as Error).message }));
    return Promise.race([answer, late]);
  }

  /** One tick: deadlines, the changes to storage, then to the rooms that watch them. */
  async #tick(now: number): Promise<void> {
    this.#state.expire(now);
    await this.#commit(now);
    await this.#pushLog.sweep(now);
    this.#deliver();
    this.#webhooks.deliver();
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
    if (events.length > 0) this.#webhooks.enqueue({ type: "user.events", timestamp: new Date(now).toISOString(), data: { part: this.#name, events } }, now);
    // The user rows and the batch that tells of them are written together.
    await this.#store.save(changes);
    await this.#webhooks.save();
    for (const [room, statuses] of changes.watched) {
      let pending = this.#outbox.get(room);
      if (!pending) this.#outbox.set(room, (pending = new Map()));
      for (const entry of statuses) pending.set(entry.status.id, entry);
    }
  }

  /** Sends each watching room its pending changes; what fails stays for the next tick. */
  #deliver(): void {
    if (!this.#link.ready) return;
    for (const [room, pending] of [...this.#outbox]) {
      this.#outbox.delete(room);
      const body: WatchedChanges = { kind: "watched", users: [...pending.values()] };
      const sent = this.#link.post(CHANNEL_PARTY, room, body);
      sent
        ?.then((response) => {
          if (!response.ok) throw new Error(`room ${room} answered ${response.status}`);
        })
        .catch(() => {
          // Keep it (unless something newer came meanwhile) and try again next tick.
          let again = this.#outbox.get(room);
          if (!again) this.#outbox.set(room, (again = new Map()));
          for (const entry of body.users) if ((again.get(entry.status.id)?.version ?? -1) < entry.version) again.set(entry.status.id, entry);
          this.#ticks.schedule();
        });
    }
  }
}
