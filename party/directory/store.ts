/**
 * A directory part's storage layout: a row per user (`u:ID`), per channel lease (`c:CHANNEL`)
 * per watching room (`w:ROOM`), and the part layout it runs with (`layout`). Written once per tick, in batches within storage's
 * 128-keys-per-call cap.
 */
import type { HostStorage } from "../server/host.ts";
import { deleteAll, putAll } from "../server/storage.ts";
import { isUserId, quotedId } from "../protocol/index.ts";
import type { DirectoryChanges, StoredLease, StoredUser, StoredWatch } from "./directory.ts";
import type { StoredLayout } from "./layout.ts";

/** The row of the layout the part runs with (and the one before). */
const LAYOUT_KEY = "layout";

/** Reads and writes a part's rows. */
export class DirectoryStore {
  readonly #storage: HostStorage;

  constructor(storage: HostStorage) {
    this.#storage = storage;
  }

  /** Everything a part needs to rebuild itself; a user whose id the userId rule now refuses (stored before it) is deleted, and left out of watch lists. */
  async load(): Promise<{ users: StoredUser[]; leases: StoredLease[]; watches: StoredWatch[] }> {
    const [users, leases, watches] = (await Promise.all(
      ["u:", "c:", "w:"].map((prefix) => this.#storage.list({ prefix }).then((rows) => [...rows.values()])),
    )) as [StoredUser[], StoredLease[], StoredWatch[]];
    const refused = users.filter((user) => !isUserId(user.id));
    if (refused.length > 0) {
      console.warn(`presence: dropped ${refused.length} stored user(s) whose id the userId rule refuses: ${refused.map((user) => quotedId(user.id)).join(", ")}`);
      await deleteAll(this.#storage, refused.map((user) => `u:${user.id}`));
    }
    return {
      users: users.filter((user) => isUserId(user.id)),
      leases,
      watches: watches.map((watch) => ({ ...watch, users: watch.users.filter(isUserId) })),
    };
  }

  /** The layout the part last ran with, if it stored one. */
  layout(): Promise<StoredLayout | undefined> {
    return this.#storage.get<StoredLayout>(LAYOUT_KEY);
  }

  /** Stores the layout the part runs with now. */
  async saveLayout(layout: StoredLayout): Promise<void> {
    await this.#storage.put(LAYOUT_KEY, layout);
    await this.#storage.sync();
  }

  /** Writes what a tick changed. */
  async save(changes: DirectoryChanges): Promise<void> {
    const puts: Array<[string, unknown]> = [
      ...changes.upserts.map((user): [string, unknown] => [`u:${user.id}`, user]),
      ...changes.leaseUpserts.map((lease): [string, unknown] => [`c:${lease.channel}`, lease]),
      ...changes.watchUpserts.map((watch): [string, unknown] => [`w:${watch.room}`, watch]),
    ];
    const deletes = [...changes.deletes.map((id) => `u:${id}`), ...changes.leaseDeletes.map((c) => `c:${c}`), ...changes.watchDeletes.map((r) => `w:${r}`)];
    await putAll(this.#storage, puts);
    await deleteAll(this.#storage, deletes);
  }
}
