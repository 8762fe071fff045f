/**
 * The calls between the service's own parties, by party: each call's arguments and reply,
 * defined once here. `server/calls.ts` sends them (`Parties.call`) and answers them
 * (`answerCall`), checking both ends against this table. Argument schemas carry no defaults
 * or transforms: a call is checked and then handed on as sent. (Part of the protocol: import
 * it from protocol/index.ts.)
 */
import { z } from "zod";
import { ChannelHereNow, WebhookReport } from "./http.ts";
import { ChannelList, ChannelListQuery, IndexReport } from "./channel-index.ts";
import { DirectoryReport, HereNowArgs, Kick, KickedClients, Push, PushDelivery, RefusalCount, StatusQuery, StatusReply, WatchedChanges } from "./internal.ts";
import { UserId } from "./basics.ts";
import { Ban, BanLifted, DisconnectResult, PushResult } from "./users.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY } from "../wire/parties.ts";

/** One call: what it takes, what it answers. */
export type CallSpec = { args: z.ZodType; reply: z.ZodType };

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, reply: R) => ({ args, reply });

/** No arguments, or nothing to answer. */
const Nothing = z.object({});

/** Every call, by party (the names in partykit.json) and call name. */
export const Calls = {
  /** The channel rooms. */
  [CHANNEL_PARTY]: {
    /** The edge refused a connect or request to this channel: count it in the room's stats. */
    "count-refusal": call(RefusalCount, Nothing),
    /** The edge's `/herenow` across channels: this channel's part. */
    herenow: call(HereNowArgs, ChannelHereNow),
    /** A directory part's news of users this room's sockets watch. */
    watched: call(WatchedChanges, Nothing),
    /** Run a push through this room alone (the directory is off): the channel coordinates. */
    push: call(Push, PushResult),
    /** Deliver a push to the user's clients here, for its coordinator. */
    deliver: call(Push, PushDelivery),
    /** Close (sockets) or remove (HTTP clients) every client of the user here, at once, without grace. */
    kick: call(Kick, KickedClients),
  },
  /** The user directory's parts. */
  [DIRECTORY_PARTY]: {
    /** A channel room's changes, renewals and watch list for this part's users. */
    report: call(DirectoryReport, Nothing),
    /** The status of some of this part's users. */
    status: call(StatusQuery, StatusReply),
    /** Run a push to one of this part's users: to every channel it is online in. */
    push: call(Push, PushResult),
    /** Disconnect one of this part's users: in every channel it is in (or the one named). */
    disconnect: call(Kick, DisconnectResult),
    /** The part's own webhook delivery (user.online / user.offline). */
    webhooks: call(Nothing, WebhookReport),
    /** Put the part's dead letters back in its queue. */
    "resend-webhooks": call(Nothing, z.object({ resent: z.number().int() })),
  },
  /** The channel index and the ban list (one room, `all`). */
  [INDEX_PARTY]: {
    /** A channel room's counts. */
    report: call(IndexReport, Nothing),
    /** The active channels, most members first. */
    list: call(ChannelListQuery, ChannelList),
    /** Keep a user out until the ban's time (a later ban replaces an earlier one); not accepted when the list is full. */
    ban: call(Ban, z.object({ accepted: z.boolean() })),
    /** Lift a user's ban. */
    unban: call(z.object({ userId: UserId }), BanLifted),
    /** Every ban in force (the edge's copy is refreshed from it). */
    bans: call(Nothing, z.object({ bans: z.array(Ban) })),
  },
} as const satisfies Record<string, Record<string, CallSpec>>;

/** A party of the service: `main` (channels), `directory`, `index`. */
export type PartyName = keyof typeof Calls;
/** The calls a party takes. */
export type CallName<P extends PartyName> = keyof (typeof Calls)[P] & string;
type SpecOf<P extends PartyName, K extends CallName<P>> = (typeof Calls)[P][K] extends CallSpec ? (typeof Calls)[P][K] : never;
/** What a call takes. */
export type CallArgs<P extends PartyName, K extends CallName<P>> = z.infer<SpecOf<P, K>["args"]>;
/** What a call answers. */
export type CallReply<P extends PartyName, K extends CallName<P>> = z.infer<SpecOf<P, K>["reply"]>;
