/**
 * HTTP clients: members without a socket (devices, bots, agents, a backend acting for a
 * user), kept alive by heartbeats with a TTL. (Part of the protocol: import it from
 * protocol/index.ts.)
 *
 * `PUT /parties/main/CHANNEL/clients/CLIENT_ID` creates or renews one, `DELETE` on the same
 * path removes it (a leave), `POST /parties/main/CHANNEL/clients` does up to 1,000 at once,
 * and `GET /parties/main/CHANNEL/clients` (server key) lists them.
 */
import { z } from "zod";
import { ChannelName, ClientType, JsonValue, UserId } from "./basics.ts";
import { Counts } from "./members.ts";
import { ErrorCode } from "./http.ts";
import { PushId } from "./users.ts";

/** An HTTP client's id, chosen by its owner (a device's serial, an agent's name): 1–64 letters, digits and `_-.:`. */
export const ClientId = z
  .string()
  .min(1, "client id is empty")
  .max(64, "client id is longer than 64 characters")
  .regex(/^[A-Za-z0-9_\-.:]+$/, "client id may only hold letters, digits and _-.:")
  .meta({ id: "ClientId" });

/** The most clients one `POST /parties/main/CHANNEL/clients` may carry. */
export const MAX_CLIENTS_PER_BATCH = 1000;

/** The most bytes of a batch's body (a larger one is refused with 413). */
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;

/** The most push acknowledgements one heartbeat may carry. */
export const MAX_ACKS_PER_HEARTBEAT = 100;

/** The shortest TTL an HTTP client may ask for (the longest is PRESENCE_MAX_CLIENT_TTL_MS). */
export const MIN_CLIENT_TTL_MS = 1000;

/** The clientType of an HTTP client that names none. */
export const DEFAULT_HTTP_CLIENT_TYPE = "device";

/**
 * One heartbeat of an HTTP client: creates it, or renews it for another `ttlMs`. Changed
 * `data` is an `update` of its member; absent `data` keeps what the member has.
 */
export const HttpClientHeartbeat = z
  .object({
    userId: UserId,
    /** The member's userData (at most PRESENCE_MAX_USER_DATA_BYTES); absent: unchanged. */
    data: JsonValue.optional(),
    /** Default `device`. A renewal may not change it. */
    clientType: ClientType.optional(),
    /** Without a renewal within this many ms the client expires and, if it was its user's last, the member goes offline at once. */
    ttlMs: z
      .number({ error: "ttlMs must be a number of milliseconds" })
      .int("ttlMs must be a whole number of milliseconds")
      .min(MIN_CLIENT_TTL_MS, `ttlMs must be at least ${MIN_CLIENT_TTL_MS}`),
    /** Ids of pushes this client handled, from earlier answers' `pushes`. */
    acks: z.array(PushId).max(MAX_ACKS_PER_HEARTBEAT, `at most ${MAX_ACKS_PER_HEARTBEAT} acks per heartbeat`).optional(),
  })
  .meta({ id: "HttpClientHeartbeat" });
export type HttpClientHeartbeat = z.infer<typeof HttpClientHeartbeat>;

/** `POST /parties/main/CHANNEL/clients`: heartbeats of many clients (a gateway reporting its devices). */
export const HttpClientBatch = z
  .object({
    clients: z
      .array(HttpClientHeartbeat.extend({ clientId: ClientId }))
      .min(1, "clients is empty")
      .max(MAX_CLIENTS_PER_BATCH, `at most ${MAX_CLIENTS_PER_BATCH} clients per request`),
  })
  .meta({ id: "HttpClientBatch" });
export type HttpClientBatch = z.infer<typeof HttpClientBatch>;

/** A push held for an HTTP client until it acknowledges it (or the push's time runs out). */
export const HeldPush = z
  .object({
    id: PushId,
    data: JsonValue,
    /** The channel it came through. */
    channel: ChannelName,
    /** The sending member, or null when the app server pushed it. */
    from: UserId.nullable(),
  })
  .meta({ id: "HeldPush" });
export type HeldPush = z.infer<typeof HeldPush>;

/** One HTTP client after its heartbeat. */
export const HttpClientState = z
  .object({
    clientId: ClientId,
    userId: UserId,
    clientType: ClientType,
    /** When it expires without another heartbeat (epoch ms). */
    expiresAt: z.number().int(),
    /** Pushes waiting for it: handle each (its id may repeat until acknowledged), then send its id in `acks`. */
    pushes: z.array(HeldPush),
  })
  .meta({ id: "HttpClientState" });
export type HttpClientState = z.infer<typeof HttpClientState>;

/** One client of a batch that was refused; the others were still applied. */
export const HttpClientRefusal = z
  .object({ clientId: ClientId, error: ErrorCode, message: z.string() })
  .meta({ id: "HttpClientRefusal" });
export type HttpClientRefusal = z.infer<typeof HttpClientRefusal>;

/** `PUT …/clients/CLIENT_ID`: the client, and the channel's counts. */
export const HttpClientResponse = z.object({ code: z.literal(200), content: HttpClientState.extend(Counts.shape) });
export type HttpClientResponse = z.infer<typeof HttpClientResponse>;

/** `POST …/clients`: each client in the order sent (its state, or why it was refused), and the channel's counts. */
export const HttpClientBatchResponse = z.object({
  code: z.literal(200),
  content: Counts.extend({ clients: z.array(z.union([HttpClientState, HttpClientRefusal])) }),
});
export type HttpClientBatchResponse = z.infer<typeof HttpClientBatchResponse>;

/** `DELETE …/clients/CLIENT_ID`: whether there was such a client, and the channel's counts. */
export const HttpClientRemovedResponse = z.object({
  code: z.literal(200),
  content: Counts.extend({ clientId: ClientId, removed: z.boolean() }),
});
export type HttpClientRemovedResponse = z.infer<typeof HttpClientRemovedResponse>;

/** An HTTP client as `GET …/clients` lists it. */
export const HttpClientListing = z
  .object({
    clientId: ClientId,
    userId: UserId,
    clientType: ClientType,
    ttlMs: z.number().int(),
    /** Its last heartbeat (epoch ms). */
    renewedAt: z.number().int(),
    expiresAt: z.number().int(),
    /** Pushes held for it. */
    pushes: z.number().int().nonnegative(),
  })
  .meta({ id: "HttpClientListing" });
export type HttpClientListing = z.infer<typeof HttpClientListing>;

/** `GET …/clients?limit=&cursor=` (server key): the channel's HTTP clients by id, a page at a time. */
export const HttpClientListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_CLIENTS_PER_BATCH).default(100),
  cursor: ClientId.optional(),
});
/** `GET …/clients`' answer: a page of the channel's HTTP clients, by id. */
export const HttpClientListResponse = z.object({
  code: z.literal(200),
  content: z.object({
    clients: z.array(HttpClientListing),
    /** More follow: pass as `cursor`. */
    cursor: ClientId.optional(),
  }),
});
export type HttpClientListResponse = z.infer<typeof HttpClientListResponse>;
