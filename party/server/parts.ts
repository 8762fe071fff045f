/**
 * Which directory room holds a user: users are spread over PRESENCE_DIRECTORY_PARTS rooms
 * (`p0`…) by jump consistent hashing, or with 0 each has its own. Channel rooms and the edge
 * use it to batch per part. Growing the count from N to M moves only ~(M−N)/M of the users,
 * each to one of the new parts; the directory parts hand them over (directory/service.ts).
 * Which index shard a channel reports to: channels are hashed over PRESENCE_INDEX_SHARDS
 * rooms of the index party (`s0`…).
 */

/** 32-bit FNV-1a of a string's UTF-16 units: stable everywhere, cheap; its low bits are weak (see indexShardOf). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's 32-bit finalizer: every bit of the input moves every bit of the output. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Jump consistent hash (Lamping & Veach, 2014): the bucket in [0, buckets) of a 32-bit key.
 * With one more bucket a key either stays or moves to the new one, so growing from N to M
 * buckets moves ~(M−N)/M of the keys, each only to a bucket ≥ N. The key's pseudo-random
 * sequence here is a 32-bit counter run through mix32 (the paper's 64-bit LCG needs BigInt).
 */
export function jumpHash(key: number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`jumpHash needs at least one bucket, not ${buckets}`);
  let bucket = 0;
  let next = 0;
  let state = key >>> 0;
  while (next < buckets) {
    bucket = next;
    state = (state + 0x9e3779b9) >>> 0;
    // A uniform draw in (0, 1]: the key's next jump lands at (bucket + 1) / draw.
    const draw = (mix32(state) + 1) / 0x1_0000_0000;
    next = Math.floor((bucket + 1) / draw);
  }
  return bucket;
}

/** How users were spread over the parts: the count, and `mod` (fnv1a % parts, before jump hashing) or `jump`. */
export type Layout = { parts: number; hash: "mod" | "jump" };

/** The layout a deployment with `parts` runs with now. */
export function currentLayout(parts: number): Layout {
  return { parts, hash: "jump" };
}

/** The directory room of `userId` under a layout (today's layout when given a count). */
export function partOf(userId: string, layout: number | Layout): string {
  const { parts, hash } = typeof layout === "number" ? currentLayout(layout) : layout;
  if (parts > 0) return `p${hash === "mod" ? fnv1a(userId) % parts : jumpHash(fnv1a(userId), parts)}`;
  // One room per user: the name must be a valid room name whatever the userId holds.
  let hex = "";
  for (const byte of new TextEncoder().encode(userId)) hex += byte.toString(16).padStart(2, "0");
  return `u-${hex}`;
}

/** Groups items by the directory room of their user. */
export function byPart<T>(items: Iterable<T>, userIdOf: (item: T) => string, parts: number): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const part = partOf(userIdOf(item), parts);
    let group = groups.get(part);
    if (!group) groups.set(part, (group = []));
    group.push(item);
  }
  return groups;
}

/**
 * The index shard a channel reports to (`s0`…`s{shards-1}`). Mixed before the modulo: FNV-1a's
 * low bits depend only on the low bits of each character, so `% 4` alone sends `room-a`,
 * `room-e`, `room-i`… to one shard.
 */
export function indexShardOf(channel: string, shards: number): string {
  return `s${mix32(fnv1a(channel)) % shards}`;
}

/** Every index shard's room name, in order. */
export function indexShards(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `s${i}`);
}
