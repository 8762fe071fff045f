/**
 * Decodes one frame from a client into a `ClientMessage`, or says which error the protocol
 * names for it. Pure: the channel room calls it for every frame, and the fuzz test's oracle
 * calls the same function.
 */
import { z } from "zod";
import { exceedsDepth, type JsonValue, MAX_JSON_DEPTH, userDataProblem, utf8Bytes } from "../wire/json.ts";
import { ClientMessage, type ErrorCode, type ParsedClientMessage } from "../protocol/index.ts";

/** The size limits a frame is checked against. */
export type FrameLimits = { maxMessageBytes: number; maxUserDataBytes: number };

/**
 * A decoded frame, or the refusal: `parsed` says whether the frame was a well-formed message
 * (so it ends a run of rejections) that was refused for what it asks (oversized userData).
 */
export type Decoded =
  | { ok: true; message: ParsedClientMessage }
  | { ok: false; code: ErrorCode; message: string; parsed: boolean };

const TYPES = ClientMessage.options.map((option) => option.shape.type.value) as string[];

/** Decodes a text or binary frame. An `update` keeps its data as sent (zod's copy drops `__proto__` keys). */
export function decodeFrame(frame: string | ArrayBuffer | ArrayBufferView, limits: FrameLimits): Decoded {
  const refuse = (code: ErrorCode, message: string, parsed = false): Decoded => ({ ok: false, code, message, parsed });
  if (typeof frame !== "string") return refuse("binary_not_supported", "send JSON text frames, not binary");
  // A UTF-16 unit takes at most 3 UTF-8 bytes: only a frame near the cap needs encoding.
  if (frame.length * 3 > limits.maxMessageBytes && utf8Bytes(frame) > limits.maxMessageBytes) {
    return refuse("too_large", `message is larger than ${limits.maxMessageBytes} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return refuse("bad_message", "message is not valid JSON");
  }
  if (exceedsDepth(json)) return refuse("bad_message", `message nests deeper than ${MAX_JSON_DEPTH} levels`);
  const parsed = ClientMessage.safeParse(json);
  if (!parsed.success) {
    const type = (json as { type?: unknown } | null)?.type;
    return TYPES.includes(type as string)
      ? refuse("bad_message", z.prettifyError(parsed.error))
      : refuse("unknown_message", `unknown message type; expected one of ${TYPES.join(", ")}`);
  }
  const message = parsed.data;
  if (message.type === "update") {
    const data = (json as { data: JsonValue }).data;
    const problem = userDataProblem(data, limits.maxUserDataBytes);
    if (problem) return refuse(problem.code, problem.message, true);
    return { ok: true, message: { type: "update", data } };
  }
  return { ok: true, message };
}
