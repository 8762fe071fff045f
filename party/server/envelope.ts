/**
 * The HTTP envelope every route answers with (GoEasy's shape): `{code: 200, content}` on
 * success, `{code, error, message}` with the same HTTP status on failure; the one error type
 * the edge throws for a refusal (`HttpError`); and the CORS headers a browser's call gets.
 * Used by the channel room, the edge and every other party.
 */
import type { ErrorCode } from "../protocol/index.ts";

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
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

/**
 * A refused request, like hono's `HTTPException`: thrown where the refusal is decided, and
 * answered with the error envelope in one place, at the entry point (edge/answer.ts). `reason`
 * is what a channel room's stats count it under: its code unless a check names its stage.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: string;

  constructor(status: number, code: ErrorCode, message: string, options: { headers?: Record<string, string>; reason?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.reason = options.reason ?? code;
  }

  /** The error envelope, with this refusal's headers. */
  response(): Response {
    return fail(this.status, this.code, this.message, { ...this.headers });
  }
}

/** Awaits work that asks another part of the service; its failure becomes a 502 `internal` refusal saying `what` failed, and why. */
export async function or502<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new HttpError(502, "internal", `${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** The most of an unread body `releaseBody` reads before it gives up on the connection. */
const RELEASE_READ_BYTES = 1 << 20;

/**
 * Reads and drops the body of a request that was answered without reading it. Under wrangler
 * dev an unread body stalls the next request a client sends on that kept-alive connection,
 * and under partykit dev that request fails; cancelling the body is not enough, reading it is.
 * A body past 1 MiB is cancelled instead: a client that sends that much to a refusal can open
 * a new connection.
 */
export async function releaseBody(request: Request): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const reader = request.body.getReader();
  try {
    for (let read = 0; read <= RELEASE_READ_BYTES; ) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to release.
  }
}

/** The refusal of a request with a method a route does not take. */
export function notAllowed(allowed: string[]): HttpError {
  return new HttpError(405, "method_not_allowed", `use ${allowed.join(" or ")}`, { headers: { allow: allowed.join(", ") } });
}

/** The answer to a request with a method a route does not take (for routes that answer rather than throw). */
export function methodNotAllowed(allowed: string[]): Response {
  return notAllowed(allowed).response();
}

/** The answer to a CORS preflight (the allowed origin is added by `withCors`). */
export function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
      "access-control-allow-headers": "authorization, content-type",
      "access-control-max-age": "86400",
    },
  });
}

/**
 * The response with the CORS header a browser at `origin` needs: `*` when any origin may call
 * (`allowed` null), the origin itself when it is one of `allowed`, none otherwise.
 */
export function withCors(response: Response, origin: string | null, allowed: readonly string[] | null): Response {
  const value = allowed === null ? "*" : origin !== null && allowed.includes(origin) ? origin : null;
  if (value === null && allowed === null) return response;
  const headers = new Headers(response.headers);
  if (value !== null) headers.set("access-control-allow-origin", value);
  if (allowed !== null) headers.append("vary", "origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
