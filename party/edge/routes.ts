/** The worker's own routes, outside any room (`onFetch`): `/herenow` across channels; everything else is a 404. */
import type * as Party from "partykit/server";
import { readConfig } from "../shared/config.ts";
import { fail, methodNotAllowed, preflight, withCors } from "../shared/envelope.ts";
import { CHANNEL_PARTY } from "../shared/parties.ts";
import { authorizeRequest, originRefusal } from "./access.ts";
import { hereNowAcrossChannels } from "./herenow.ts";

/** `onFetch` of the service. */
export async function edgeFetch(request: Party.Request, lobby: Party.FetchLobby): Promise<Response> {
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  const config = settings.config;
  const origin = request.headers.get("origin");
  const answer = (response: Response) => withCors(response, origin, config.allowedOrigins);
  const url = new URL(request.url);
  if (request.method === "OPTIONS") return answer(preflight());
  const refusal = originRefusal(request as unknown as Request, config);
  if (refusal) return answer(fail(refusal.status, refusal.error, refusal.message));
  if (url.pathname === "/herenow" || url.pathname === "/herenow/") {
    if (request.method !== "GET") return answer(methodNotAllowed(["GET"]));
    return answer(
      await hereNowAcrossChannels(
        url,
        (channel, query) => lobby.parties[CHANNEL_PARTY]!.get(channel).fetch(`/?${query}`),
        async (channels) => {
          const refused = await authorizeRequest(request as unknown as Request, url, { channels }, config);
          return refused && fail(refused.status, refused.error, refused.message);
        },
      ),
    );
  }
  return answer(fail(404, "not_found", `no route ${url.pathname}; see GET /herenow or /parties/${CHANNEL_PARTY}/CHANNEL`));
}
