/**
 * Which of a channel room's sockets watch which users, and what each must be told: the
 * newest status the room has heard of each watched user (by version), a full list for a
 * socket that just asked (once every user in it is known), then the changes of each tick,
 * numbered per socket. Pure: the channel feeds it statuses and sends what it returns.
 */
import type { UserStatus, VersionedStatus } from "../protocol/index.ts";

type Watcher = {
  users: Set<string>;
  /** The last `users` message sent to this socket. */
  seq: number;
  /** A full list is owed (the socket asked, or the room restarted). */
  owesFull: boolean;
  /** Users whose status changed since the last message. */
  changed: Set<string>;
};

/** A message for one socket. */
export type WatchMessage = { connectionId: string; seq: number; full: boolean; users: UserStatus[] };

/** The watch lists of a room's sockets. */
export class WatchRegistry {
  readonly #bySocket = new Map<string, Watcher>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #known = new Map<string, VersionedStatus>();

  /**
   * Replaces a socket's watch list (an empty list stops watching). Returns the users whose
   * status the room does not know yet and must ask the directory for.
   */
  set(connectionId: string, userIds: readonly string[]): string[] {
    this.remove(connectionId);
    if (userIds.length === 0) return [];
    const users = new Set(userIds);
    this.#bySocket.set(connectionId, { users, seq: 0, owesFull: true, changed: new Set() });
    for (const userId of users) {
      let sockets = this.#byUser.get(userId);
      if (!sockets) this.#byUser.set(userId, (sockets = new Set()));
      sockets.add(connectionId);
    }
    return [...users].filter((userId) => !this.#known.has(userId));
  }

  /** A socket stopped watching (it closed): its users are forgotten when nobody else watches them. */
  remove(connectionId: string): void {
    const watcher = this.#bySocket.get(connectionId);
    if (!watcher) return;
    this.#bySocket.delete(connectionId);
    for (const userId of watcher.users) {
      const sockets = this.#byUser.get(userId);
      sockets?.delete(connectionId);
      if (sockets?.size === 0) {
        this.#byUser.delete(userId);
        this.#known.delete(userId);
      }
    }
  }

  /** Statuses heard from the directory: the newer ones are kept, and their watchers told. */
  heard(statuses: readonly VersionedStatus[]): void {
    for (const entry of statuses) {
      const userId = entry.status.id;
      const sockets = this.#byUser.get(userId);
      if (!sockets) continue;
      const known = this.#known.get(userId);
      if (known && known.version >= entry.version) continue;
      this.#known.set(userId, entry);
      for (const connectionId of sockets) this.#bySocket.get(connectionId)!.changed.add(userId);
    }
  }

  /** Every user some socket watches. */
  watched(): string[] {
    return [...this.#byUser.keys()];
  }

  /** The users one socket watches, or undefined. */
  usersOf(connectionId: string): ReadonlySet<string> | undefined {
    return this.#bySocket.get(connectionId)?.users;
  }

  /** The sockets that watch anything, with their lists (to keep across a restart). */
  lists(): Map<string, string[]> {
    return new Map([...this.#bySocket].map(([connectionId, watcher]) => [connectionId, [...watcher.users]]));
  }

  /** Whether anything is owed to any socket. */
  get pending(): boolean {
    for (const watcher of this.#bySocket.values()) if (watcher.changed.size > 0 || (watcher.owesFull && this.#complete(watcher))) return true;
    return false;
  }

  /** The messages owed now: a full list to each socket that asked and whose users are all known, changes to the rest. */
  take(): WatchMessage[] {
    const messages: WatchMessage[] = [];
    for (const [connectionId, watcher] of this.#bySocket) {
      if (watcher.owesFull) {
        if (!this.#complete(watcher)) continue;
        watcher.owesFull = false;
        watcher.changed.clear();
        watcher.seq = 1;
        messages.push({ connectionId, seq: 1, full: true, users: [...watcher.users].map((userId) => this.#known.get(userId)!.status) });
      } else if (watcher.changed.size > 0) {
        const users = [...watcher.changed].map((userId) => this.#known.get(userId)!.status);
        watcher.changed.clear();
        messages.push({ connectionId, seq: ++watcher.seq, full: false, users });
      }
    }
    return messages;
  }

  #complete(watcher: Watcher): boolean {
    for (const userId of watcher.users) if (!this.#known.has(userId)) return false;
    return true;
  }
}
