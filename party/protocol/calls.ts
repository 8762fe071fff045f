/**
 * The calls between the service's own parties, by party: each call's arguments and reply,
 * defined once here. `server/calls.ts` sends them (`Parties.call`) and answers them
 * (`answerCall`), checking both ends against this table. Argument schemas carry no defaults
 * or transforms: a call is checked and then handed on as sent. (Part of the protocol: import
 * it from protocol/index.ts.)
 */
import { z } from "zod";
import { ChannelHereNow, WebhookReport } from "./http.ts";
import { ChannelList, ChannelListQuery, IndexReport, MetricsTotals, ShardReport, ShardReportReply } from "./channel-index.ts";
import { Adoption, ChannelShardReply, ChannelShardReport, DirectoryReport, MirrorDiff, HandedBack, HandOverQuery, HandOverReply, HereNowArgs, Kick, KickedClients, Push, PushDelivery, RefusalCount, PartLayouts, StatusQuery, StatusReply, WatchedChanges } from "./internal.ts";
import { UserId } from "./basics.ts";
import { Ban, BanLifted, DisconnectResult, PushResult } from "./users.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY } from "../wire/parties.ts";

/** One call: what it takes, what it answers, and who makes it and why (docs/architecture.md's call table is made from these). */
export type CallSpec = {
  args: z.ZodType;
  reply: z.ZodType;
  /** Who makes the call (a party, or the edge and which of its routes). */
  from: string;
  /** What the call does, in a phrase. */
  what: string;
};

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, reply: R, doc: { from: string; what: string }) => ({ args, reply, ...doc });

/** No arguments, or nothing to answer. */
const Nothing = z.object({});

/** Every call, by party (the names in partykit.json) and call name. */
export const Calls = {
  /** The channel rooms. */
  [CHANNEL_PARTY]: {
    "count-refusal": call(RefusalCount, Nothing, {
      from: "the edge's hooks",
      what: "count a connect or request the edge refused in the room's stats",
    }),
    herenow: call(HereNowArgs, ChannelHereNow, {
      from: "the edge's `/herenow`",
      what: "this channel's part of a herenow across channels",
    }),
    watched: call(WatchedChanges, Nothing, {
      from: "a directory part",
      what: "news of users this room's sockets watch",
    }),
    push: call(Push, PushResult, {
      from: "the edge's push (directory off)",
      what: "run a push through this room alone: the channel coordinates",
    }),
    deliver: call(Push, PushDelivery, {
      from: "a directory part (a push's coordinator)",
      what: "deliver a push to the user's clients here, answer with their acks",
    }),
    kick: call(Kick, KickedClients, {
      from: "a directory part, the edge's disconnect (directory off)",
      what: "close (sockets) or remove (HTTP clients) every client of the user here, at once, without grace",
    }),
    "shard-report": call(ChannelShardReport, ChannelShardReply, {
      from: "one of the channel's shards (`main/CHANNEL~k`)",
      what: "the shard's client changes and lease renewal, for the channel's coordinator (a full one is answered with the mirror to start from)",
    }),
    "shard-diff": call(MirrorDiff, Nothing, {
      from: "the channel's coordinator (`main/CHANNEL`)",
      what: "a tick's changes, for this shard's mirror of what its sockets may see",
    }),
  },
  /** The user directory's parts. */
  [DIRECTORY_PARTY]: {
    report: call(DirectoryReport, Nothing, {
      from: "a channel room",
      what: "the room's changes, lease renewals and watch list for this part's users",
    }),
    status: call(StatusQuery, StatusReply, {
      from: "the edge's `/users`, a channel room (its watch lists)",
      what: "the status of some of this part's users",
    }),
    push: call(Push, PushResult, {
      from: "the edge's push",
      what: "run a push to one of this part's users: to every channel it is online in",
    }),
    disconnect: call(Kick, DisconnectResult, {
      from: "the edge's disconnect",
      what: "disconnect one of this part's users: in every channel it is in (or the one named)",
    }),
    layout: call(Nothing, PartLayouts, {
      from: "a directory part (asked of p0 by a part with no layout of its own)",
      what: "the layout users are spread by now, and the one before it (where users not moved yet are)",
    }),
    "hand-over": call(HandOverQuery, HandOverReply, {
      from: "a directory part (new place of users it does not know yet)",
      what: "the rows of these users, which moved to the caller when PRESENCE_DIRECTORY_PARTS grew (kept until `handed`)",
    }),
    handed: call(HandedBack, Nothing, {
      from: "a directory part (after storing users it was handed)",
      what: "forget these users handed over, without a transition",
    }),
    adopt: call(Adoption, Nothing, {
      from: "a directory part (draining users that moved after PRESENCE_DIRECTORY_PARTS grew)",
      what: "store these users moved here, unless already known, without a transition",
    }),
    webhooks: call(Nothing, WebhookReport, {
      from: "the edge's `GET /webhooks`",
      what: "the part's own webhook delivery (user.online / user.offline)",
    }),
    "resend-webhooks": call(Nothing, z.object({ resent: z.number().int() }), {
      from: "the edge's `POST /webhooks/resend`",
      what: "put the part's dead letters back in its queue",
    }),
  },
  /** The channel index: its shards (`s0`…, the channels hashed over them), its root (`all`: the dashboards' list, and the ban list) and the ban replicas (`bans-N`, `bans` alone). */
  [INDEX_PARTY]: {
    report: call(IndexReport, Nothing, {
      from: "a channel room (to its shard)",
      what: "the channel's counts",
    }),
    metrics: call(Nothing, MetricsTotals, {
      from: "the edge's `/metrics` (to every shard, and the root)",
      what: "the shard's active channels' sums and every counter it holds, those retired included (the root: what the single index of earlier versions had retired)",
    }),
    list: call(ChannelListQuery, ChannelList, {
      from: "the edge's `/channels` (to every shard)",
      what: "the shard's active channels, most members first",
    }),
    "shard-report": call(ShardReport, ShardReportReply, {
      from: "an index shard (to the root)",
      what: "the shard's changed entries and removals (or its whole table), and its lease at the root",
    }),
    ban: call(Ban, z.object({ accepted: z.boolean() }), {
      from: "the edge's disconnect with `banSeconds` (to the root, as the ban calls below)",
      what: "keep a user out until the ban's time (a later ban replaces an earlier one); not accepted when the list is full",
    }),
    unban: call(z.object({ userId: UserId }), BanLifted, {
      from: "the edge's `DELETE /users/USERID/ban`",
      what: "lift a user's ban",
    }),
    bans: call(Nothing, z.object({ bans: z.array(Ban) }), {
      from: "to `all`: a ban replica (at most once a second), `GET /users/USERID/ban`; to a ban replica `bans-N`: an edge isolate's copy (`BanCache`, at most once per 5 s)",
      what: "every ban in force (a replica answers from its copy, at most 1 s old)",
    }),
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
