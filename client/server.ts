/**
 * `partykit-presence/server`: the HTTP API for app servers. Uses only `fetch`, so it runs in
 * Node, Deno, Bun and workers alike.
 */
import type { HereNowOptions, RoomStats } from "../party/shared/protocol.ts";
import { StatsResponseSchema } from "../party/shared/schemas.generated.ts";
import { fetchHereNow, type HereNowResult, type PresenceApiOptions, requestJson } from "./http.ts";

export { PresenceHttpError, type HereNowResult, type PresenceApiOptions } from "./http.ts";
export { createPresenceToken, type PresenceTokenOptions } from "./tokens.ts";
export type * from "../party/shared/protocol.ts";

/** The server-side API. */
export type PresenceApi = {
  /** herenow for one or many channels (at most 100), in one request. */
  hereNow(request: HereNowOptions & { channels: string[] }): Promise<HereNowResult>;
  /** A room's counters of refused connections, rejected messages and closes. */
  stats(channel: string): Promise<RoomStats>;
};

/** Makes the server-side API for a host; `serverKey` (PRESENCE_SERVER_KEY) is sent with every call. */
export function createPresenceApi(options: PresenceApiOptions): PresenceApi {
  const party = options.party ?? "main";
  return {
    hereNow: (request) => fetchHereNow(options, request),
    async stats(channel) {
      const body = await requestJson<{ content: RoomStats }>(options, `/parties/${party}/${encodeURIComponent(channel)}?stats`, StatsResponseSchema);
      return body.content;
    },
  };
}
