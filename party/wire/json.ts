/**
 * JSON values as the service carries them (userData, push payloads): one deep-equal, the
 * depth and size checks, and the userData rule. No zod here: the client bundles this file.
 */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Deepest nesting of arrays and objects accepted in any message or userData. */
export const MAX_JSON_DEPTH = 32;

/** Default cap on the JSON text of one user's userData, in bytes (UTF-8). */
export const DEFAULT_MAX_USER_DATA_BYTES = 4096;

/** True if a parsed JSON value nests deeper than `max` (checked without recursion). */
export function exceedsDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

const encoder = new TextEncoder();

/** The UTF-8 size of a string, in bytes. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

/** Deep equality of two JSON values (key order ignored): the one rule for "did the data change". */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** What is wrong with a value offered as userData or a payload. */
export type JsonProblem = { code: "too_large" | "bad_message"; message: string };

/**
 * Checks a value as received (not a copy: `__proto__` keys must survive): depth, size of its
 * JSON text, and that it is JSON at all (it survives a JSON round trip unchanged, so no
 * `undefined`, functions, NaN or dates). `what` names it in the message. Returns the problem, or null.
 */
export function jsonProblem(value: unknown, maxBytes: number, what = "userData"): JsonProblem | null {
  const bad = (message: string): JsonProblem => ({ code: "bad_message", message });
  if (exceedsDepth(value)) return bad(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return bad(`${what} is not a JSON value (it holds a cycle or a BigInt)`);
  }
  if (text === undefined) return bad(`${what} is not a JSON value`);
  if (utf8Bytes(text) > maxBytes) return { code: "too_large", message: `${what} is larger than ${maxBytes} bytes of JSON` };
  if (!jsonEqual(value, JSON.parse(text))) return bad(`${what} is not a JSON value (undefined, a function, NaN or an object that JSON changes)`);
  return null;
}

/** `jsonProblem` for userData, with its default cap. */
export function userDataProblem(value: unknown, maxBytes: number = DEFAULT_MAX_USER_DATA_BYTES): JsonProblem | null {
  return jsonProblem(value, maxBytes, "userData");
}
