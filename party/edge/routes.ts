/**
 * The worker's own routes, outside any room: `/herenow` across channels, `/users`, pushes,
 * disconnects, bans, webhooks, `/metrics`, the operator's routes; everything else is a 404. A refusal is
 * thrown wherever it is decided and answered once, by `answer` (answer.ts).
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import { HttpError, notAllowed, ok, or502, preflight } from "../server/envelope.ts";
import type { EdgeHost } from "../server/host.ts";
import { configOr500 } from "../server/room.ts";
import { UserId } from "../protocol/index.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";
import { adminRoute } from "./admin-routes.ts";
import { appkeyOpens, authorizeRequest, checkOrigin } from "./access.ts";
import { answer } from "./answer.ts";
import { hereNowAcrossChannels } from "./herenow.ts";
import { banLookup, banRoute } from "./bans.ts";
import { disconnectUser } from "./disconnect.ts";
import { metricsResponse } from "./metrics.ts";
import { pushToUser } from "./push.ts";
import { usersAcrossParts } from "./users.ts";

/** Answers a request to the worker that no room's URL matched. */
export async function edgeFetch(request: Request, edge: EdgeHost): Promise<Response> {
  return answer(request, async (reply) => {
    const config = configOr500(edge.env);
    reply.cors(config.allowedOrigins);
    if (request.method === "OPTIONS") return preflight();
    checkOrigin(request, config);
    return route(request, new URL(request.url), config, edge);
  });
}

/** The route a path names, for a caller from an allowed origin. */
async function route(request: Request, url: URL, config: Config, edge: EdgeHost): Promise<Response> {
  const serverKey = () => authorizeRequest(request, url, { serverKey: true }, config);
  const admin = await adminRoute(request, url, config, edge.parties);
  if (admin) return admin;
  if (url.pathname === "/herenow" || url.pathname === "/herenow/") {
    if (request.method !== "GET") throw notAllowed(["GET"]);
    return hereNowAcrossChannels(url, edge.parties, async (channels) => {
      if (!(await appkeyOpens(url, config))) await authorizeRequest(request, url, { channels, banOf: banLookup(edge) }, config);
    });
  }
  if (url.pathname === "/users" || url.pathname === "/users/") {
    if (request.method !== "GET" && request.method !== "POST") throw notAllowed(["GET", "POST"]);
    if (!config.directory) throw new HttpError(404, "disabled", "the user directory is off (PRESENCE_DIRECTORY=off)");
    await serverKey();
    return usersAcrossParts(request, url, config.directoryParts, edge.parties);
  }
  if (url.pathname === "/metrics") {
    if (request.method !== "GET") throw notAllowed(["GET"]);
    await serverKey();
    return metricsResponse(edge.parties, config.indexShards);
  }
  if (url.pathname === "/webhooks" || url.pathname === "/webhooks/resend") {
    const resend = url.pathname === "/webhooks/resend";
    if (request.method !== (resend ? "POST" : "GET")) throw notAllowed([resend ? "POST" : "GET"]);
    await serverKey();
    if (!config.directory || config.directoryParts === 0) {
      throw new HttpError(404, "not_found", "the directory's webhooks are per user room here; see each channel's ?webhooks");
    }
    // The directory's own batches (user.online / user.offline), part by part; channels answer at ?webhooks.
    const parts = Array.from({ length: config.directoryParts }, (_, i) => `p${i}`);
    const answers = await or502(
      "the user directory failed",
      Promise.all(
        parts.map(async (part) => [part, await (resend ? edge.parties.call(DIRECTORY_PARTY, part, "resend-webhooks", {}) : edge.parties.call(DIRECTORY_PARTY, part, "webhooks", {}))] as const),
      ),
    );
    return ok({ parts: Object.fromEntries(answers) });
  }
  const action = userAction(url.pathname);
  if (action !== null) {
    const handlers: Partial<Record<string, UserActionHandler>> = USER_ACTIONS[action.name];
    const handler = handlers[request.method];
    if (handler === undefined) throw notAllowed(Object.keys(handlers));
    await serverKey();
    // Not UTF-8 once decoded (a lone surrogate's bytes, a cut sequence): no user has that id.
    if (action.userId === null) throw new HttpError(400, "bad_request", "bad user id in the path: it is not percent-encoded UTF-8");
    const userId = UserId.safeParse(action.userId);
    if (!userId.success) throw new HttpError(400, "bad_request", `bad user id in the path: ${z.prettifyError(userId.error)}`);
    return handler(request, userId.data, config, edge);
  }
  throw new HttpError(404, "not_found", `no route ${url.pathname}; see GET /herenow, GET /users, POST /users/USERID/push or /parties/${CHANNEL_PARTY}/CHANNEL`);
}

/** One of the server's actions on a user, given the user id of the path, checked; a refusal is thrown. */
type UserActionHandler = (request: Request, userId: string, config: Config, edge: EdgeHost) => Promise<Response>;

/** The server's actions on one user (`/users/USERID/ACTION`, the server key), by action and method. */
const USER_ACTIONS: Record<"push" | "disconnect" | "ban", Partial<Record<string, UserActionHandler>>> = {
  push: { POST: (request, userId, config, edge) => pushToUser(request, userId, config, edge) },
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
