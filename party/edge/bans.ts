/**
 * Bans at the edge: the routes that make, read and lift them (`banSeconds` of a disconnect,
 * `GET`/`DELETE /users/USERID/ban`, the server key), and the lookups that keep a banned user
 * out of connects, HTTP clients and token-checked requests, against the isolate's copy of the
 * list (server/ban-cache.ts), so a check costs no request. Writes and the operator's read go
 * to the root (`index/all`); the copy is read from the isolate's ban replica (`index/bans-N`).
 * A ban holds at once in the isolate that made it, in every other within 6 s
 * (BAN_SPREAD_MS); the user's open clients are closed by the disconnect itself, at once.
 */
import type { BanSource } from "../server/ban-cache.ts";
import { type Config, readConfig } from "../server/config.ts";
import { ok, or502 } from "../server/envelope.ts";
import type { Caller } from "../server/hand-off.ts";
import type { EdgeHost } from "../server/host.ts";
import { type Ban, MAX_BATCH_BODY_BYTES } from "../protocol/index.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";

/** Records a ban in the root (`index/all`, stored), then in this isolate's copy; null when the list is full. */
export async function banUser(ban: Ban, edge: Pick<EdgeHost, "parties" | "bans">): Promise<Ban | null> {
  const { accepted } = await edge.parties.call(INDEX_PARTY, INDEX_ROOM, "ban", ban);
  if (!accepted) return null;
  edge.bans.remember(ban);
  return ban;
}

/** `GET /users/USERID/ban` (read it) and `DELETE /users/USERID/ban` (lift it). */
export async function banRoute(request: Request, userId: string, _config: Config, edge: Pick<EdgeHost, "parties" | "bans">): Promise<Response> {
  const { parties } = edge;
  const unreachable = "the ban list could not be reached";
  if (request.method === "DELETE") {
    const lifted = await or502(unreachable, parties.call(INDEX_PARTY, INDEX_ROOM, "unban", { userId }));
    edge.bans.forget(userId);
    return ok(lifted);
  }
  // Read from the root itself, not the isolate's copy or a replica: the operator sees what is in force.
  const { bans } = await or502(unreachable, parties.call(INDEX_PARTY, INDEX_ROOM, "bans", {}));
  const ban = bans.find((held) => held.userId === userId);
  return ok(ban ? { userId, banned: true, ban } : { userId, banned: false });
}

/** Where the isolate's copy reads the list: its ban replica among PRESENCE_BAN_REPLICAS (one when the settings are bad: the edge refuses those before any check). */
export function banSource(edge: Pick<EdgeHost, "parties" | "bans" | "env">): BanSource {
  const settings = readConfig(edge.env);
  return { parties: edge.parties, room: edge.bans.replicaOf(settings.ok ? settings.config.banReplicas : 1) };
}

/** A user's ban in force, from the isolate's copy: what a token check asks (access.ts `Need`). */
export function banLookup(edge: Pick<EdgeHost, "parties" | "bans" | "env">): (userId: string) => Promise<Ban | null> {
  return (userId) => edge.bans.banOf(userId, banSource(edge));
}

/** The bans in force of these users, from the isolate's copy. */
export async function bansOf(userIds: Iterable<string>, edge: Pick<EdgeHost, "parties" | "bans" | "env">): Promise<Ban[]> {
  const found: Ban[] = [];
  const source = banSource(edge);
  for (const userId of new Set(userIds)) {
    const ban = await edge.bans.banOf(userId, source);
    if (ban) found.push(ban);
  }
  return found;
}

/**
 * The bans in force among the users an HTTP client request names: its token's user, or, for the
 * server's requests, the users its heartbeats name, read from a copy of the body only while some
 * ban is in force (otherwise the room alone reads it).
 */
export async function httpClientBans(request: Request, caller: Caller, edge: Pick<EdgeHost, "parties" | "bans" | "env">): Promise<Ban[]> {
  if (caller.kind === "user") return bansOf([caller.userId], edge);
  if (!(await edge.bans.any(banSource(edge)))) return [];
  return bansOf(await heartbeatUserIds(request), edge);
}

/**
 * The user ids an HTTP client heartbeat (`PUT …/clients/ID`) or batch (`POST …/clients`) names,
 * read from a copy of its body; none for another method or a body that is not such JSON (the
 * room refuses that one itself).
 */
async function heartbeatUserIds(request: Request): Promise<string[]> {
  if (request.method !== "PUT" && request.method !== "POST") return [];
  // The room refuses a body this large (413) without applying a heartbeat of it.
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BATCH_BODY_BYTES) return [];
  const body = (await request.clone().json().catch(() => null)) as { userId?: unknown; clients?: unknown } | null;
  if (body === null || typeof body !== "object") return [];
  const beats = request.method === "PUT" ? [body] : Array.isArray(body.clients) ? (body.clients as Array<{ userId?: unknown } | null>) : [];
  return beats.flatMap((beat) => (beat !== null && typeof beat === "object" && typeof beat.userId === "string" ? [beat.userId] : []));
}
