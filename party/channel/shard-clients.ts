/**
 * The clients a channel's coordinator holds for its other shards (docs/architecture.md, "One
 * channel over many objects"). The coordinator (shard 0: the room named by the channel) keeps
 * every shard's clients in its own `PresenceState`, as clients with no socket here, so members,
 * counts, client types, grace, retention, events once per user and herenow come out as one
 * room gives them, by the same code. A shard sends what changed for its clients each tick
 * (`ChannelShardReport`); the report renews the shard's lease, and the clients of a shard whose
 * lease lapses (it died) are dropped into grace: a user with clients elsewhere stays online, the
 * others go offline when grace ends, and no ghost stays. Pure: every method takes the time.
 */
import type { ChannelShardReport, ShardClientChange, ShardReportReply } from "../protocol/index.ts";
import type { LiveClient, PresenceState } from "./presence.ts";

/** The TTL a shard's client is held with here: none of its own (its shard's lease stands for it), so the TTL expiry never takes it and the idle check leaves it to its shard. */
export const SHARD_CLIENT_EXPIRY = Number.MAX_SAFE_INTEGER;

/** Where a coordinator keeps each of its shards' live clients (`s:CONNECTIONID`), so a restart or a wake from hibernation finds them again. */
export const SHARD_CLIENT_PREFIX = "s:";

/** A shard's live client as the coordinator stores it (its user's data is in the member's row). */
export type ShardClientRow = { connectionId: string; shard: number; userId: string; clientType?: string };

/** One shard as its coordinator knows it. */
export type ShardEntry = {
  shard: number;
  /** Its clients counted here: live, or dropped and still in grace. */
  clients: number;
  /** When its lease runs out without another report. */
  leaseUntil: number;
};

/** A coordinator's view of its shards' clients. */
export class ShardClients {
  readonly #presence: PresenceState;
  readonly #leaseMs: number;
  /** The shard that holds each connection id kept here for a shard. */
  readonly #owners = new Map<string, number>();
  /** The shard each client dropped into grace here was dropped by: only that shard may end it early (a kick of a client in grace). */
  readonly #dropped = new Map<string, number>();
  /** Each shard's connection ids, and its lease. */
  readonly #shards = new Map<number, { ids: Set<string>; leaseUntil: number; renewedAt: number }>();
  /** Rows to write with the next tick (null: delete), by connection id. */
  #rows = new Map<string, ShardClientRow | null>();

  constructor(presence: PresenceState, leaseMs: number) {
    this.#presence = presence;
    this.#leaseMs = leaseMs;
  }

  /**
   * Takes back the shards' live clients a restart found in storage: each shard holds them under
   * a fresh lease (a shard that died meanwhile loses them to grace when it lapses). Returns them
   * as live clients for the presence state's restore: no placeholder, no event.
   */
  restore(rows: readonly ShardClientRow[], now: number): LiveClient[] {
    this.#owners.clear();
    this.#shards.clear();
    this.#dropped.clear();
    this.#rows.clear();
    for (const row of rows) {
      let entry = this.#shards.get(row.shard);
      if (!entry) this.#shards.set(row.shard, (entry = { ids: new Set(), leaseUntil: now + this.#leaseMs, renewedAt: now }));
      entry.ids.add(row.connectionId);
      this.#owners.set(row.connectionId, row.shard);
    }
    return rows.map((row) => ({ connectionId: row.connectionId, userId: row.userId, clientType: row.clientType, lastActive: now, expiresAt: SHARD_CLIENT_EXPIRY }));
  }

  /** The rows to write with the tick (its puts and deletes), since the last call. */
  takeRows(): { put: Array<readonly [string, ShardClientRow]>; delete: string[] } {
    const rows = { put: [] as Array<readonly [string, ShardClientRow]>, delete: [] as string[] };
    for (const [id, row] of this.#rows) {
      if (row) rows.put.push([SHARD_CLIENT_PREFIX + id, row]);
      else rows.delete.push(SHARD_CLIENT_PREFIX + id);
    }
    this.#rows = new Map();
    return rows;
  }

  /**
   * Applies a shard's report: its changes in order, then (a full report) every client held for
   * the shard that the report did not list is dropped into grace. Renews the shard's lease.
   * Returns the answer: `full` asks for every client next, from a shard this coordinator did not
   * hold (it restarted since, or the shard's lease lapsed).
   */
  apply(report: ChannelShardReport, now: number): ShardReportReply {
    let entry = this.#shards.get(report.shard);
    const known = entry !== undefined;
    if (!entry) this.#shards.set(report.shard, (entry = { ids: new Set(), leaseUntil: 0, renewedAt: now }));
    entry.leaseUntil = now + this.#leaseMs;
    entry.renewedAt = now;
    const listed = report.full ? new Set<string>() : null;
    for (const change of report.changes) {
      if (listed && change.op === "connect") listed.add(change.connectionId);
      this.#change(report.shard, change, now);
    }
    if (listed) for (const id of [...entry.ids]) if (!listed.has(id)) this.#dropInto(id, () => this.#presence.drop(id, now));
    return { full: !known && !report.full };
  }

  /**
   * Drops into grace the clients of every shard whose lease ran out by `now` (last seen at the
   * shard's last report), and forgets those shards. Returns them.
   */
  lapse(now: number): number[] {
    const lapsed: number[] = [];
    for (const [shard, entry] of this.#shards) {
      if (entry.leaseUntil > now) continue;
      lapsed.push(shard);
      for (const id of [...entry.ids]) this.#dropInto(id, () => this.#presence.drop(id, now, entry.renewedAt));
      this.#shards.delete(shard);
    }
    // Clients whose grace ran out here are gone: nothing is left to end early.
    for (const id of [...this.#dropped.keys()]) if (this.#presence.userOf(id) === undefined) this.#dropped.delete(id);
    return lapsed;
  }

  /** The earliest lease to run out, or null with no shard. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const entry of this.#shards.values()) next = Math.min(next, entry.leaseUntil);
    return Number.isFinite(next) ? next : null;
  }

  /** Whether a connection id is a shard's client held here (live, or dropped and in grace): its shard, not this room, closes it. */
  holds(connectionId: string): boolean {
    return this.#owners.has(connectionId) || this.#dropped.has(connectionId);
  }

  /** The shard that holds a connection id, or undefined for one that is not a shard's (this room's own, or unknown). */
  ownerOf(connectionId: string): number | undefined {
    return this.#owners.get(connectionId);
  }

  /** The numbers of the shards heard from (what each tick's diff and each kick go to: no count made). */
  numbers(): number[] {
    return [...this.#shards.keys()];
  }

  /** The shards heard from, in order, each with its clients counted here (live, or dropped and still in grace). */
  shards(): ShardEntry[] {
    const lingering = new Map<number, number>();
    for (const [id, shard] of this.#dropped) if (this.#presence.userOf(id) !== undefined) lingering.set(shard, (lingering.get(shard) ?? 0) + 1);
    return [...this.#shards].sort(([a], [b]) => a - b).map(([shard, entry]) => ({ shard, clients: entry.ids.size + (lingering.get(shard) ?? 0), leaseUntil: entry.leaseUntil }));
  }

  /** One change from `shard`; a change for a client that another shard took since (its id moved) is stale and ignored. */
  #change(shard: number, change: ShardClientChange, now: number): void {
    const id = change.connectionId;
    if (change.op === "connect") {
      this.#dropped.delete(id);
      const previous = this.#owners.get(id);
      if (previous !== undefined && previous !== shard) this.#shards.get(previous)?.ids.delete(id);
      this.#owners.set(id, shard);
      this.#shards.get(shard)!.ids.add(id);
      this.#rows.set(id, change.clientType === undefined ? { connectionId: id, shard, userId: change.userId } : { connectionId: id, shard, userId: change.userId, clientType: change.clientType });
      this.#presence.connect({ connectionId: id, userId: change.userId, clientType: change.clientType, data: change.data, lastActive: now, expiresAt: SHARD_CLIENT_EXPIRY }, now);
      return;
    }
    if (change.op === "end" && this.#dropped.get(id) === shard) {
      // Kicked while in grace: gone now, as in one room.
      this.#dropped.delete(id);
      this.#presence.kick(id, now, change.lastSeen);
      return;
    }
    if (this.#owners.get(id) !== shard) return;
    switch (change.op) {
      case "update":
        this.#presence.update(id, change.data);
        return;
      case "drop":
        return this.#dropInto(id, () => this.#presence.drop(id, now, change.lastSeen));
      case "leave":
        return this.#release(id, () => this.#presence.leave(id));
      case "end":
        return this.#release(id, () => this.#presence.kick(id, now, change.lastSeen));
    }
  }

  /** Drops a client into grace (`drop`), remembering which shard it was on. */
  #dropInto(id: string, drop: () => void): void {
    const shard = this.#owners.get(id);
    this.#release(id, drop);
    if (shard !== undefined) this.#dropped.set(id, shard);
  }

  /** Stops holding a client for its shard, then lets `settle` decide what the presence state does with it. */
  #release(id: string, settle: () => void): void {
    const shard = this.#owners.get(id);
    if (shard !== undefined) {
      this.#shards.get(shard)?.ids.delete(id);
      this.#rows.set(id, null);
    }
    this.#owners.delete(id);
    settle();
  }
}
