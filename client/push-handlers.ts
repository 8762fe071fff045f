/** Runs the app's push handlers for the `PresenceClient` (user code, so outside the pure core): the answer to a new push. */
import type { JsonValue } from "../party/wire/json.ts";
import type { PushAnswer, PushHandler, PushInfo } from "./push-inbox.ts";

/** Runs every handler; ok once all returned (or resolved), negative with the first error, or when there is none. */
export async function runPushHandlers(handlers: ReadonlySet<PushHandler>, data: JsonValue, info: PushInfo): Promise<PushAnswer> {
  if (handlers.size === 0) return { ok: false, error: "no push handler on this client" };
  try {
    await Promise.all([...handlers].map((handler) => handler(data, info)));
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error instanceof Error ? error.message : error).slice(0, 200) };
  }
}
