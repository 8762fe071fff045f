/**
 * `POST /users/USERID/push` with `{data, id?, channel?, clientType?, timeoutMs?}`: reaches every
 * live client of the user (or those in `channel` / of `clientType`) and answers which
 * acknowledged. The edge makes the `Push` (its id and deadline fixed here) and hands it to its
 * coordinator: with the directory on, the user's directory part (it knows the user's
 * channels); with it off, the named channel's room.
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import { HttpError, ok, or502 } from "../server/envelope.ts";
import { partOf } from "../server/parts.ts";
import { DEFAULT_PUSH_TIMEOUT_MS, pushOf } from "../server/pushes.ts";
import { PushRequest } from "../protocol/index.ts";
import { jsonProblem } from "../wire/json.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";
import type { EdgeHost } from "../server/host.ts";

/** Answers a push request: checks it, hands it to its coordinator, and passes the answer on once it comes. */
export async function pushToUser(request: Request, userId: string, config: Config, edge: Pick<EdgeHost, "parties" | "now">): Promise<Response> {
  const { parties } = edge;
  const raw: unknown = await request.json().catch(() => undefined);
  const body = PushRequest.safeParse(raw);
  if (!body.success) throw new HttpError(400, "bad_request", `a push is {data, id?, channel?, clientType?, timeoutMs?}: ${z.prettifyError(body.error)}`);
  // The data as sent (zod's copy drops "__proto__" keys).
  const asked = { ...body.data, data: (raw as { data: typeof body.data.data }).data };
  const problem = jsonProblem(asked.data, config.maxPushBytes, "push data");
  if (problem) throw problem.code === "too_large" ? new HttpError(413, "too_large", problem.message) : new HttpError(400, "bad_request", problem.message);
  const timeoutMs = asked.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  if (timeoutMs > config.maxPushTimeoutMs) throw new HttpError(400, "bad_request", `timeoutMs is over ${config.maxPushTimeoutMs} (PRESENCE_MAX_PUSH_TIMEOUT_MS)`);
  if (!config.directory && asked.channel === undefined) {
    throw new HttpError(400, "bad_request", "with the user directory off (PRESENCE_DIRECTORY=off) a push must name its channel");
  }
  const push = pushOf(userId, asked, null, timeoutMs, edge.now());
  const result = await or502(
    "the push could not be run",
    config.directory ? parties.call(DIRECTORY_PARTY, partOf(push.userId, config.directoryParts), "push", push) : parties.call(CHANNEL_PARTY, push.channel!, "push", push),
  );
  return ok(result);
}
