/** The worker's own routes, outside any room (`onFetch`): `/herenow` across channels; everything else is a 404. */
import type * as Party from "partykit/server";
import { readConfig } from "../shared/config.ts";
import { fail, methodNotAllowed, preflight } from "../shared/envelope.ts";
import { CHANNEL_PARTY } from "../shared/parties.ts";
import { hereNowAcrossChannels } from "./herenow.ts";

/** `onFetch` of the service. */
export async function edgeFetch(request: Party.Request, lobby: Party.FetchLobby): Promise<Response> {
  const url = new URL(request.url);
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  if (url.pathname === "/herenow" || url.pathname === "/herenow/") {
    if (request.method === "OPTIONS") return preflight();
    if (request.method !== "GET") return methodNotAllowed(["GET"]);
    return hereNowAcrossChannels(url, (channel, query) => lobby.parties[CHANNEL_PARTY]!.get(channel).fetch(`/?${query}`));
  }
  return fail(404, "not_found", `no route ${url.pathname}; see GET /herenow or /parties/${CHANNEL_PARTY}/CHANNEL`);
}
