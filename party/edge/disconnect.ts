/**
 * `POST /users/USERID/disconnect` with `{reason?, channel?, banSeconds?}` (the server key):
 * closes every client of the user at once, in every channel (or the one named), without
 * grace; with `banSeconds` the user is banned first (edge/bans.ts), so it cannot come back. With the
 * directory on, the user's directory part knows its channels and coordinates; with it off,
 * the request must name the channel and the edge asks that room.
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import type { EdgeHost } from "../server/host.ts";
import { HttpError, ok, or502 } from "../server/envelope.ts";
import { kickEverywhere } from "../server/kicks.ts";
import { partOf } from "../server/parts.ts";
import { DisconnectRequest, type Kick, MAX_BANS } from "../protocol/index.ts";
import { DIRECTORY_PARTY } from "../wire/parties.ts";
import { banUser } from "./bans.ts";

/** What the sockets are told when the request gives no reason. */
const DEFAULT_REASON = "disconnected by the operator";

/** Answers a disconnect: checks it, records the ban if it asks for one, hands it to its coordinator, and passes on what was closed. */
export async function disconnectUser(request: Request, userId: string, config: Config, edge: EdgeHost): Promise<Response> {
  const { parties } = edge;
  const text = await request.text();
  let raw: unknown = {};
  try {
    if (text.trim() !== "") raw = JSON.parse(text);
  } catch {
    throw new HttpError(400, "bad_request", "the body is not JSON");
  }
  const body = DisconnectRequest.safeParse(raw);
  if (!body.success) throw new HttpError(400, "bad_request", `a disconnect is {reason?, channel?, banSeconds?}: ${z.prettifyError(body.error)}`);
  const kick: Kick = { userId, reason: body.data.reason ?? DEFAULT_REASON };
  if (body.data.channel !== undefined) kick.channel = body.data.channel;
  if (!config.directory && kick.channel === undefined) throw new HttpError(400, "bad_request", "with the user directory off (PRESENCE_DIRECTORY=off) a disconnect must name its channel");
  let bannedUntil: number | undefined;
  if (body.data.banSeconds !== undefined) {
    // The ban first: a client kicked below cannot get back in before it holds.
    const now = edge.now();
    const ban = await or502(
      "the ban could not be recorded, nothing was closed",
      banUser({ userId: kick.userId, until: now + body.data.banSeconds * 1000, reason: body.data.reason ?? "", bannedAt: now }, edge),
    );
    if (ban === null) throw new HttpError(409, "conflict", `the ban list is full (${MAX_BANS} bans in force): lift some first`);
    bannedUntil = ban.until;
  }
  const banned = bannedUntil === undefined ? "" : ` (the ban is recorded, until ${new Date(bannedUntil).toISOString()})`;
  const closed = await or502(
    `the disconnect could not be run${banned}`,
    config.directory
      ? parties.call(DIRECTORY_PARTY, partOf(kick.userId, config.directoryParts), "disconnect", kick)
      : kickEverywhere(parties, kick, [kick.channel!]),
  );
  return ok(bannedUntil === undefined ? closed : { ...closed, bannedUntil });
}
