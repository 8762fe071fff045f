/**
 * HTTP to the service with `fetch` only: the base URL, one request helper that checks the
 * answer against its generated schema and turns the error envelope into a `PresenceHttpError`,
 * and herenow across channels (which the client uses too).
 */
import { check, type Defs, type Schema } from "../party/wire/check.ts";
import type { HereNowOptions, HereNowResponse } from "../party/protocol/index.ts";
import { ErrorResponseDefs, ErrorResponseSchema, HereNowResponseDefs, HereNowResponseSchema } from "../party/wire/schemas.generated.ts";

/** herenow's answer in GoEasy's shape. */
export type HereNowResult = HereNowResponse;

/** Where the service is. */
export type PresenceApiOptions = {
  /** "localhost:1999" or "my-app.user.partykit.dev" (a scheme is allowed). */
  host: string;
  /** "http"/"https"; by default http for localhost and private addresses, https otherwise. */
  protocol?: "http" | "https" | undefined;
  /** A `fetch` to use (default: the global one). */
  fetch?: typeof fetch | undefined;
  /** The channel party's name (default "main"). */
  party?: string | undefined;
  /** The service's PRESENCE_SERVER_KEY, sent as `Authorization: Bearer` (server side only: never ship it to browsers). */
  serverKey?: string | undefined;
};

/** An HTTP answer from the service that was not a success; `code` is the HTTP status. */
export class PresenceHttpError extends Error {
  constructor(
    readonly code: number,
    readonly error: string,
    message: string,
  ) {
    super(`${code} ${error}: ${message}`);
    this.name = "PresenceHttpError";
  }
}

/** Sends a request and returns the success envelope, checked against `schema` (with its definitions); throws `PresenceHttpError` otherwise. */
export async function requestJson<T>(options: PresenceApiOptions, path: string, [schema, defs]: [Schema, Defs], init: RequestInit = {}): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  const headers = new Headers(init.headers);
  if (options.serverKey !== undefined) headers.set("authorization", `Bearer ${options.serverKey}`);
  const response = await doFetch(`${baseUrl(options)}${path}`, { ...init, headers });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PresenceHttpError(response.status, "bad_response", text.slice(0, 200));
  }
  if (!response.ok) {
    if (check(ErrorResponseSchema, body, ErrorResponseDefs) === null) {
      const error = body as { code: number; error: string; message: string };
      throw new PresenceHttpError(error.code, error.error, error.message);
    }
    throw new PresenceHttpError(response.status, "bad_response", text.slice(0, 200));
  }
  const problem = check(schema, body, defs);
  if (problem) throw new PresenceHttpError(response.status, "bad_response", `unexpected answer: ${problem}`);
  return body as T;
}

/** `GET /herenow?channel=…` for the given channels; with a client token when the service has auth on. */
export function fetchHereNow(options: PresenceApiOptions, request: HereNowOptions & { channels: string[]; token?: string | undefined }): Promise<HereNowResult> {
  const query = new URLSearchParams();
  for (const channel of request.channels) query.append("channel", channel);
  if (request.includeUsers) query.set("includeUsers", "true");
  if (request.distinct) query.set("distinct", "true");
  if (request.limit !== undefined) query.set("limit", String(request.limit));
  if (request.cursor !== undefined) query.set("cursor", request.cursor);
  if (request.token !== undefined) query.set("token", request.token);
  return requestJson<HereNowResult>(options, `/herenow?${query}`, [HereNowResponseSchema, HereNowResponseDefs]);
}

/** The service's base URL, `http(s)://host`. */
export function baseUrl(options: Pick<PresenceApiOptions, "host" | "protocol">): string {
  const host = options.host.replace(/^(https?|wss?):\/\//, "").replace(/\/$/, "");
  const local = /^(localhost|127\.|\[::1\]|10\.|192\.168\.)/.test(host);
  const protocol = options.protocol ?? (local ? "http" : "https");
  return `${protocol}://${host}`;
}
