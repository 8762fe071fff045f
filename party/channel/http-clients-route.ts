/**
 * The HTTP side of HTTP clients (`PUT`/`DELETE …/clients/CLIENT_ID`, `POST …/clients` for up to
 * 1,000, `GET …/clients` to list them): the caller the edge checked, the path's client id, the
 * body read within its cap and checked against its schema, once, here. The core's `Heartbeats`
 * applies them; its rows are stored before the answer goes out.
 */
import { z } from "zod";
import { fail, methodNotAllowed, ok } from "../server/envelope.ts";
import { readCaller } from "../server/hand-off.ts";
import { ClientId, HttpClientBatch, HttpClientHeartbeat, HttpClientListQuery, MAX_BATCH_BODY_BYTES, MAX_CLIENTS_PER_BATCH } from "../protocol/index.ts";
import { type JsonValue, utf8Bytes } from "../wire/json.ts";
import type { Effect } from "./effects.ts";
import type { Answer, Beat, Refusal } from "./heartbeats.ts";
import type { RouteRoom } from "./routes.ts";

/** Most bytes of one heartbeat's body beyond its data. */
const BODY_OVERHEAD_BYTES = 8 * 1024;

/** Answers a request to `…/clients` (`rawClientId` null) or `…/clients/CLIENT_ID` (as sent, maybe percent-encoded). */
export async function answerHttpClients(request: Request, rawClientId: string | null, room: RouteRoom): Promise<Response> {
  const caller = readCaller(request);
  if (caller === null) return fail(403, "forbidden", "this route is reached through the edge only");
  const core = room.core;
  const now = room.host.now();
  const refuse = (refusal: Refusal) => respond(core.httpClients(now, (heartbeats) => heartbeats.refused(refusal)));
  /** Applies the core's effects (its rows first), then answers. */
  const respond = async <T>({ answer, effects }: { answer: Answer<T>; effects: readonly Effect[] }): Promise<Response> => {
    await room.effects.apply(effects);
    return answer.ok ? ok(answer.value) : fail(answer.status, answer.error, answer.message);
  };
  if (rawClientId === null) {
    if (request.method === "GET") {
      const query = HttpClientListQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      if (!query.success) return refuse({ status: 400, error: "bad_request", message: z.prettifyError(query.error) });
      return respond(core.httpClients(now, (heartbeats) => heartbeats.list(query.data.limit, query.data.cursor, caller)));
    }
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const read = await readBody(request, MAX_BATCH_BODY_BYTES);
    if ("status" in read) return refuse(read);
    const batch = HttpClientBatch.safeParse(read.value);
    if (!batch.success) {
      return refuse({ status: 400, error: "bad_request", message: `a batch is {clients: [{clientId, userId, ttlMs, data?, clientType?, acks?}, …]} (at most ${MAX_CLIENTS_PER_BATCH}): ${z.prettifyError(batch.error)}` });
    }
    const raw = (read.value as { clients: Array<{ data?: JsonValue }> }).clients;
    const beats: Beat[] = batch.data.clients.map(({ clientId, ...body }, i) => ({ clientId, body, data: raw[i]!.data }));
    return respond(core.httpClients(now, (heartbeats) => heartbeats.batch(beats, caller, now)));
  }
  const clientId = ClientId.safeParse(decodeOr(rawClientId));
  if (!clientId.success) return refuse({ status: 400, error: "bad_request", message: `bad client id in the path: ${z.prettifyError(clientId.error)}` });
  if (request.method === "DELETE") return respond(core.httpClients(now, (heartbeats) => heartbeats.remove(clientId.data, caller, now)));
  if (request.method !== "PUT") return methodNotAllowed(["PUT", "DELETE"]);
  const read = await readBody(request, core.config.maxUserDataBytes + BODY_OVERHEAD_BYTES);
  if ("status" in read) return refuse(read);
  const body = HttpClientHeartbeat.safeParse(read.value);
  if (!body.success) return refuse({ status: 400, error: "bad_request", message: `a heartbeat is {userId, ttlMs, data?, clientType?, acks?}: ${z.prettifyError(body.error)}` });
  // The data as sent (zod's copy drops "__proto__" keys).
  const beat: Beat = { clientId: clientId.data, body: body.data, data: (read.value as { data?: JsonValue }).data };
  return respond(core.httpClients(room.host.now(), (heartbeats) => heartbeats.one(beat, caller, room.host.now())));
}

/** The body as JSON, within `maxBytes`; a refusal for a larger, empty or malformed one. */
async function readBody(request: Request, maxBytes: number): Promise<{ value: unknown } | Refusal> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge: Refusal = { status: 413, error: "too_large", message: `the body is larger than ${maxBytes} bytes` };
  if (declared > maxBytes) return tooLarge;
  const text = await request.text();
  if (utf8Bytes(text) > maxBytes) return tooLarge;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { status: 400, error: "bad_request", message: "the body is not JSON" };
  }
}

function decodeOr(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
