/**
 * A stand-in for `PresenceClient` in the hooks' unit tests (test/unit/hooks.test.ts), put in
 * its place with `vi.mock`: it records what the hook asked of it (updates, watch lists,
 * close) and lets the test play the room's side (members, watched users, status, errors).
 */
import type { Counts, Member, UserStatus } from "../../party/protocol/index.ts";
import type { PresenceClientEvents, PresenceClientOptions } from "../../client/types.ts";
import { Emitter } from "../../client/emitter.ts";

/** A fake client; every instance made is kept in `FakeClient.made`, newest last. */
export class FakeClient {
  static made: FakeClient[] = [];

  readonly options: PresenceClientOptions;
  readonly userId: string | null;
  /** The userData sent as updates, in order. */
  readonly updates: unknown[] = [];
  /** The watch lists asked for, in order. */
  readonly watches: string[][] = [];
  closed = false;
  members: Member[] = [];
  counts: Counts = { clientAmount: 0, userAmount: 0 };
  watched: UserStatus[] = [];
  #events = new Emitter<PresenceClientEvents>();

  constructor(options: PresenceClientOptions) {
    this.options = options;
    this.userId = options.userId ?? null;
    FakeClient.made.push(this);
  }

  get online(): Member[] {
    return this.members.filter((member) => member.status === "online");
  }

  on<K extends keyof PresenceClientEvents>(event: K, handler: (payload: PresenceClientEvents[K]) => void): () => void {
    return this.#events.on(event, handler);
  }

  setUserData(data: unknown): void {
    this.updates.push(data);
  }

  watchUsers(userIds: readonly string[]): void {
    this.watches.push([...userIds]);
    this.watched = this.watched.filter((status) => userIds.includes(status.id));
  }

  close(): void {
    this.closed = true;
    // As the real client: the socket's close is reported as a status.
    this.#events.emit("status", "closed");
  }

  /** The room's side: members change. */
  setMembers(members: Member[], counts: Counts): void {
    this.members = members;
    this.counts = counts;
    this.#events.emit("members", members);
  }

  /** The room's side: watched users' statuses arrive. */
  setWatched(watched: UserStatus[]): void {
    this.watched = watched;
    this.#events.emit("users", watched);
  }

  /** The room's side: any other event (status, error). */
  emit<K extends keyof PresenceClientEvents>(event: K, payload: PresenceClientEvents[K]): void {
    this.#events.emit(event, payload);
  }
}

/** A member record for the tests. */
export function member(id: string, status: "online" | "offline" = "online", clientTypes: Record<string, number> = { web: 1 }): Member {
  return { id, data: null, status, clients: status === "online" ? 1 : 0, clientTypes: status === "online" ? clientTypes : {}, since: 1, lastSeen: 1 };
}
