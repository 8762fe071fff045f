/** The worker's own routes, outside any room (`onFetch`): `/herenow` across channels, `/users`, pushes; everything else is a 404. */
import type * as Party from "partykit/server";
import { readConfig } from "../shared/config.ts";
import { fail, methodNotAllowed, ok, preflight, withCors } from "../shared/envelope.ts";
import { CHANNEL_PARTY, INTERNAL_HEADER } from "../shared/parties.ts";
import { DIRECTORY_PARTY, partOf } from "../shared/parts.ts";
import { pushPath, pushToUser } from "./push.ts";
import { usersAcrossParts } from "./users.ts";
import { authorizeRequest, originRefusal } from "./access.ts";
import { hereNowAcrossChannels } from "./herenow.ts";
import { adminRoute } from "./admin-routes.ts";

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
  const admin = await adminRoute(request as unknown as Request, url, config, lobby.parties);
  if (admin) return answer(admin);
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
  if (url.pathname === "/users" || url.pathname === "/users/") {
    if (request.method !== "GET" && request.method !== "POST") return answer(methodNotAllowed(["GET", "POST"]));
    if (!config.directory) return answer(fail(404, "disabled", "the user directory is off (PRESENCE_DIRECTORY=off)"));
    const refused = await authorizeRequest(request as unknown as Request, url, { serverKey: true }, config);
    if (refused) return answer(fail(refused.status, refused.error, refused.message));
    return answer(
      await usersAcrossParts(request as unknown as Request, url, config.directoryParts, (part, userIds) =>
        lobby.parties[DIRECTORY_PARTY]!.get(part).fetch({
          method: "POST",
          headers: { [INTERNAL_HEADER]: "1", "content-type": "application/json" },
          body: JSON.stringify({ kind: "status", userIds }),
        }),
      ),
    );
  }
  if (url.pathname === "/webhooks" || url.pathname === "/webhooks/resend") {
    const resend = url.pathname === "/webhooks/resend";
    if (request.method !== (resend ? "POST" : "GET")) return answer(methodNotAllowed([resend ? "POST" : "GET"]));
    const refused = await authorizeRequest(request as unknown as Request, url, { serverKey: true }, config);
    if (refused) return answer(fail(refused.status, refused.error, refused.message));
    if (!config.directory || config.directoryParts === 0) {
      return answer(fail(404, "not_found", "the directory's webhooks are per user room here; see each channel's ?webhooks"));
    }
    // The directory's own batches (user.online / user.offline), part by part; channels answer at ?webhooks.
    const parts = Array.from({ length: config.directoryParts }, (_, i) => `p${i}`);
    const answers = await Promise.all(
      parts.map(async (part) => {
        const response = await lobby.parties[DIRECTORY_PARTY]!.get(part).fetch(resend ? "/?webhooks=resend" : "/?webhooks", {
          method: resend ? "POST" : "GET",
          headers: { [INTERNAL_HEADER]: "1" },
        });
        return [part, ((await response.json()) as { content: unknown }).content] as const;
      }),
    );
    return answer(ok({ parts: Object.fromEntries(answers) }));
  }
  const pushFor = pushPath(url.pathname);
  if (pushFor !== null) {
    if (request.method !== "POST") return answer(methodNotAllowed(["POST"]));
    const refused = await authorizeRequest(request as unknown as Request, url, { serverKey: true }, config);
    if (refused) return answer(fail(refused.status, refused.error, refused.message));
    return answer(
      await pushToUser(request as unknown as Request, pushFor, config, (to, body) =>
        lobby.parties[to.party === "directory" ? DIRECTORY_PARTY : CHANNEL_PARTY]!.get(to.party === "directory" ? partOf(to.userId, config.directoryParts) : to.channel!).fetch({
          method: "POST",
          headers: { [INTERNAL_HEADER]: "1", "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      ),
    );
  }
  return answer(fail(404, "not_found", `no route ${url.pathname}; see GET /herenow, GET /users, POST /users/USERID/push or /parties/${CHANNEL_PARTY}/CHANNEL`));
}
