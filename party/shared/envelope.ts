/**
 * The HTTP envelope every route answers with (GoEasy's shape): `{code: 200, content}` on
 * success, `{code, error, message}` with the same HTTP status on failure. Used by the room
 * channel room, the edge and every other party.
 */
import type { ErrorCode } from "./protocol.ts";

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "access-control-allow-origin": "*",
  "cache-control": "no-store",
};

/** A 200 answer with `content` in the envelope. */
export function ok(content: unknown): Response {
  return new Response(JSON.stringify({ code: 200, content }), { status: 200, headers: JSON_HEADERS });
}

/** An error answer: the status, a stable code and a sentence for humans. Never a stack. */
export function fail(status: number, error: ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ code: status, error, message }), {
    status,
    headers: { ...JSON_HEADERS, ...headers },
  });
}

/** The answer to a request with a method a route does not take. */
export function methodNotAllowed(allowed: string[]): Response {
  return fail(405, "method_not_allowed", `use ${allowed.join(" or ")}`, { allow: allowed.join(", ") });
}

/** The answer to a CORS preflight. */
export function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, OPTIONS",
      "access-control-max-age": "86400",
    },
  });
}
