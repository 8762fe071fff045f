/**
 * The HTTP side of the service, for servers (and for the client's multi-channel herenow):
 * herenow for one or many channels, and a room's stats. Uses only `fetch`.
 */
import { ErrorResponse, HereNowResponse, type HereNowOptions, StatsResponse, type RoomStats } from "../party/protocol.ts";

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
  /** The party name (default "main"). */
  party?: string;
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

/** The server-side API. */
export type PresenceApi = {
  /** herenow for one or many channels (at most 100), in one request. */
  hereNow(request: HereNowOptions & { channels: string[] }): Promise<HereNowResult>;
  /** A room's counters of refused connections, rejected messages and closes. */
  stats(channel: string): Promise<RoomStats>;
};

/** Makes the server-side API for a host. */
export function createPresenceApi(options: PresenceApiOptions): PresenceApi {
  return {
    hereNow: (request) => fetchHereNow(options, request),
    async stats(channel) {
      const party = options.party ?? "main";
      const body = await getJson(options, `/parties/${party}/${channel}?stats`);
      return StatsResponse.parse(body).content;
    },
  };
}

/** `GET /herenow?channel=…` for the given channels. */
export async function fetchHereNow(
  options: PresenceApiOptions,
  request: HereNowOptions & { channels: string[] },
): Promise<HereNowResult> {
  const query = new URLSearchParams();
  for (const channel of request.channels) query.append("channel", channel);
  query.set("includeUsers", String(request.includeUsers ?? false));
  query.set("distinct", String(request.distinct ?? false));
  return HereNowResponse.parse(await getJson(options, `/herenow?${query}`));
}

async function getJson(options: PresenceApiOptions, path: string): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(`${baseUrl(options)}${path}`);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PresenceHttpError(response.status, "bad_response", text.slice(0, 200));
  }
  if (!response.ok) {
    const error = ErrorResponse.safeParse(body);
    throw error.success
      ? new PresenceHttpError(error.data.code, error.data.error, error.data.message)
      : new PresenceHttpError(response.status, "bad_response", text.slice(0, 200));
  }
  return body;
}

function baseUrl(options: PresenceApiOptions): string {
  const host = options.host.replace(/^(https?|wss?):\/\//, "").replace(/\/$/, "");
  const local = /^(localhost|127\.|\[::1\]|10\.|192\.168\.)/.test(host);
  const protocol = options.protocol ?? (local ? "http" : "https");
  return `${protocol}://${host}`;
}
