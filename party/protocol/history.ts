/** A channel's presence history: its events as clients heard them, paged oldest first. (Part of the protocol: import it from protocol/index.ts.) */
import { z } from "zod";
import { ChannelName } from "./basics.ts";
import { PresenceEvent } from "./members.ts";

/** Most events one history page holds. */
export const MAX_HISTORY_PAGE = 1000;
/** Events in a history page when `limit` is left out. */
export const DEFAULT_HISTORY_PAGE = 100;

/** Where the next history page starts: the `cursor` of the page before (opaque: pass it back as it came). */
export const HistoryCursor = z.string().regex(/^\d{1,16}$/, "cursor must be the cursor of an earlier history page").meta({ id: "HistoryCursor" });

/** One presence event as the channel's clients heard it, kept in its history. */
export const HistoryEvent = PresenceEvent.extend({
  /** The `seq` of the diff that carried it (of its first frame, should a very large diff be split). */
  seq: z.number().int().nonnegative(),
  /** When the room announced it (the tick's time), epoch ms; never earlier than the event before. */
  at: z.number(),
}).meta({ id: "HistoryEvent" });
export type HistoryEvent = z.infer<typeof HistoryEvent>;

/** What a history request asks for, wherever it comes from (query string, helper). */
export const HistoryOptions = z.object({
  /** Only events at or after this time (epoch ms); a time in the future answers no events. Default: all that are kept. */
  since: z.number().int("since is a time in epoch milliseconds").min(0, "since cannot be negative").optional(),
  /** At most this many events (default 100, at most 1000). */
  limit: z.number().int().min(1, "limit is at least 1").max(MAX_HISTORY_PAGE, `limit is at most ${MAX_HISTORY_PAGE}`).default(DEFAULT_HISTORY_PAGE),
  /** Start where the page before ended (its `cursor`). */
  cursor: HistoryCursor.optional(),
});
/** History options as a caller gives them (each may be left out). */
export type HistoryOptions = z.input<typeof HistoryOptions>;

/** `GET /parties/main/CHANNEL?history&since=MS&limit=N&cursor=C`, resolved to `HistoryOptions`. */
export const HistoryQuery = z
  .object({
    since: z.string().regex(/^\d{1,16}$/, "since must be a time in epoch milliseconds: a whole number, not negative").transform(Number).optional(),
    limit: z.string().regex(/^\d{1,6}$/, "limit must be a whole number").transform(Number).optional(),
    cursor: z.string().optional(),
  })
  .pipe(HistoryOptions);

/** One page of a channel's history, oldest first. */
export const HistoryPage = z.object({
  channel: ChannelName,
  /** The events, oldest first. */
  events: z.array(HistoryEvent),
  /** More events follow: pass this as `cursor` for the next page. Absent on the last page. */
  cursor: HistoryCursor.optional(),
}).meta({ id: "HistoryPage" });
export type HistoryPage = z.infer<typeof HistoryPage>;

/** `GET ?history`'s answer. */
export const HistoryResponse = z.object({ code: z.literal(200), content: HistoryPage });
export type HistoryResponse = z.infer<typeof HistoryResponse>;
