/**
 * The users a client watches across channels, as pure logic: full lists and numbered
 * changes from the room, and when to ask again (a missed message). No sockets: the
 * `PresenceClient` feeds it `users` messages and emits what it returns.
 */
import type { ServerMessage, UserStatus } from "../party/protocol/index.ts";

type UsersMessage = Extract<ServerMessage, { type: "users" }>;

/** What a `users` message did: the statuses that changed, or that one was missed (ask again). */
export type WatchOutcome = { kind: "applied"; changed: UserStatus[] } | { kind: "resync" };

/** The watched users' statuses. */
export class WatchList {
  #ids: string[] = [];
  #statuses = new Map<string, UserStatus>();
  /** The seq of the last message applied; 0 before a full list. */
  #seq = 0;

  /** The users asked for. */
  get ids(): string[] {
    return [...this.#ids];
  }

  /** Replaces the list asked for; statuses of users no longer in it are forgotten. */
  set(ids: readonly string[]): void {
    this.#ids = [...new Set(ids)];
    const keep = new Set(this.#ids);
    for (const id of [...this.#statuses.keys()]) if (!keep.has(id)) this.#statuses.delete(id);
    this.#seq = 0;
  }

  /** A new connection: the room will send a full list when asked again. */
  reconnected(): void {
    this.#seq = 0;
  }

  /** The statuses known, in the order asked. */
  get statuses(): UserStatus[] {
    return this.#ids.flatMap((id) => this.#statuses.get(id) ?? []);
  }

  /** One watched user's status. */
  status(id: string): UserStatus | undefined {
    return this.#statuses.get(id);
  }

  /** Applies a `users` message: a full list replaces all; changes must come in sequence. */
  apply(message: UsersMessage): WatchOutcome {
    if (message.full) {
      const changed = message.users.filter((status) => JSON.stringify(this.#statuses.get(status.id)) !== JSON.stringify(status));
      this.#statuses = new Map(message.users.map((status) => [status.id, status]));
      this.#seq = message.seq;
      return { kind: "applied", changed };
    }
    if (this.#seq === 0 || message.seq !== this.#seq + 1) return { kind: "resync" };
    this.#seq = message.seq;
    for (const status of message.users) this.#statuses.set(status.id, status);
    return { kind: "applied", changed: message.users };
  }
}
