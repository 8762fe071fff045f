/**
 * `GET /herenow?channel=A&channel=B`: herenow for many channels in one request, fanned out
 * to the rooms in parallel and merged into one envelope. Used by the worker's `onFetch`.
 */
import { z } from "zod";
import { fail, ok } from "../shared/envelope.ts";
import { type ChannelHereNow, HereNowChannels, HereNowQuery, HereNowResponse } from "../shared/protocol.ts";

/** Asks one room for its herenow, with the given query string. */
export type RoomFetcher = (channel: string, query: string) => Promise<Response>;

/** Decides whether the caller may read these channels: null, or the refusal to answer with. */
export type ChannelsGate = (channels: string[]) => Promise<Response | null>;

/**
 * Answers a multi-channel herenow request; `channel` may repeat or hold a comma-separated
 * list. `gate` checks the caller's credentials for the channels named, before any room is asked.
 */
export async function hereNowAcrossChannels(url: URL, fetchRoom: RoomFetcher, gate: ChannelsGate = async () => null): Promise<Response> {
  const names = [...new Set(url.searchParams.getAll("channel").flatMap((value) => value.split(",")))];
  const channels = HereNowChannels.safeParse(names);
  if (!channels.success) return fail(400, "bad_request", z.prettifyError(channels.error));
  const refused = await gate(channels.data);
  if (refused) return refused;
  const query = HereNowQuery.safeParse({
    includeUsers: url.searchParams.get("includeUsers") ?? undefined,
    distinct: url.searchParams.get("distinct") ?? undefined,
    limit: url.searchParams.get("limit") ?? undefined,
    cursor: url.searchParams.get("cursor") ?? undefined,
  });
  if (!query.success) return fail(400, "bad_request", z.prettifyError(query.error));
  const { includeUsers, distinct, limit, cursor } = query.data;
  if (cursor !== undefined && channels.data.length > 1) return fail(400, "bad_request", "cursor pages one channel: name only that channel");
  const params = new URLSearchParams({ includeUsers: String(includeUsers), distinct: String(distinct), limit: String(limit) });
  if (cursor !== undefined) params.set("cursor", cursor);

  const results = await Promise.all(
    channels.data.map(async (channel): Promise<[string, ChannelHereNow | string]> => {
      try {
        const response = await fetchRoom(channel, params.toString());
        const raw: unknown = await response.json();
        // Validate, but pass on the room's own object: it keeps GoEasy's key order and the data as sent.
        const entry = HereNowResponse.safeParse(raw).success ? (raw as HereNowResponse).content.channels[channel] : undefined;
        return [channel, entry ?? `room answered ${response.status}`];
      } catch (error) {
        return [channel, (error as Error).message];
      }
    }),
  );
  const failed = results.filter(([, value]) => typeof value === "string");
  if (failed.length > 0) {
    return fail(502, "internal", `herenow failed for ${failed.map(([name, why]) => `${name} (${why})`).join(", ")}`);
  }
  return ok({ channels: Object.fromEntries(results) });
}
