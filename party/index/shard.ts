/**
 * An index shard (rooms `s0`…`s{PRESENCE_INDEX_SHARDS-1}` of the `index` party): the channels
 * whose name hashes to it report their counts here (a call), and it holds them as the single
 * index once held them all: entries under a lease (a room that dies without a word drops out
 * when its lease lapses, on this room's alarm), stored so a restart loses none, and the
 * counters of channels that dropped out, so `GET /metrics` (the edge sums every shard) never
 * decreases (metrics.ts). It forwards its changes to the root (`all`, forwarder.ts), which the
 * dashboards watch; `GET /channels` asks every shard and merges.
 *
 * A channel that hashes elsewhere after PRESENCE_INDEX_SHARDS changed reports to its new shard;
 * this one gets no more renewals and lets its lease lapse, as for a room that died.
 */
import { answerCall, type CallHandlers, isCall } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { fail, HttpError } from "../server/envelope.ts";
import type { Host, HostSocket, RoomService } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { TickLoop } from "../server/tick-loop.ts";
import { CloseCode, type RoomCounters } from "../protocol/index.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";
import { forwardIntervalMs, ShardForwarder } from "./forwarder.ts";
import { type LapsedChannel, MetricsLedger } from "./metrics.ts";
import { ChannelTable, type HeldEntry } from "./table.ts";

/** How long a change waits, at least, for the next tick (the forwarder paces the root's reports). */
const TICK_MS = 200;
const PREFIX = "c:";
/** Channels whose lease lapsed, their counters kept apart for a while (metrics.ts). */
const LAPSED_PREFIX = "l:";
/** The counters of every channel that dropped out, added up. */
const RETIRED_KEY = "retired";

/** Rows to write and keys to delete, in one go. */
type Rows = { put: Array<readonly [string, unknown]>; drop: string[] };

/** Answers a call a shard does not take (the root's). */
function rootOnly(): never {
  throw new HttpError(404, "not_found", "an index shard takes report, metrics and list; the ban list and shard reports go to index/all");
}

/** An index shard with valid settings. */
export class IndexShard implements RoomService<unknown> {
  readonly #host: Host<unknown>;
  readonly #table = new ChannelTable();
  readonly #ledger = new MetricsLedger();
  readonly #forwarder: ShardForwarder;
  readonly #ticks: TickLoop;
  readonly #calls: CallHandlers<typeof INDEX_PARTY>;

  constructor(host: Host<unknown>, config: Config) {
    this.#host = host;
    this.#forwarder = new ShardForwarder({
      shard: host.name,
      leaseMs: config.leaseMs,
      intervalMs: forwardIntervalMs(config.indexShards),
      table: () => this.#table.all(),
      send: (report) =>
        host.parties.call(INDEX_PARTY, INDEX_ROOM, "shard-report", report).catch((error: unknown) => {
          // Sent again after the interval; said here so a root that keeps refusing is seen.
          console.warn(`presence: index shard ${host.name}'s report to ${INDEX_PARTY}/${INDEX_ROOM} failed: ${(error as Error).message}`);
          throw error;
        }),
    });
    this.#ticks = new TickLoop({
      tickMs: () => TICK_MS,
      storage: host.storage,
      now: () => host.now(),
      run: async (now) => {
        await this.#tick(now);
        return true;
      },
      nextDeadline: () => {
        const deadlines = [this.#table.nextExpiry(), this.#ledger.nextExpiry(), host.parties.reachable ? this.#forwarder.nextDeadline() : null].filter((at): at is number => at !== null);
        return deadlines.length > 0 ? Math.min(...deadlines) : null;
      },
    });
    this.#calls = {
      report: async (report) => {
        const now = host.now();
        const key = PREFIX + report.entry.channel;
        // The channel's counters as the shard holds them from now on (null: retired with an inactive report).
        const counters = this.#ledger.report(report, this.#table.get(report.entry.channel), now);
        const held = this.#table.apply(counters === null ? report : { ...report, counters }, now, config.leaseMs);
        // The entry in the same put as the ledger's rows (all or nothing); a removed entry after the retired total: a crash between the two then counts the channel twice, never loses it.
        const rows = this.#ledgerRows();
        if (held === null) rows.drop.push(key);
        else if (held !== undefined) rows.put.push([key, held]);
        await this.#store(rows);
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
      "shard-report": rootOnly,
      ban: rootOnly,
      unban: rootOnly,
      bans: rootOnly,
    };
  }

  /** Loads the entries and the counters; the first report to the root is the whole table. */
  async start(): Promise<void> {
    const stored = await this.#host.storage.list<HeldEntry>({ prefix: PREFIX });
    this.#table.restore(stored.values());
    const lapsed = await this.#host.storage.list<LapsedChannel>({ prefix: LAPSED_PREFIX });
    this.#ledger.restore(await this.#host.storage.get<RoomCounters>(RETIRED_KEY), lapsed.values());
    await this.#ticks.load();
    await this.#ticks.flush();
  }

  /** No sockets: dashboards watch the root. */
  connect(socket: HostSocket<unknown>): void {
    socket.close(CloseCode.policyViolation, "an index shard takes no sockets; dashboards open index/all");
  }

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

  /** A report to the root that waited for the parties may go. */
  reachable(): void {
    this.#ticks.schedule();
  }

  /** Lapsed leases dropped, then the changes to the root when its report is due. */
  async #tick(now: number): Promise<void> {
    await this.#expire(now);
    const changes = this.#table.take();
    if (changes) this.#forwarder.note(changes);
    if (!this.#host.parties.reachable) return;
    // What changes while the report is on its way reruns the loop when this run ends (TickLoop); the next report is then due after the interval, on the alarm.
    await this.#forwarder.flush(now);
  }

  /** Drops lapsed leases from the table and storage; the lapsed channels' counters are kept apart (metrics.ts). */
  async #expire(now: number): Promise<void> {
    const lapsed = this.#table.expireHeld(now);
    this.#ledger.lapse(lapsed.map(({ entry, counters, gen, expiresAt }) => ({ channel: entry.channel, counters, gen, expiresAt })));
    this.#ledger.expire(now);
    const rows = this.#ledgerRows();
    rows.drop.push(...lapsed.map((held) => PREFIX + held.entry.channel));
    await this.#store(rows);
  }

  /** What the ledger changed since last asked, as rows: the retired total and the lapsed channels' rows. */
  #ledgerRows(): Rows {
    const rows: Rows = { put: [], drop: [] };
    const changes = this.#ledger.take();
    if (!changes) return rows;
    if (changes.retired) rows.put.push([RETIRED_KEY, changes.retired]);
    for (const [name, entry] of changes.lapsed) {
      if (entry) rows.put.push([LAPSED_PREFIX + name, entry]);
      else rows.drop.push(LAPSED_PREFIX + name);
    }
    return rows;
  }

  /** Writes rows, then deletes keys (so a total written with a deletion is stored first). */
  async #store(rows: Rows): Promise<void> {
    await putAll(this.#host.storage, rows.put);
    await deleteAll(this.#host.storage, rows.drop);
  }
}
