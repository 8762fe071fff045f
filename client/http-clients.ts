/**
 * HTTP clients over `fetch`: members without a socket (devices, bots, agents, a backend acting
 * for a user), kept alive by heartbeats with a TTL. Part of `partykit-presence/server` (with
 * the server key, for any user), and what the device helper (`partykit-presence/device`)
 * sends with a client token.
 */
import type { JsonValue } from "../party/wire/json.ts";
import type { HeldPush, HttpClientListing } from "../party/protocol/index.ts";
import {
  HttpClientBatchResponseDefs,
  HttpClientBatchResponseSchema,
  HttpClientListResponseDefs,
  HttpClientListResponseSchema,
  HttpClientRemovedResponseDefs,
  HttpClientRemovedResponseSchema,
  HttpClientResponseDefs,
  HttpClientResponseSchema,
} from "../party/wire/schemas.generated.ts";
import { type PresenceApiOptions, requestJson } from "./http.ts";

/** One heartbeat: who the client is for, how long it lives without another, what it acknowledges. */
export type HttpClientInput = {
  userId: string;
  /** The member's userData; absent: unchanged. */
  data?: JsonValue;
  /** Default "device". */
  clientType?: string;
  /** It expires this long after this heartbeat without another (1,000 ms to PRESENCE_MAX_CLIENT_TTL_MS). */
  ttlMs: number;
  /** Ids of pushes it handled, from earlier answers. */
  acks?: string[];
};

/** A client after its heartbeat, with the channel's counts. */
export type HttpClientAnswer = {
  clientId: string;
  userId: string;
  clientType: string;
  /** When it expires without another heartbeat (epoch ms). */
  expiresAt: number;
  /** Pushes waiting for it: handle each, then acknowledge its id in a later heartbeat. */
  pushes: HeldPush[];
  clientAmount: number;
  userAmount: number;
};

/** A batch's answer: each client in the order sent (its state, or why it alone was refused), and the channel's counts. */
export type HttpClientBatchAnswer = {
  clients: Array<Omit<HttpClientAnswer, "clientAmount" | "userAmount"> | { clientId: string; error: string; message: string }>;
  clientAmount: number;
  userAmount: number;
};

/** The HTTP client calls. */
export type HttpClientsApi = {
  /** Creates or renews one client in a channel (`PUT /parties/main/CHANNEL/clients/CLIENT_ID`). */
  heartbeat(channel: string, clientId: string, heartbeat: HttpClientInput): Promise<HttpClientAnswer>;
  /** Up to 1,000 clients of one channel at once (a gateway reporting its devices). */
  heartbeatMany(channel: string, clients: ReadonlyArray<HttpClientInput & { clientId: string }>): Promise<HttpClientBatchAnswer>;
  /** Removes a client: its member leaves unless it has other clients there. `removed` is false for an unknown id. */
  removeClient(channel: string, clientId: string): Promise<{ clientId: string; removed: boolean; clientAmount: number; userAmount: number }>;
  /** A channel's HTTP clients by id, a page at a time (the server key only). */
  clients(channel: string, page?: { limit?: number; cursor?: string }): Promise<{ clients: HttpClientListing[]; cursor?: string }>;
};

/** The HTTP client calls for these options (`token`: a client token instead of the server key, for one user's own clients). */
export function httpClientsApi(options: PresenceApiOptions & { token?: () => Promise<string> | string }): HttpClientsApi {
  const party = options.party ?? "main";
  const path = (channel: string, clientId?: string) => `/parties/${party}/${encodeURIComponent(channel)}/clients${clientId === undefined ? "" : `/${encodeURIComponent(clientId)}`}`;
  const init = async (method: string, body?: unknown): Promise<RequestInit> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (options.token !== undefined) headers.authorization = `Bearer ${await options.token()}`;
    return body === undefined ? { method, headers } : { method, headers, body: JSON.stringify(body) };
  };
  return {
    async heartbeat(channel, clientId, heartbeat) {
      const body = await requestJson<{ content: HttpClientAnswer }>(options, path(channel, clientId), [HttpClientResponseSchema, HttpClientResponseDefs], await init("PUT", heartbeat));
      return body.content;
    },
    async heartbeatMany(channel, clients) {
      const body = await requestJson<{ content: HttpClientBatchAnswer }>(options, path(channel), [HttpClientBatchResponseSchema, HttpClientBatchResponseDefs], await init("POST", { clients }));
      return body.content;
    },
    async removeClient(channel, clientId) {
      const body = await requestJson<{ content: { clientId: string; removed: boolean; clientAmount: number; userAmount: number } }>(
        options,
        path(channel, clientId),
        [HttpClientRemovedResponseSchema, HttpClientRemovedResponseDefs],
        await init("DELETE"),
      );
      return body.content;
    },
    async clients(channel, page = {}) {
      const query = new URLSearchParams();
      if (page.limit !== undefined) query.set("limit", String(page.limit));
      if (page.cursor !== undefined) query.set("cursor", page.cursor);
      const suffix = query.size > 0 ? `?${query}` : "";
      const body = await requestJson<{ content: { clients: HttpClientListing[]; cursor?: string } }>(
        options,
        path(channel) + suffix,
        [HttpClientListResponseSchema, HttpClientListResponseDefs],
        await init("GET"),
      );
      return body.content;
    },
  };
}
