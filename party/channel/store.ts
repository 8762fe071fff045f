/**
 * The channel room's storage layout: one row per member (`m:USERID`), one per watching socket
 * (`w:CONNECTIONID`), one per kept presence event (`hist:NUMBER`, see history.ts), and one meta
 * row (its sequence number, mode, starts, counters and the history's range). Written once per
 * tick, in batches within storage's 128-keys-per-call cap.
 */
import type { HostStorage } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { type ChannelMode, isUserId, quotedId } from "../protocol/index.ts";
import type { HistoryRange, HistoryWrite } from "./history.ts";
import type { StoredMember } from "./presence.ts";
import type { Counters } from "./stats.ts";

const MEMBER_PREFIX = "m:";
const WATCH_PREFIX = "w:";
const META_KEY = "meta";

/** The meta row. */
export type Meta = { seq: number; mode?: ChannelMode; starts?: number; stats?: Counters; history?: HistoryRange };

/** Reads and writes a channel's rows. */
export class ChannelStore {
  readonly #storage: HostStorage;

  constructor(storage: HostStorage) {
    this.#storage = storage;
  }

  /** Everything a room needs to rebuild itself; a member whose id the userId rule now refuses (stored before it) is deleted. */
  async load(): Promise<{ meta: Meta | undefined; members: StoredMember[] }> {
    const meta = await this.#storage.get<Meta>(META_KEY);
    const rows = await this.#storage.list<StoredMember>({ prefix: MEMBER_PREFIX });
    const members = [...rows.values()];
    const refused = members.filter((member) => !isUserId(member.id));
    if (refused.length > 0) {
      console.warn(`presence: dropped ${refused.length} stored member(s) whose userId the userId rule refuses: ${refused.map((m) => quotedId(m.id)).join(", ")}`);
      await deleteAll(this.#storage, refused.map((member) => MEMBER_PREFIX + member.id));
    }
    return { meta, members: members.filter((member) => isUserId(member.id)) };
  }

  /** Writes changed members and the tick's history rows together, and deletes removed members and the history's dropped events. */
  async saveMembers(upserts: StoredMember[], deletes: string[], history: HistoryWrite = { rows: [], drops: [] }): Promise<void> {
    await putAll(this.#storage, [...upserts.map((member) => [MEMBER_PREFIX + member.id, member] as const), ...history.rows]);
    await deleteAll(this.#storage, [...deletes.map((id) => MEMBER_PREFIX + id), ...history.drops]);
  }

  /** The watch lists of sockets, by connection id (kept so sockets that survive a restart keep watching). */
  async loadWatches(): Promise<Map<string, string[]>> {
    const rows = await this.#storage.list<string[]>({ prefix: WATCH_PREFIX });
    // Ids stored before the userId rule are left out (no status could be asked or sent for them).
    return new Map([...rows].map(([key, userIds]) => [key.slice(WATCH_PREFIX.length), userIds.filter(isUserId)]));
  }

  /** Writes (or, for an empty list, deletes) a socket's watch list. */
  async saveWatch(connectionId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) await this.#storage.delete(WATCH_PREFIX + connectionId);
    else await this.#storage.put(WATCH_PREFIX + connectionId, userIds);
  }

  /** Resolves when every write so far is durable (see `HostStorage.sync`). */
  sync(): Promise<void> {
    return this.#storage.sync();
  }

  /** Writes the meta row. */
  async saveMeta(meta: Meta): Promise<void> {
    await this.#storage.put<Meta>(META_KEY, meta);
  }
}
