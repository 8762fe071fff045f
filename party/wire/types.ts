/**
 * The shapes wire code works with, as plain types: members and their compact wire tuple, a
 * diff's member groups, a channel's entry in the index. wire/ imports nothing outside itself, so
 * the client bundles these without zod; each zod schema in protocol/ is declared to parse to
 * exactly its type here (`Exactly` in protocol/exactly.ts), so the two cannot disagree.
 */
import type { JsonValue } from "./json.ts";

/** The presence actions, as GoEasy names them, plus `update`. */
export type PresenceAction = "join" | "online" | "offline" | "leave" | "update";

/** Whether a member has at least one live client. */
export type MemberStatus = "online" | "offline";

/** How a channel shows its members: all to every client, or counts and each client's view. */
export type ChannelMode = "full" | "interval";

/** Client counts by `clientType`. */
export type ClientTypeCounts = Record<string, number>;

/** A user known to a channel, as clients see it. Times are epoch milliseconds. */
export type Member = {
  id: string;
  data: JsonValue;
  status: MemberStatus;
  clients: number;
  clientTypes: ClientTypeCounts;
  since: number;
  lastSeen: number;
};

/** A member's fields beyond id, data and since, each only where it differs from the default. */
export type WireMemberExtra = {
  /** 1: offline. */
  o?: 1;
  /** Its clients counted here. */
  c?: number;
  /** Its one typed client's type, or its clients by type. */
  t?: string | ClientTypeCounts;
  /** How many ms before the message's `now` it was last seen. */
  l?: number;
};

/** A member as snapshots and diffs carry it: `[id, data, ago?, extra?]`. */
export type WireMember = [id: string, data: JsonValue, ago?: number, extra?: WireMemberExtra];

/** The fields of a diff message that carry members: the events by action, then quiet and out. */
export type WireDiffBody = {
  join?: WireMember[];
  online?: WireMember[];
  update?: WireMember[];
  offline?: WireMember[];
  /** The userIds of members that left. */
  leave?: string[];
  quiet?: WireMember[];
  /** Interval mode: userIds that went out of the socket's view. */
  out?: string[];
};

/** One active channel as the index knows it. */
export type ChannelEntry = {
  channel: string;
  clientAmount: number;
  userAmount: number;
  members: number;
  mode: ChannelMode;
  updatedAt: number;
};
