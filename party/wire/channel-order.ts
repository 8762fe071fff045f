/** The order channels are listed in, by the index (`GET /channels`) and the dashboard alike. Client-safe. */
import type { ChannelEntry } from "./types.ts";

/** Most users first, then most clients, then most members, then by name. */
export function byMembers(a: ChannelEntry, b: ChannelEntry): number {
  return b.userAmount - a.userAmount || b.clientAmount - a.clientAmount || b.members - a.members || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0);
}
