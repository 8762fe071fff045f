/**
 * The protocol pieces the dashboard uses: types from the service's zod definitions (types
 * only, so zod stays out of the page's bundle) and a light shape check of index messages.
 */
import type { ChannelsMessage } from "../party/protocol/index.ts";
export type { ChannelEntry, ChannelsMessage, Member, RoomStats, UserStatus, PushResult, DisconnectResult, BanStatus, AdminSession, ClientTypeCounts, HttpClientListing, HistoryEvent, HistoryPage, MembersPage } from "../party/protocol/index.ts";
export { INDEX_PARTY, INDEX_ROOM } from "../party/wire/parties.ts";

/** The index's message, or null when the text is not one. */
export function parseChannelsMessage(text: string): ChannelsMessage | null {
  try {
    const value = JSON.parse(text) as Partial<ChannelsMessage>;
    if (value.type !== "channels" || typeof value.full !== "boolean" || !Array.isArray(value.channels) || !Array.isArray(value.removed)) return null;
    return value as ChannelsMessage;
  } catch {
    return null;
  }
}
