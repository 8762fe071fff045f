/**
 * A directory user in its three shapes: as stored (a row, also what a hand-over carries), as
 * the part holds it (its channels in a map), and as rooms and the HTTP API see it (a status).
 * Pure functions between them.
 */
import type { JsonValue } from "../wire/json.ts";
import type { ClientTypeCounts, UserStatus } from "../protocol/index.ts";

/** A user's clients in one channel. */
export type Presence = { clients: number; clientTypes: ClientTypeCounts };

/** A user as stored. */
export type StoredUser = {
  id: string;
  data: JsonValue;
  online: boolean;
  since: number;
  lastSeen: number;
  /** Set while the user has no channel left but may still appear in one (its grace). */
  offlineAt: number | null;
  channels: Record<string, Presence>;
  /** Bumped on every change, so a room keeps only the newest status it hears of. */
  version: number;
};

/** A user as the part holds it: its channels in a map. */
export type UserRecord = Omit<StoredUser, "channels"> & { channels: Map<string, Presence> };

/** The user's status as rooms and the HTTP API see it: its channels in name order. */
export function toStatus(user: UserRecord): UserStatus {
  const channels = [...user.channels]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([channel, presence]) => ({ channel, clientAmount: presence.clients, clientTypes: presence.clientTypes }));
  return {
    id: user.id,
    online: user.online,
    since: user.since,
    lastSeen: user.online ? user.since : user.lastSeen,
    data: user.data,
    channels,
  };
}

/** The user as stored. */
export function toStored(user: UserRecord): StoredUser {
  return { ...user, channels: Object.fromEntries(user.channels) };
}

/** The record of a stored user. */
export function fromStored(stored: StoredUser): UserRecord {
  return { ...stored, channels: new Map(Object.entries(stored.channels)) };
}
