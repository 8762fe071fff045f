/** Members, their counts and presence events, as the room holds and clients see them. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import type * as wire from "../wire/types.ts";
import { ClientType, ClientTypeCounts, JsonValue, UserId } from "./basics.ts";
import type { Exactly } from "./exactly.ts";

/** Whether a member has at least one live client. */
export const MemberStatus = z.enum(["online", "offline"]).meta({ id: "MemberStatus" });
export type MemberStatus = Exactly<z.output<typeof MemberStatus>, wire.MemberStatus>;

/** A user known to a channel, as clients see it. Times are epoch milliseconds. */
export const Member = z.object({
  /** The userId. */
  id: UserId,
  /** The userData of the member's most recent connect or update. */
  data: JsonValue,
  /** online while at least one client is live (or within grace after the last drop). */
  status: MemberStatus,
  /** How many of the member's clients the channel counts now. */
  clients: z.number().int().nonnegative(),
  /** Those clients by `clientType` (`{"web": 2, "app": 1}`); clients without a type are in `clients` only. */
  clientTypes: ClientTypeCounts,
  /** When the member entered its current status. */
  since: z.number(),
  /** Offline: when its last client was last seen. Online: when it came online (it is seen now). */
  lastSeen: z.number(),
}).meta({ id: "Member" });
export type Member = Exactly<z.output<typeof Member>, wire.Member>;

/** How a channel shows its members: all to every client, or (past PRESENCE_ANNOUNCE_MAX) counts and each client's view. */
export const ChannelMode = z.enum(["full", "interval"]).meta({ id: "ChannelMode" });
export type ChannelMode = Exactly<z.output<typeof ChannelMode>, wire.ChannelMode>;

/** The presence actions, as GoEasy names them, plus `update`. */
export const PresenceAction = z.enum(["join", "online", "offline", "leave", "update"]).meta({ id: "PresenceAction" });
export type PresenceAction = Exactly<z.output<typeof PresenceAction>, wire.PresenceAction>;

/** Channel counts: live clients of members, and online members. Observers are not counted. */
export const Counts = z.object({
  /** Clients of online members, live or in grace (sockets and HTTP clients); observers are not counted. */
  clientAmount: z.number().int().nonnegative(),
  /** Online members. */
  userAmount: z.number().int().nonnegative(),
});
export type Counts = z.infer<typeof Counts>;

/** One presence event, with the channel's counts after it. */
export const PresenceEvent = Counts.extend({
  action: PresenceAction,
  /** The member after the event (for `leave`, as it was when it left). */
  member: Member,
}).meta({ id: "PresenceEvent" });
export type PresenceEvent = z.infer<typeof PresenceEvent>;

/**
 * A member's fields beyond id, data and since, each only where it differs from the default
 * (online, one untyped client, last seen when it came online).
 */
export const WireMemberExtra = z.object({
  /** 1: offline (default online). */
  o: z.literal(1).optional(),
  /** Its clients counted here, typed or not (default: 1 when `t` is a string, else 1 online and 0 offline). */
  c: z.number().int().nonnegative().optional(),
  /** Its clients by type: a string when it has exactly one client and that one is typed, else the counts (default: no typed client). */
  t: z.union([ClientType, ClientTypeCounts]).optional(),
  /** How many ms before the message's `now` it was last seen (default: its `since`). */
  l: z.number().int().optional(),
}).meta({ id: "WireMemberExtra" });
export type WireMemberExtra = Exactly<z.output<typeof WireMemberExtra>, wire.WireMemberExtra>;

/**
 * A member as snapshots and diffs carry it: `[id, data, ago, extra]`, where `ago` is how many
 * ms before the message's `now` the member entered its status (its `since`; 0 when left out)
 * and `extra` holds what is not the default. `["u1", {"name": "Ann"}]` is an online member
 * with one untyped client that came online at `now`.
 */
export const WireMember = z
  .tuple([UserId, JsonValue, z.number().int().optional(), WireMemberExtra.optional()])
  .meta({ id: "WireMember" });
export type WireMember = Exactly<z.output<typeof WireMember>, wire.WireMember>;
