/** Reads a frame from the room for the `PresenceClient`: parsed and checked against the generated schema here, once, before the core sees it. */
import { check } from "../party/wire/check.ts";
import { ServerMessageDefs, ServerMessageSchema } from "../party/wire/schemas.generated.ts";
import type { ServerMessage } from "../party/protocol/index.ts";

/** The room's message in a frame; an unreadable one is logged and dropped (null). */
export function readServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== "string") return null;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    console.error("presence: a frame from the room is not JSON");
    return null;
  }
  const problem = check(ServerMessageSchema, raw, ServerMessageDefs);
  if (problem) {
    console.error(`presence: unreadable message from the room: ${problem}`);
    return null;
  }
  // Kept as parsed: `__proto__` keys in userData stay plain data.
  return raw as ServerMessage;
}
