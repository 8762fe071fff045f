/**
 * `GET /herenow?channel=A&channel=B`: herenow for many channels in one request, fanned out
 * to the rooms in parallel and merged into one envelope. Used by the worker's `onFetch`.
 */
import { z } from "zod";
import { HttpError, ok } from "../server/envelope.ts";
import type { Parties } from "../server/calls.ts";
import { type ChannelHereNow, type HereNowArgs, HereNowChannels, HereNowQuery } from "../protocol/index.ts";
import { CHANNEL_PARTY } from "../wire/parties.ts";

/** Checks that the caller may read these channels; throws the refusal (`HttpError`) when not. */
export type ChannelsGate = (channels: string[]) => Promise<void>;

/**
 * Answers a multi-channel herenow request; `channel` may repeat or hold a comma-separated
 * list. `gate` checks the caller's credentials for the channels named, before any room is asked.
 */
export async function hereNowAcrossChannels(url: URL, parties: Parties, gate: ChannelsGate = async () => {}): Promise<Response> {
  const names = [...new Set(url.searchParams.getAll("channel").flatMap((value) => value.split(",")))];
  const channels = HereNowChannels.safeParse(names);
  if (!channels.success) throw new HttpError(400, "bad_request", z.prettifyError(channels.error));
  await gate(channels.data);
  const query = HereNowQuery.safeParse({
    includeUsers: url.searchParams.get("includeUsers") ?? undefined,
    distinct: url.searchParams.get("distinct") ?? undefined,
    limit: url.searchParams.get("limit") ?? undefined,
    cursor: url.searchParams.get("cursor") ?? undefined,
  });
  if (!query.success) throw new HttpError(400, "bad_request", z.prettifyError(query.error));
  const { includeUsers, distinct, limit, cursor } = query.data;
  if (cursor !== undefined && channels.data.length > 1) throw new HttpError(400, "bad_request", "cursor pages one channel: name only that channel");
  const args: HereNowArgs = { includeUsers, distinct, limit };
  if (cursor !== undefined) args.cursor = cursor;

  const results = await Promise.all(
    channels.data.map(async (channel): Promise<[string, ChannelHereNow | string]> => {
      try {
        // The room's own object, checked: it keeps GoEasy's key order and the data as sent.
        const entry = await parties.call(CHANNEL_PARTY, channel, "herenow", args);
        return [channel, entry.channel === channel ? entry : `room answered for ${entry.channel}`];
      } catch (error) {
        return [channel, (error as Error).message];
      }
    }),
  );
  const failed = results.filter(([, value]) => typeof value === "string");
  if (failed.length > 0) {
    throw new HttpError(502, "internal", `herenow failed for ${failed.map(([name, why]) => `${name} (${why})`).join(", ")}`);
  }
  return ok({ channels: Object.fromEntries(results) });
}
