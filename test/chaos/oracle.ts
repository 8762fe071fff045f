/**
 * The fuzz tests' oracle, written from the protocol's rules (docs/protocol.md, README's
 * limits) and not by calling the code under test: what the room must answer to a frame,
 * and whether the edge must accept a connect query. Where these rules and the room disagree,
 * the fuzz fails; the room's decoder and handshake are checked against hand-written answers
 * in test/unit/frames.test.ts and test/unit/handshake.test.ts as well.
 */

/** Deepest nesting of arrays and objects a message may have (README: limits). */
export const MAX_DEPTH = 32;

/** What the protocol says of one frame: an error with its code, or a valid message of a type. */
export type FrameVerdict =
  | { ok: false; code: string; parsed: boolean }
  | { ok: true; type: string; message: Record<string, any> };

/** The client message types the protocol defines, each with the rule for its fields. */
const FIELDS: Record<string, (m: Record<string, unknown>) => boolean> = {
  ping: () => true,
  sync: () => true,
  leave: () => true,
  update: (m) => has(m, "data") && jsonValue(m.data),
  herenow: (m) =>
    string(m.id, 1, 64) &&
    optional(m.includeUsers, boolean) &&
    optional(m.distinct, boolean) &&
    optional(m.limit, (v) => integer(v, 1, 1000)) &&
    optional(m.cursor, (v) => string(v, 1, 128)),
  ack: (m) => pushId(m.id) && boolean(m.ok) && optional(m.error, (v) => string(v, 0, 200)),
  push: (m) => pushId(m.id) && string(m.userId, 1, 128) && has(m, "data") && jsonValue(m.data) && optional(m.timeoutMs, (v) => integer(v, 1, Infinity)),
  window: (m) => integer(m.limit, 0, 100),
  watch: (m) => Array.isArray(m.userIds) && m.userIds.length <= 1000 && m.userIds.every((id) => string(id, 1, 128)),
};

/** The message types the oracle knows (the fuzz checks they are the protocol's). */
export const ORACLE_TYPES = Object.keys(FIELDS);

/**
 * The verdict on a frame as the room receives it (`text` null for a binary frame): binary is
 * refused; then the size cap on the UTF-8 bytes; then JSON; then nesting; then an unknown or
 * missing `type`; then the fields of a known type (extra fields are ignored); then, for
 * `update`, the userData cap (a well-formed message refused for what it asks: `parsed`).
 */
export function frameVerdict(text: string | null, limits: { maxMessageBytes: number; maxUserDataBytes: number }): FrameVerdict {
  const refuse = (code: string, parsed = false): FrameVerdict => ({ ok: false, code, parsed });
  if (text === null) return refuse("binary_not_supported");
  if (new TextEncoder().encode(text).byteLength > limits.maxMessageBytes) return refuse("too_large");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse("bad_message");
  }
  if (depth(json) > MAX_DEPTH) return refuse("bad_message");
  if (!isObject(json)) return refuse("unknown_message");
  const type = Object.hasOwn(json, "type") ? json.type : undefined;
  if (typeof type !== "string" || !Object.hasOwn(FIELDS, type)) return refuse("unknown_message");
  if (!FIELDS[type]!(json)) return refuse("bad_message");
  if (type === "update" && new TextEncoder().encode(JSON.stringify(json.data)).byteLength > limits.maxUserDataBytes) return refuse("too_large", true);
  return { ok: true, type, message: json };
}

/** What the protocol says of a connect query: accepted as this user with this data, or refused naming what is wrong. */
export type HandshakeVerdict = { ok: true; userId: string | null; userData: unknown } | { ok: false; names: string[] };

/**
 * The verdict on a connect query (`userId`, `userData` as URL-encoded JSON, `clientType`):
 * each at most once; userId 1–128 characters; clientType 1–32 of letters, digits and `_-.`;
 * userData only with a userId, valid JSON (finite numbers), at most 32 levels deep and 4096
 * bytes of JSON.
 * A refusal lists the parameters whose problem it may name.
 */
export function handshakeVerdict(params: URLSearchParams, maxUserDataBytes: number): HandshakeVerdict {
  const names: string[] = [];
  const one = (key: string): string | undefined => {
    const all = params.getAll(key);
    if (all.length > 1) names.push(key);
    return all[0];
  };
  const userId = one("userId");
  const userData = one("userData");
  const clientType = one("clientType");
  if (userId !== undefined && !(codePoints(userId, 1, 128) && !FORBIDDEN_IN_USER_ID.test(userId) && !loneSurrogate(userId))) names.push("userId");
  if (clientType !== undefined && !(string(clientType, 1, 32) && /^[A-Za-z0-9_.-]+$/.test(clientType))) names.push("clientType");
  let data: unknown = null;
  if (userData !== undefined) {
    if (userId === undefined) names.push("userData");
    else {
      try {
        data = JSON.parse(userData);
        if (!jsonValue(data) || depth(data) > MAX_DEPTH || new TextEncoder().encode(JSON.stringify(data)).byteLength > maxUserDataBytes) names.push("userData");
      } catch {
        names.push("userData");
      }
    }
  }
  return names.length > 0 ? { ok: false, names } : { ok: true, userId: userId ?? null, userData: data };
}

/** How many arrays and objects nest in a value (a scalar: 0; `[]`: 1). */
export function depth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, level] = stack.pop()!;
    if (typeof item !== "object" || item === null) {
      deepest = Math.max(deepest, level);
      continue;
    }
    deepest = Math.max(deepest, level + 1);
    for (const child of Object.values(item)) stack.push([child, level + 1]);
  }
  return deepest;
}

/**
 * A JSON value that survives a round trip: JSON text can spell numbers no double holds
 * (`1e400` parses to Infinity, which JSON cannot carry back), and such data is refused.
 */
function jsonValue(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "number" && !Number.isFinite(item)) return false;
    if (typeof item === "object" && item !== null) stack.push(...Object.values(item));
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function has(message: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(message, key);
}

function optional(value: unknown, rule: (value: unknown) => boolean): boolean {
  return value === undefined || rule(value);
}

function boolean(value: unknown): boolean {
  return typeof value === "boolean";
}

/** A string of `min` to `max` UTF-16 code units (what JavaScript and zod count). */
/**
 * What docs/protocol.md#identifiers refuses in a userId, written from the doc: C0 and C1
 * controls and DEL, the line and paragraph separators, bidi embedding, override and isolate
 * controls (a surrogate without its pair is `loneSurrogate`'s).
 */
const FORBIDDEN_IN_USER_ID = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Whether a string holds a UTF-16 surrogate without its pair. */
function loneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return true;
  }
  return false;
}

/** A string of `min` to `max` characters, counted as code points (an emoji is one), as the doc says. */
function codePoints(value: string, min: number, max: number): boolean {
  const length = [...value].length;
  return length >= min && length <= max;
}

function string(value: unknown, min: number, max: number): value is string {
  return typeof value === "string" && value.length >= min && value.length <= max;
}

function integer(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** A push id: 1–128 letters, digits and `_-.:`. */
function pushId(value: unknown): boolean {
  return string(value, 1, 128) && /^[A-Za-z0-9_\-.:]+$/.test(value);
}
