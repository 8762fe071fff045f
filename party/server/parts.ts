/**
 * Which directory room holds a user: users are hashed over PRESENCE_DIRECTORY_PARTS rooms
 * (`p0`…), or with 0 each has its own. Channel rooms and the edge use it to batch per part.
 * Which index shard a channel reports to: channels are hashed over PRESENCE_INDEX_SHARDS
 * rooms of the index party (`s0`…).
 */

/** 32-bit FNV-1a of a string's UTF-16 units: stable everywhere, cheap, well spread. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The directory room of `userId`. */
export function partOf(userId: string, parts: number): string {
  if (parts > 0) return `p${fnv1a(userId) % parts}`;
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

/** The index shard a channel reports to (`s0`…`s{shards-1}`). */
export function indexShardOf(channel: string, shards: number): string {
  return `s${fnv1a(channel) % shards}`;
}

/** Every index shard's room name, in order. */
export function indexShards(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `s${i}`);
}
