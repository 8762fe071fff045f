/**
 * `POST /users/USERID/push` with `{data, id?, channel?, clientType?, timeoutMs?}`: reaches every
 * live client of the user (or those in `channel` / of `clientType`) and answers which
 * acknowledged. With the directory on, the user's directory part runs it (it knows the user's
 * channels); with it off, the named channel's room does.
 */
import { z } from "zod";
import type { Config } from "../shared/config.ts";
import { fail, ok } from "../shared/envelope.ts";
import { jsonProblem } from "../shared/json.ts";
import { PushRequest, PushResult, UserId } from "../shared/protocol.ts";
import { DEFAULT_PUSH_TIMEOUT_MS } from "../shared/pushes.ts";

/** The internal request to the push's coordinator, and where it goes. */
export type PushCoordinator = (to: { party: "directory" | "channel"; userId: string; channel?: string }, body: unknown) => Promise<Response>;

/** The user id in `/users/USERID/push`, or null for another path. */
export function pushPath(pathname: string): string | null {
  const match = /^\/users\/([^/]+)\/push\/?$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return "";
  }
}

/** Answers a push request: checks it, hands it to its coordinator, and passes the answer on once it comes. */
export async function pushToUser(request: Request, rawUserId: string, config: Config, coordinate: PushCoordinator): Promise<Response> {
  const userId = UserId.safeParse(rawUserId);
  if (!userId.success) return fail(400, "bad_request", `bad user id in the path: ${z.prettifyError(userId.error)}`);
  const raw: unknown = await request.json().catch(() => undefined);
  const body = PushRequest.safeParse(raw);
  if (!body.success) return fail(400, "bad_request", `a push is {data, id?, channel?, clientType?, timeoutMs?}: ${z.prettifyError(body.error)}`);
  // The data as sent (zod's copy drops "__proto__" keys).
  const push = { ...body.data, data: (raw as { data: typeof body.data.data }).data };
  const problem = jsonProblem(push.data, config.maxPushBytes, "push data");
  if (problem) return fail(problem.code === "too_large" ? 413 : 400, problem.code === "too_large" ? "too_large" : "bad_request", problem.message);
  const timeoutMs = push.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  if (timeoutMs > config.maxPushTimeoutMs) return fail(400, "bad_request", `timeoutMs is over ${config.maxPushTimeoutMs} (PRESENCE_MAX_PUSH_TIMEOUT_MS)`);
  if (!config.directory && push.channel === undefined) {
    return fail(400, "bad_request", "with the user directory off (PRESENCE_DIRECTORY=off) a push must name its channel");
  }
  const to = config.directory ? { party: "directory" as const, userId: userId.data } : { party: "channel" as const, userId: userId.data, channel: push.channel! };
  const response = await coordinate(to, { kind: "push", userId: userId.data, request: push, timeoutMs });
  const answer = (await response.json().catch(() => null)) as { content?: unknown } | null;
  const result = PushResult.safeParse(answer?.content);
  if (!response.ok || !result.success) return fail(502, "internal", `the push could not be run (its coordinator answered ${response.status})`);
  return ok(result.data);
}
