/** The worker's own routes, outside any room: `/herenow` across channels, `/users`, pushes, disconnects, bans, webhooks, the operator's routes; everything else is a 404. */
import type { Config } from "../server/config.ts";
import { fail, methodNotAllowed, ok, preflight, withCors } from "../server/envelope.ts";
import type { EdgeHost } from "../server/host.ts";
import { configOr500 } from "../server/room.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";
import { adminRoute } from "./admin-routes.ts";
import { authorizeRequest, originRefusal } from "./access.ts";
import { hereNowAcrossChannels } from "./herenow.ts";
import { banLookup, banRoute } from "./bans.ts";
import { disconnectUser } from "./disconnect.ts";
import { pushToUser } from "./push.ts";
import { usersAcrossParts } from "./users.ts";

/** Answers a request to the worker that no room's URL matched. */
export async function edgeFetch(request: Request, edge: EdgeHost): Promise<Response> {
  const config = configOr500(edge.env);
  if (config instanceof Response) return config;
  const origin = request.headers.get("origin");
  const answer = (response: Response) => withCors(response, origin, config.allowedOrigins);
  const url = new URL(request.url);
  if (request.method === "OPTIONS") return answer(preflight());
  const refusal = originRefusal(request, config);
  if (refusal) return answer(fail(refusal.status, refusal.error, refusal.message));
  const serverKeyRefusal = async () => {
    const refused = await authorizeRequest(request, url, { serverKey: true }, config);
    return refused && fail(refused.status, refused.error, refused.message);
  };
  const admin = await adminRoute(request, url, config, edge.parties);
  if (admin) return answer(admin);
  if (url.pathname === "/herenow" || url.pathname === "/herenow/") {
    if (request.method !== "GET") return answer(methodNotAllowed(["GET"]));
    return answer(
      await hereNowAcrossChannels(url, edge.parties, async (channels) => {
        const refused = await authorizeRequest(request, url, { channels, banOf: banLookup(edge) }, config);
        return refused && fail(refused.status, refused.error, refused.message);
      }),
    );
  }
  if (url.pathname === "/users" || url.pathname === "/users/") {
    if (request.method !== "GET" && request.method !== "POST") return answer(methodNotAllowed(["GET", "POST"]));
    if (!config.directory) return answer(fail(404, "disabled", "the user directory is off (PRESENCE_DIRECTORY=off)"));
    const refused = await serverKeyRefusal();
    if (refused) return answer(refused);
    return answer(await usersAcrossParts(request, url, config.directoryParts, edge.parties));
  }
  if (url.pathname === "/webhooks" || url.pathname === "/webhooks/resend") {
    const resend = url.pathname === "/webhooks/resend";
    if (request.method !== (resend ? "POST" : "GET")) return answer(methodNotAllowed([resend ? "POST" : "GET"]));
    const refused = await serverKeyRefusal();
    if (refused) return answer(refused);
    if (!config.directory || config.directoryParts === 0) {
      return answer(fail(404, "not_found", "the directory's webhooks are per user room here; see each channel's ?webhooks"));
    }
    // The directory's own batches (user.online / user.offline), part by part; channels answer at ?webhooks.
    const parts = Array.from({ length: config.directoryParts }, (_, i) => `p${i}`);
    try {
      const answers = await Promise.all(
        parts.map(async (part) => [part, await (resend ? edge.parties.call(DIRECTORY_PARTY, part, "resend-webhooks", {}) : edge.parties.call(DIRECTORY_PARTY, part, "webhooks", {}))] as const),
      );
      return answer(ok({ parts: Object.fromEntries(answers) }));
    } catch (error) {
      return answer(fail(502, "internal", `the user directory failed: ${(error as Error).message}`));
    }
  }
  const action = userAction(url.pathname);
  if (action !== null) {
    const handlers: Partial<Record<string, UserActionHandler>> = USER_ACTIONS[action.name];
    const handler = handlers[request.method];
    if (handler === undefined) return answer(methodNotAllowed(Object.keys(handlers)));
    const refused = await serverKeyRefusal();
    if (refused) return answer(refused);
    // Not UTF-8 once decoded (a lone surrogate's bytes, a cut sequence): no user has that id.
    if (action.userId === null) return answer(fail(400, "bad_request", "bad user id in the path: it is not percent-encoded UTF-8"));
    return answer(await handler(request, action.userId, config, edge));
  }
  return answer(fail(404, "not_found", `no route ${url.pathname}; see GET /herenow, GET /users, POST /users/USERID/push or /parties/${CHANNEL_PARTY}/CHANNEL`));
}

/** One of the server's actions on a user, given the user id as it came in the path. */
type UserActionHandler = (request: Request, rawUserId: string, config: Config, edge: EdgeHost) => Promise<Response>;

/** The server's actions on one user (`/users/USERID/ACTION`, the server key), by action and method. */
const USER_ACTIONS: Record<"push" | "disconnect" | "ban", Partial<Record<string, UserActionHandler>>> = {
  push: { POST: (request, userId, config, edge) => pushToUser(request, userId, config, edge.parties) },
  disconnect: { POST: disconnectUser },
  ban: { GET: banRoute, DELETE: banRoute },
};

/** The action and user id in `/users/USERID/ACTION` (the id decoded, or null when it cannot be), or null for another path. */
function userAction(pathname: string): { name: keyof typeof USER_ACTIONS; userId: string | null } | null {
  const match = /^\/users\/([^/]+)\/(push|disconnect|ban)\/?$/.exec(pathname);
  if (!match) return null;
  const name = match[2] as keyof typeof USER_ACTIONS;
  try {
    return { name, userId: decodeURIComponent(match[1]!) };
  } catch {
    return { name, userId: null };
  }
}
