/**
 * The edge's operator routes: `/dashboard` (to the static page at `/dashboard/`),
 * `GET /admin` (open or not; no credentials needed), `POST /admin/token` (a short-lived admin token for the dashboard) and `GET /channels`
 * (the channel index's shards, merged: most members first). Answers null for any other path.
 */
import { z } from "zod";
import type { Parties } from "../server/calls.ts";
import type { Config } from "../server/config.ts";
import { HttpError, notAllowed, ok } from "../server/envelope.ts";
import type { AdminInfo, AdminSession } from "../protocol/index.ts";
import { authorizeRequest } from "./access.ts";
import { adminOpen, mintAdminToken, verifyAdminToken } from "./admin.ts";
import { listChannels } from "./index-shards.ts";

/** `GET /channels?q=&limit=`: names containing q (default all), at most limit (default 1000). */
const ChannelsQuery = z.object({
  q: z.string().max(128).default(""),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/** Answers an operator route (a refusal is thrown), or null when the path is not one. */
export async function adminRoute(request: Request, url: URL, config: Config, parties: Parties): Promise<Response | null> {
  const path = url.pathname;
  if (path === "/dashboard") return new Response(null, { status: 308, headers: { location: `/dashboard/${url.search}` } });
  if (path === "/admin") {
    if (request.method !== "GET") throw notAllowed(["GET"]);
    return ok({ open: adminOpen(config), auth: config.auth !== null, serverKey: config.serverKey !== null } satisfies AdminInfo);
  }
  if (path !== "/admin/token" && path !== "/channels" && path !== "/channels/") return null;
  const method = path === "/admin/token" ? "POST" : "GET";
  if (request.method !== method) throw notAllowed([method]);
  if (path === "/admin/token") return adminToken(request, url, config);
  await authorizeRequest(request, url, { serverKey: true }, config);
  const query = ChannelsQuery.safeParse({ q: url.searchParams.get("q") ?? undefined, limit: url.searchParams.get("limit") ?? undefined });
  if (!query.success) throw new HttpError(400, "bad_request", z.prettifyError(query.error));
  return ok(await listChannels(parties, config.indexShards, query.data));
}

/** `POST /admin/token`: open (development), or a fresh admin token for the server key; an admin token gets itself back (no endless renewal). */
async function adminToken(request: Request, url: URL, config: Config): Promise<Response> {
  const auth = config.auth !== null;
  if (adminOpen(config)) return ok({ open: true, auth, token: null, expiresAt: null } satisfies AdminSession);
  await authorizeRequest(request, url, { serverKey: true }, config);
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim() ?? "";
  const until = await verifyAdminToken(bearer, config);
  if (until !== null) return ok({ open: false, auth, token: bearer, expiresAt: until } satisfies AdminSession);
  const minted = await mintAdminToken(config);
  // authorizeRequest let the call through, so a server key is set and minted is not null.
  return ok({ open: false, auth, token: minted!.token, expiresAt: minted!.expiresAt } satisfies AdminSession);
}
