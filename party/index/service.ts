/**
 * The channel index (the `index` party's root room, `all`) with valid settings: every channel
 * room reports its counts to it (a call), dashboards watch it over sockets (the edge checks
 * their admin token), `GET /channels` reads it (a call from the edge). Entries are leases: a
 * room that dies without a word drops out when its lease lapses, on this room's alarm. It
 * also holds the service's bans, the one stored list, which the ban replicas (`bans-N`,
 * ban-replica.ts) copy for the edge's isolates (see edge/bans.ts), and the
 * counters of channels that dropped out, so `GET /metrics` (a call from the edge) never
 * decreases (see metrics.ts).
 */
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { fail } from "../server/envelope.ts";
import { type Host, type HostSocket, type RoomService, sendText } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { TickLoop } from "../server/tick-loop.ts";
import type { ChannelsMessage } from "../protocol/index.ts";
import { INDEX_PARTY } from "../wire/parties.ts";

import { type Ban, isUserId, quotedId, type RoomCounters } from "../protocol/index.ts";
import { BanList } from "./ban-list.ts";
import { type LapsedChannel, MetricsLedger } from "./metrics.ts";
import { ChannelTable, type HeldEntry } from "./table.ts";

/** How long changes gather before dashboards hear of them. */
const BROADCAST_MS = 200;
const PREFIX = "c:";
const BAN_PREFIX = "b:";
/** Channels whose lease lapsed, their counters kept apart for a while (metrics.ts). */
const LAPSED_PREFIX = "l:";
/** The counters of every channel that dropped out, added up. */
const RETIRED_KEY = "retired";

/** The channel index with valid settings. */
export class IndexService implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #table = new ChannelTable();
  readonly #bans = new BanList();
  readonly #ledger = new MetricsLedger();
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
        const deadlines = [this.#table.nextExpiry(), this.#bans.nextExpiry(), this.#ledger.nextExpiry()].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
    this.#calls = {
      report: async (report) => {
        const now = host.now();
        const key = PREFIX + report.entry.channel;
        // The channel's counters as the index holds them from now on (null: retired with an inactive report).
        const counters = this.#ledger.report(report, this.#table.get(report.entry.channel), now);
        const held = this.#table.apply(counters === null ? report : { ...report, counters }, now, config.leaseMs);
        // The retired total first: a crash between the two rows then counts the channel twice, never loses it.
        await this.#storeLedger();
        if (held === null) await host.storage.delete(key);
        else if (held !== undefined) await host.storage.put(key, held);
        this.#ticks.schedule();
        return {};
      },
      metrics: async () => {
        await this.#expire(this.#host.now());
        const active = [...this.#table.held()].map(({ entry, httpClients, counters }) => ({ ...entry, httpClients, counters }));
        return this.#ledger.totals(active);
      },
      list: async ({ q, limit }) => {
        await this.#expire(this.#host.now());
        return this.#table.list(q, limit);
      },
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

  /** Loads the entries and drops those whose lease lapsed while the room was down (dashboards still open hear of it). */
  async start(): Promise<void> {
    const stored = await this.#host.storage.list<HeldEntry>({ prefix: PREFIX });
    this.#table.restore(stored.values());
    const lapsed = await this.#host.storage.list<LapsedChannel>({ prefix: LAPSED_PREFIX });
    this.#ledger.restore(await this.#host.storage.get<RoomCounters>(RETIRED_KEY), lapsed.values());
    const bans = [...(await this.#host.storage.list<Ban>({ prefix: BAN_PREFIX })).values()];
    // A ban of a userId stored before the userId rule is deleted: that id cannot connect any more, and one such row would fail every edge's read of the list.
    const refused = bans.filter((ban) => !isUserId(ban.userId));
    if (refused.length > 0) {
      console.warn(`presence: dropped ${refused.length} stored ban(s) of a userId the userId rule refuses: ${refused.map((ban) => quotedId(ban.userId)).join(", ")}`);
      await deleteAll(this.#host.storage, refused.map((ban) => BAN_PREFIX + ban.userId));
    }
    this.#bans.restore(bans.filter((ban) => isUserId(ban.userId)));
    await this.#ticks.load();
    await this.#ticks.flush();
  }

  /** A dashboard: the whole list at once, then what changes. */
  connect(socket: HostSocket<unknown>): void {
    socket.send(JSON.stringify({ type: "channels", full: true, channels: this.#table.all(), removed: [] } satisfies ChannelsMessage));
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

  /** The index calls nobody. */
  reachable(): void {}

  /** Lapsed leases dropped, then what changed to every dashboard. */
  async #tick(now: number): Promise<void> {
    await this.#expire(now);
    const changes = this.#table.take();
    if (!changes) return;
    const text = JSON.stringify({ type: "channels", full: false, ...changes } satisfies ChannelsMessage);
    for (const socket of this.#host.sockets()) sendText(socket, text);
  }

  /** Drops lapsed leases and bans that are over from the table, the list and storage; the lapsed channels' counters are kept apart (metrics.ts). */
  async #expire(now: number): Promise<void> {
    const lapsed = this.#table.expireHeld(now);
    this.#ledger.lapse(lapsed.map(({ entry, counters, gen, expiresAt }) => ({ channel: entry.channel, counters, gen, expiresAt })));
    this.#ledger.expire(now);
    await this.#storeLedger();
    const gone = [...lapsed.map((held) => PREFIX + held.entry.channel), ...this.#bans.expire(now).map((userId) => BAN_PREFIX + userId)];
    if (gone.length > 0) await deleteAll(this.#host.storage, gone);
  }

  /** Writes what the ledger changed: the retired total, and the lapsed channels' rows. */
  async #storeLedger(): Promise<void> {
    const changes = this.#ledger.take();
    if (!changes) return;
    const puts: Array<readonly [string, unknown]> = changes.retired ? [[RETIRED_KEY, changes.retired]] : [];
    const drops: string[] = [];
    for (const [name, entry] of changes.lapsed) {
      if (entry) puts.push([LAPSED_PREFIX + name, entry]);
      else drops.push(LAPSED_PREFIX + name);
    }
    await putAll(this.#host.storage, puts);
    if (drops.length > 0) await deleteAll(this.#host.storage, drops);
  }
}
