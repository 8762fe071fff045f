/**
 * Batched writes: storage takes at most 128 keys per put or delete, and every room writes a
 * tick's rows at once. Used by the stores of every party, the webhook outbox and the push log.
 */
import type { HostStorage } from "./host.ts";

/** Storage's cap on keys per put or delete. */
const BATCH = 128;

/** Writes every entry, 128 keys per call. */
export async function putAll(storage: HostStorage, entries: Iterable<readonly [string, unknown]>): Promise<void> {
  const rows = [...entries];
  for (let i = 0; i < rows.length; i += BATCH) await storage.put(Object.fromEntries(rows.slice(i, i + BATCH)));
}

/** Deletes every key, 128 per call. */
export async function deleteAll(storage: HostStorage, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH) await storage.delete(keys.slice(i, i + BATCH));
}
