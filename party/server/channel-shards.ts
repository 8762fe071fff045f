/**
 * Where a channel's clients go once it spreads over several objects (docs/architecture.md, "One
 * channel over many objects"): shard 0 is the room named by the channel (its coordinator),
 * shard k ≥ 1 is `CHANNEL~k` (`~` is not allowed in a channel name, so no channel is named so,
 * and the edge refuses such names from outside). A connection id (or an HTTP client's id) goes
 * to shard `jumpHash(fnv1a(id), n)` of the channel's `n` shards: when `n` grows, an id stays or
 * moves to a new shard, so a reconnect with the same id finds its client in grace where it left
 * it, unless it had to move. The edge keeps `n` per channel for a while (`ShardCounts`): an
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

/** The shard of `shards` that an id (a connection id, an HTTP client's id) belongs to. */
export function shardOf(id: string, shards: number): number {
  return shards <= 1 ? 0 : jumpHash(fnv1a(id), shards);
}

/** How long an edge trusts what it learnt of a channel's shard count. */
export const SHARD_COUNT_TTL_MS = 60_000;

/** The most channels an edge remembers the shard count of (the oldest learnt goes first). */
export const SHARD_COUNT_ENTRIES = 10_000;

/**
 * An edge isolate's memory of how many shards each channel has: learnt from a refusal (a shard
 * that is not where an id belongs answers with the count), trusted for SHARD_COUNT_TTL_MS. A
 * channel it knows nothing of has one shard. Only channels with more than one are kept.
 */
export class ShardCounts {
  readonly #entries = new Map<string, { shards: number; until: number }>();
  readonly #limit: number;

  constructor(limit = SHARD_COUNT_ENTRIES) {
    this.#limit = limit;
  }

  /** The channel's shard count as far as this edge knows (1 when unknown or stale). */
  get(channel: string, now: number): number {
    const entry = this.#entries.get(channel);
    if (!entry) return 1;
    if (entry.until > now) return entry.shards;
    this.#entries.delete(channel);
    return 1;
  }

  /** What a room said the channel's shard count is now. */
  learn(channel: string, shards: number, now: number): void {
    this.#entries.delete(channel);
    if (shards <= 1) return;
    this.#entries.set(channel, { shards, until: now + SHARD_COUNT_TTL_MS });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** How many channels are remembered. */
  get size(): number {
    return this.#entries.size;
  }
}
