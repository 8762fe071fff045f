/**
 * What every part of the channel core shares: the channel's name and settings, its members
 * (the pure presence state), its sockets, the outbox its effects go into, and its counters.
 * Each part gets this and, beside it, only the few parts it works with.
 */
import type { Config } from "../server/config.ts";
import type { Outbox } from "./effects.ts";
import type { PresenceState } from "./presence.ts";
import type { SocketBook } from "./sockets.ts";
import type { StatsCounters } from "./stats.ts";

/** The channel core's common ground. */
export type Channel = {
  readonly name: string;
  readonly config: Config;
  readonly members: PresenceState;
  readonly sockets: SocketBook;
  readonly out: Outbox;
  readonly stats: StatsCounters;
};

/** Closes the socket(s) of a connection id, counted by the close code's name. */
export function closeSocket(channel: Channel, connectionId: string, code: number, reason: string, instance?: string): void {
  channel.stats.countClose(code);
  channel.out.close(connectionId, code, reason, instance);
}
