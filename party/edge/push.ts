/**
 * `POST /users/USERID/push` with `{data, id?, channel?, clientType?, timeoutMs?}`: reaches every
 * live client of the user (or those in `channel` / of `clientType`) and answers which
 * acknowledged. The edge makes the `Push` (its id and deadline fixed here) and hands it to its
 * coordinator: with the directory on, the user's directory part (it knows the user's
 * channels); with it off, the named channel's room.
 */
import { z } from "zod";
import type { Config } from "../server/config.ts";
import type { Parties } from "../server/calls.ts";
import { fail, ok } from "../server/envelope.ts";
import { partOf } from "../server/parts.ts";
import { DEFAULT_PUSH_TIMEOUT_MS, pushOf } from "../server/pushes.ts";
import { PushRequest, UserId } from "../protocol/index.ts";
import { jsonProblem } from "../wire/json.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY } from "../wire/parties.ts";

/** Answers a push request: checks it, hands it to its coordinator, and passes the answer on once it comes. */
export async function pushToUser(request: Request, rawUserId: string, config: Config, parties: Parties): Promise<Response> {
  const userId = UserId.safeParse(rawUserId);
  if (!userId.success) return fail(400, "bad_request", `bad user id in the path: ${z.prettifyError(userId.error)}`);
  const raw: unknown = await request.json().catch(() => undefined);
  const body = PushRequest.safeParse(raw);
  if (!body.success) return fail(400, "bad_request", `a push is {data, id?, channel?, clientType?, timeoutMs?}: ${z.prettifyError(body.error)}`);
  // The data as sent (zod's copy drops "__proto__" keys).
  const asked = { ...body.data, data: (raw as { data: typeof body.data.data }).data };
  const problem = jsonProblem(asked.data, config.maxPushBytes, "push data");
  if (problem) return fail(problem.code === "too_large" ? 413 : 400, problem.code === "too_large" ? "too_large" : "bad_request", problem.message);
  const timeoutMs = asked.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  if (timeoutMs > config.maxPushTimeoutMs) return fail(400, "bad_request", `timeoutMs is over ${config.maxPushTimeoutMs} (PRESENCE_MAX_PUSH_TIMEOUT_MS)`);
  if (!config.directory && asked.channel === undefined) {
    return fail(400, "bad_request", "with the user directory off (PRESENCE_DIRECTORY=off) a push must name its channel");
  }
  const push = pushOf(userId.data, asked, null, timeoutMs);
  try {
    const result = config.directory
      ? await parties.call(DIRECTORY_PARTY, partOf(push.userId, config.directoryParts), "push", push)
      : await parties.call(CHANNEL_PARTY, push.channel!, "push", push);
    return ok(result);
  } catch (error) {
    return fail(502, "internal", `the push could not be run: ${(error as Error).message}`);
  }
}
