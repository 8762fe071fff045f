/**
 * Where a channel's clients go once it spreads over several objects (docs/architecture.md, "One
 * channel over many objects"): shard 0 is the room named by the channel (its coordinator),
 * shard k ≥ 1 is `CHANNEL~k` (`~` is not allowed in a channel name, so no channel is named so,
 * and the edge refuses such names from outside). A connection id (or an HTTP client's id) goes
 * to shard `jumpHash(fnv1a(id), n)` of the channel's `n` shards: when `n` grows, an id stays or
 * moves to a new shard, so a reconnect with the same id finds its client in grace where it left
 * it, unless it had to move; an object near its cap is closed to new clients (`Spread`,
 * `spreadFor`). The edge keeps each spread channel's routing for a while (`KnownSpreads`): an
 * unknown channel has one shard, so a small channel's connect goes to its room as it always did.
 */
import { MAX_CHANNEL_SHARDS } from "../protocol/index.ts";
import { fnv1a, jumpHash } from "./parts.ts";

/** What joins a channel's name and a shard's number in the shard's room name. */
export const SHARD_MARK = "~";

/** The room of a channel's shard: the channel itself for shard 0. */
export function shardRoom(channel: string, shard: number): string {
  return shard === 0 ? channel : `${channel}${SHARD_MARK}${shard}`;
}

/** The channel and shard a room name stands for, or null when the part after the mark is not a shard number (1 to MAX_CHANNEL_SHARDS − 1, no leading zero). */
export function parseShardRoom(room: string): { channel: string; shard: number } | null {
  const at = room.lastIndexOf(SHARD_MARK);
  if (at === -1) return { channel: room, shard: 0 };
  const digits = room.slice(at + 1);
  const shard = Number(digits);
  if (!/^[1-9]\d*$/.test(digits) || shard >= MAX_CHANNEL_SHARDS) return null;
  return { channel: room.slice(0, at), shard };
}

/**
 * How a channel's connects are routed: over how many objects, and which of them are closed to
 * new clients (they hold SPREAD_AT of the cap or more). A channel in one object is `{ shards: 1,
 * closed: [] }`, or just `1`.
 */
export type Spread = { shards: number; closed: readonly number[] };

/** Draws after the first before an id falls back to the first open object. */
const REDRAWS = 16;

/**
 * The object an id (a connection id, an HTTP client's id) goes to: by jump hashing over the
 * count, drawing again (the id salted with the draw's number) while the object drawn is closed,
 * then the first open one. The same id lands on the same object while the spread stands; a
 * client that lands elsewhere after a change is taken over there (`ShardClients`).
 */
export function shardOf(id: string, spread: number | Spread): number {
  const { shards, closed } = typeof spread === "number" ? { shards: spread, closed: [] } : spread;
  if (shards <= 1) return 0;
  const shut = new Set(closed);
  for (let draw = 0; draw <= REDRAWS; draw++) {
    const shard = jumpHash(fnv1a(draw === 0 ? id : `${id}#${draw}`), shards);
    if (!shut.has(shard)) return shard;
  }
  for (let shard = 0; shard < shards; shard++) if (!shut.has(shard)) return shard;
  return jumpHash(fnv1a(id), shards);
}

/** How long an edge trusts what it learnt of a channel's spread. */
export const SPREAD_TTL_MS = 60_000;

/** The most channels an edge remembers the spread of (the oldest learnt goes first). */
export const SPREAD_ENTRIES = 10_000;

/**
 * An edge isolate's memory of how each spread channel's connects are routed (`Spread`), as the
 * spread list that comes with the ban list told it, trusted for SPREAD_TTL_MS. A channel it
 * knows nothing of is in one object. Only spread channels are kept.
 */
export class KnownSpreads {
  readonly #entries = new Map<string, { spread: Spread; until: number }>();
  readonly #limit: number;

  constructor(limit = SPREAD_ENTRIES) {
    this.#limit = limit;
  }

  /** The channel's spread as far as this edge knows (one object when unknown or stale). */
  get(channel: string, now: number): Spread {
    const entry = this.#entries.get(channel);
    if (entry && entry.until > now) return entry.spread;
    this.#entries.delete(channel);
    return ONE_OBJECT;
  }

  /** What the spread list said of a channel now. */
  learn(channel: string, spread: Spread, now: number): void {
    this.#entries.delete(channel);
    if (spread.shards <= 1) return;
    this.#entries.set(channel, { spread, until: now + SPREAD_TTL_MS });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** How many channels are remembered. */
  get size(): number {
    return this.#entries.size;
  }
}

/** A channel in one object. */
const ONE_OBJECT: Spread = { shards: 1, closed: [] };

/** The share of the cap at which a channel spreads further: the rest covers the time a new count takes to reach every edge. */
export const SPREAD_AT = 0.8;

/**
 * A channel's spread, from the clients each of its objects holds now (and `cap`,
 * PRESENCE_SHARD_MAX_CLIENTS): the objects holding SPREAD_AT of the cap or more are closed to new
 * clients (they reopen below it), and once any is, the count grows to hold every client at half
 * the cap, with at least one object open. Never fewer objects than now: moving live sockets back
 * would cost each a reconnect.
 */
export function spreadFor(clients: readonly number[], shards: number, cap: number): Spread {
  const closed: number[] = [];
  let total = 0;
  clients.forEach((count, shard) => {
    total += count;
    if (count >= SPREAD_AT * cap) closed.push(shard);
  });
  if (closed.length === 0) return { shards, closed };
  const grown = Math.max(shards, Math.ceil(total / (cap / 2)), closed.length + 1);
  return { shards: Math.min(MAX_CHANNEL_SHARDS, grown), closed };
}
