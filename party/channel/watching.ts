/**
 * A channel's watch lists at work: a socket's list goes to the registry (who watches whom, what
 * each is owed), to the directory (watched users, and the statuses to ask for), to storage
 * (`w:CONNECTIONID`, so a socket that survives a restart keeps watching) and, in interval mode,
 * into the socket's view (a fresh snapshot). After each tick what the registry owes goes out.
 */
import type { ServerMessage, VersionedStatus } from "../protocol/index.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { Channel } from "./channel.ts";
import type { DirectoryReporter } from "./directory-reporter.ts";
import type { WatchRegistry } from "./watchers.ts";

/** Where watch lists are kept. */
export const WATCH_PREFIX = "w:";

/** The channel's watch lists. */
export class Watching {
  readonly #channel: Channel;
  readonly #watchers: WatchRegistry;
  readonly #reporter: DirectoryReporter;
  readonly #broadcaster: Broadcaster;

  constructor(channel: Channel, watchers: WatchRegistry, reporter: DirectoryReporter, broadcaster: Broadcaster) {
    this.#channel = channel;
    this.#watchers = watchers;
    this.#reporter = reporter;
    this.#broadcaster = broadcaster;
  }

  /** Replaces a socket's watch list (empty: it stops watching), tells the directory, and keeps it across a restart. */
  set(connectionId: string, userIds: readonly string[], now: number): void {
    const { out } = this.#channel;
    this.#reporter.ask(this.#watchers.set(connectionId, userIds));
    this.#reporter.watch(this.#watchers.watched());
    if (userIds.length === 0) out.write([], [WATCH_PREFIX + connectionId]);
    else out.write([[WATCH_PREFIX + connectionId, [...userIds]]]);
    // In interval mode the watched users are in the socket's view: it gets them in a fresh snapshot.
    this.#broadcaster.viewChanged(connectionId, now);
    out.tick();
  }

  /** A socket ended: it watches no more. */
  forget(connectionId: string, now: number): void {
    if (this.#watchers.usersOf(connectionId)) this.set(connectionId, [], now);
  }

  /** After a restart: the sockets that survived keep watching (each is owed a full list again); the lists of the others are deleted. */
  restore(lists: ReadonlyMap<string, string[]>, survivors: ReadonlySet<string>): void {
    const gone: string[] = [];
    for (const [connectionId, userIds] of lists) {
      if (survivors.has(connectionId)) this.#reporter.ask(this.#watchers.set(connectionId, userIds));
      else gone.push(WATCH_PREFIX + connectionId);
    }
    this.#channel.out.write([], gone);
    this.#reporter.watch(this.#watchers.watched());
  }

  /** Statuses the directory sent or answered: the newer ones are kept, for the next `send`. */
  heard(statuses: readonly VersionedStatus[]): void {
    this.#watchers.heard(statuses);
    this.#channel.out.tick();
  }

  /** Sends each watching socket what it is owed: a full list, or the changes since its last message. */
  send(): void {
    for (const { connectionId, ...rest } of this.#watchers.take()) {
      this.#channel.out.send(connectionId, { type: "users", ...rest } satisfies ServerMessage);
    }
  }
}
