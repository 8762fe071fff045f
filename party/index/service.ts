/**
 * The channel index's root (the `index` party's room `all`) with valid settings: the index
 * shards (shard.ts; channel rooms report to them) forward their changes here (a call,
 * forwarder.ts), and dashboards watch this room's merged list over sockets (the edge checks
 * their admin token). Each shard's entries are held under the shard's lease (shard-book.ts): a
 * shard that stops reporting has its entries dropped when the lease lapses, and sends its whole
 * table when it comes back. The root stores what it holds (a row per shard and entry), so a
 * restart or an eviction (an idle root is evicted between the shards' renewals) keeps the
 * dashboards' list without asking every shard for its table again; a write is made for each
 * changed entry, at most once a second per shard. `GET /channels` and `GET /metrics` ask the
 * shards, not this room.
 *
 * It also holds the service's bans, which the edge's isolates copy (see edge/bans.ts), and what
 * the single index of earlier versions had retired of the channels' counters (its `retired` and
 * `l:` rows, read once and never changed), which its `metrics` call answers so `GET /metrics`
 * does not go down after an upgrade.
 */
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { fail, HttpError } from "../server/envelope.ts";
import { type Host, type HostSocket, type RoomService, sendText } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { TickLoop } from "../server/tick-loop.ts";
import type { ChannelEntry, ChannelsMessage } from "../protocol/index.ts";
import { INDEX_PARTY } from "../wire/parties.ts";

import { type Ban, isUserId, quotedId, type RoomCounters } from "../protocol/index.ts";
import { BanList } from "./ban-list.ts";
import { type LapsedChannel, MetricsLedger } from "./metrics.ts";
import { ShardBook } from "./shard-book.ts";

/** How long changes gather before dashboards hear of them. */
const BROADCAST_MS = 200;
/** A shard's entry: `e:SHARD:CHANNEL`. */
const ENTRY_PREFIX = "e:";
/** A shard's lease: `s:SHARD` → when it lapses. */
const SHARD_PREFIX = "s:";
const BAN_PREFIX = "b:";
/** The single index of earlier versions: its entries (dropped at start: their rooms report to their shard), its lapsed channels and retired total (kept, see above). */
const LEGACY_ENTRY_PREFIX = "c:";
const LEGACY_LAPSED_PREFIX = "l:";
const LEGACY_RETIRED_KEY = "retired";

/** Answers a call the root does not take (a shard's). */
function shardOnly(): never {
  throw new HttpError(404, "not_found", "index/all takes shard reports and the ban calls; channel rooms report to their shard (index/s0…)");
}

/** The channel index's root with valid settings. */
export class IndexService implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #book = new ShardBook();
  readonly #bans = new BanList();
  /** What the single index of earlier versions had retired (never changed). */
  readonly #legacy = new MetricsLedger();
  readonly #ticks: TickLoop;
  readonly #calls: CallHandlers<typeof INDEX_PARTY>;

  constructor(host: Host<unknown>, config: Config) {
    this.#host = host;
    this.#ticks = new TickLoop({
      tickMs: () => BROADCAST_MS,
      storage: host.storage,
      now: () => host.now(),
      // Every run counts as sent: a change right after one waits a tick.
      run: async (now) => {
        await this.#tick(now);
        return true;
      },
      nextDeadline: () => {
        const deadlines = [this.#book.nextExpiry(), this.#bans.nextExpiry()].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
    this.#calls = {
      "shard-report": async (report) => {
        const now = host.now();
        const { put, drop, askFull } = this.#book.apply(report, now, config.leaseMs);
        // Stored before the shard hears it was taken: a crash loses nothing the shard will not send again.
        const prefix = `${ENTRY_PREFIX}${report.shard}:`;
        await putAll(host.storage, [[SHARD_PREFIX + report.shard, now + config.leaseMs], ...put.map((entry) => [prefix + entry.channel, entry] as const)]);
        if (drop.length > 0) await deleteAll(host.storage, drop.map((name) => prefix + name));
        this.#ticks.schedule();
        return { full: askFull };
      },
      metrics: () => this.#legacy.totals([]),
      report: shardOnly,
      list: shardOnly,
      ban: async (ban) => {
        await this.#expire(this.#host.now());
        if (!this.#bans.ban(ban)) return { accepted: false };
        // Stored before the edge hears it was taken: a ban survives a crash.
        await host.storage.put(BAN_PREFIX + ban.userId, ban);
        this.#ticks.schedule();
        return { accepted: true };
      },
      unban: async ({ userId }) => {
        const lifted = this.#bans.lift(userId);
        if (lifted) await host.storage.delete(BAN_PREFIX + userId);
        return { userId, lifted };
      },
      bans: () => ({ bans: this.#bans.active(this.#host.now()) }),
    };
  }

  /** Loads the shards' entries and drops the shards whose lease lapsed while the room was down (dashboards still open hear of it). */
  async start(): Promise<void> {
    const storage = this.#host.storage;
    const leases = await storage.list<number>({ prefix: SHARD_PREFIX });
    const entries = await storage.list<ChannelEntry>({ prefix: ENTRY_PREFIX });
    const byShard = new Map<string, ChannelEntry[]>();
    const orphans: string[] = [];
    for (const [key, entry] of entries) {
      const shard = key.slice(ENTRY_PREFIX.length, key.indexOf(":", ENTRY_PREFIX.length));
      if (!leases.has(SHARD_PREFIX + shard)) orphans.push(key);
      else byShard.set(shard, [...(byShard.get(shard) ?? []), entry]);
    }
    for (const [key, expiresAt] of leases) {
      const shard = key.slice(SHARD_PREFIX.length);
      this.#book.restore(shard, expiresAt, byShard.get(shard) ?? []);
    }
    // Rows of a shard whose lease row went first (a crash while it was dropped), and the single index's entries of earlier versions.
    const legacy = [...(await storage.list<unknown>({ prefix: LEGACY_ENTRY_PREFIX })).keys()];
    if (orphans.length + legacy.length > 0) await deleteAll(storage, [...orphans, ...legacy]);
    const lapsed = await storage.list<LapsedChannel>({ prefix: LEGACY_LAPSED_PREFIX });
    this.#legacy.restore(await storage.get<RoomCounters>(LEGACY_RETIRED_KEY), lapsed.values());
    const bans = [...(await storage.list<Ban>({ prefix: BAN_PREFIX })).values()];
    // A ban of a userId stored before the userId rule is deleted: that id cannot connect any more, and one such row would fail every edge's read of the list.
    const refused = bans.filter((ban) => !isUserId(ban.userId));
    if (refused.length > 0) {
      console.warn(`presence: dropped ${refused.length} stored ban(s) of a userId the userId rule refuses: ${refused.map((ban) => quotedId(ban.userId)).join(", ")}`);
      await deleteAll(storage, refused.map((ban) => BAN_PREFIX + ban.userId));
    }
    this.#bans.restore(bans.filter((ban) => isUserId(ban.userId)));
    await this.#ticks.load();
    await this.#ticks.flush();
  }

  /** A dashboard: the whole list at once, then what changes. */
  connect(socket: HostSocket<unknown>): void {
    socket.send(JSON.stringify({ type: "channels", full: true, channels: this.#book.all(), removed: [] } satisfies ChannelsMessage));
  }

  /** Dashboards only listen. */
  message(): void {}

  closed(): void {}

  /** Calls only: the edge refuses the outside (GET /channels goes through it). */
  async request(request: Request): Promise<Response> {
    if (!isCall(request)) return fail(404, "not_found", "the channel index is internal; see GET /channels");
    return answerCall(INDEX_PARTY, request, this.#calls);
  }

  alarm(): Promise<void> {
    return this.#ticks.alarm();
  }

  /** The root calls nobody. */
  reachable(): void {}

  /** Lapsed shards and bans dropped, then what changed to every dashboard. */
  async #tick(now: number): Promise<void> {
    await this.#expire(now);
    const changes = this.#book.take();
    if (!changes) return;
    const text = JSON.stringify({ type: "channels", full: false, ...changes } satisfies ChannelsMessage);
    for (const socket of this.#host.sockets()) sendText(socket, text);
  }

  /** Drops the shards whose lease lapsed (with their entries) and the bans that are over, from memory and storage. */
  async #expire(now: number): Promise<void> {
    const gone: string[] = this.#bans.expire(now).map((userId) => BAN_PREFIX + userId);
    for (const [shard, names] of this.#book.expire(now)) {
      // The lease row last: a crash before it leaves the shard held, and its rows dropped again after the restart.
      gone.push(...names.map((name) => `${ENTRY_PREFIX}${shard}:${name}`), SHARD_PREFIX + shard);
    }
    if (gone.length > 0) await deleteAll(this.#host.storage, gone);
  }
}
