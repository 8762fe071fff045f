/**
 * A channel room's watch lists at work: a socket's list goes to the registry (who watches
 * whom, what each is owed), to the directory (watched users and the statuses to ask for), to
 * storage (so a socket that survives a restart keeps watching) and, in interval mode, into the
 * socket's view (a fresh snapshot). Each tick, what the registry owes goes out.
 */
import type { TickLoop } from "../server/tick-loop.ts";
import type { ServerMessage } from "../protocol/index.ts";
import type { Broadcaster } from "./broadcaster.ts";
import type { DirectoryReporter } from "./directory-reporter.ts";
import { sendText } from "../server/host.ts";
import type { ChannelSockets, Socket } from "./sockets.ts";
import type { ChannelStore } from "./store.ts";
import type { WatchRegistry } from "./watchers.ts";

/** The parts watch lists touch. */
export type WatchingParts = {
  watchers: WatchRegistry;
  reporter: DirectoryReporter;
  store: ChannelStore;
  broadcaster: Broadcaster;
  sockets: ChannelSockets;
  ticks: TickLoop;
};

/** The room's watch lists. */
export class Watching {
  readonly #parts: WatchingParts;

  constructor(parts: WatchingParts) {
    this.#parts = parts;
  }

  /** Replaces a socket's watch list (empty: it stops watching), tells the directory, and keeps it across a restart. */
  set(connectionId: string, userIds: readonly string[]): void {
    const { watchers, reporter, store, broadcaster, sockets, ticks } = this.#parts;
    reporter.ask(watchers.set(connectionId, userIds));
    reporter.watch(watchers.watched());
    store.saveWatch(connectionId, userIds).catch((error) => console.error("presence: saving a watch list failed", error));
    // In interval mode the watched users are in the socket's view: it gets them in a fresh snapshot.
    for (const socket of sockets.of(connectionId)) broadcaster.viewChanged(socket);
    ticks.schedule();
  }

  /** A socket ended: it watches no more. */
  forget(connectionId: string): void {
    if (this.#parts.watchers.usersOf(connectionId)) this.set(connectionId, []);
  }

  /** After a restart: the sockets that survived keep watching (each is owed a full list again); the lists of the others are deleted. */
  async restore(survivors: readonly Socket[]): Promise<void> {
    const { watchers, reporter, store } = this.#parts;
    const lists = await store.loadWatches();
    const alive = new Set(survivors.map((socket) => socket.id));
    for (const [connectionId, userIds] of lists) {
      if (alive.has(connectionId)) reporter.ask(watchers.set(connectionId, userIds));
      else await store.saveWatch(connectionId, []);
    }
    reporter.watch(watchers.watched());
  }

  /** Sends each watching socket what it is owed: a full list, or the changes since its last message. */
  send(): void {
    const { watchers, sockets } = this.#parts;
    for (const { connectionId, ...rest } of watchers.take()) {
      const text = JSON.stringify({ type: "users", ...rest } satisfies ServerMessage);
      for (const socket of sockets.of(connectionId)) sendText(socket, text);
    }
  }
}
