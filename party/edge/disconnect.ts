/**
 * `POST /users/USERID/disconnect` with `{reason?, channel?}` (the server key): closes every
 * client of the user at once, in every channel (or the one named), without grace. With the
 * directory on, the user's directory part knows its channels and coordinates; with it off,
 * the request must name the channel and the edge asks that room.
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import type { Parties } from "../server/calls.ts";
import { fail, ok } from "../server/envelope.ts";
import { kickEverywhere } from "../server/kicks.ts";
import { partOf } from "../server/parts.ts";
import { DisconnectRequest, type Kick, UserId } from "../protocol/index.ts";
import { DIRECTORY_PARTY } from "../wire/parties.ts";

/** What the sockets are told when the request gives no reason. */
const DEFAULT_REASON = "disconnected by the operator";

/** Answers a disconnect: checks it, hands it to its coordinator, and passes on what was closed. */
export async function disconnectUser(request: Request, rawUserId: string, config: Config, parties: Parties): Promise<Response> {
  const userId = UserId.safeParse(rawUserId);
  if (!userId.success) return fail(400, "bad_request", `bad user id in the path: ${z.prettifyError(userId.error)}`);
  const text = await request.text();
  let raw: unknown = {};
  try {
    if (text.trim() !== "") raw = JSON.parse(text);
  } catch {
    return fail(400, "bad_request", "the body is not JSON");
  }
  const body = DisconnectRequest.safeParse(raw);
  if (!body.success) return fail(400, "bad_request", `a disconnect is {reason?, channel?}: ${z.prettifyError(body.error)}`);
  const kick: Kick = { userId: userId.data, reason: body.data.reason ?? DEFAULT_REASON };
  if (body.data.channel !== undefined) kick.channel = body.data.channel;
  try {
    if (config.directory) return ok(await parties.call(DIRECTORY_PARTY, partOf(kick.userId, config.directoryParts), "disconnect", kick));
    if (kick.channel === undefined) return fail(400, "bad_request", "with the user directory off (PRESENCE_DIRECTORY=off) a disconnect must name its channel");
    return ok(await kickEverywhere(parties, kick, [kick.channel]));
  } catch (error) {
    return fail(502, "internal", `the disconnect could not be run: ${(error as Error).message}`);
  }
}
