/**
 * Calls between the service's own parties, typed by the call table in protocol/calls.ts. The
 * caller names a party, a room, a call and its arguments, and gets the checked reply; this
 * module owns the internal header, the body, the envelope and the reply's check, so nobody
 * builds such a request or unwraps its answer by hand. The receiving room answers with
 * `answerCall`, one handler per call. Used by the adapters (which supply `RoomFetch`), the
 * rooms and the edge.
 */
import { z } from "zod";
import { fail, HttpError, ok } from "./envelope.ts";
import { type CallArgs, type CallName, type CallReply, Calls, type CallSpec, type PartyName } from "../protocol/calls.ts";

/** Marks the service's own requests between its parties; the edge answers 403 when a client sends it. */
export const INTERNAL_HEADER = "x-presence-internal";

/** The body of a call on the wire. */
type CallBody = { call: string; args: unknown };

/** Sends one internal request to a room of a party, or null when the engine cannot reach the parties now. */
export type RoomFetch = (party: PartyName, room: string, init: RequestInit) => Promise<Response> | null;

/** A call that failed: no answer, an error status, or a reply that is not what the table says. */
export class CallError extends Error {
  /** The HTTP status the room answered, or 0 when there was no answer. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "CallError";
    this.status = status;
  }
}

/** The other parties, as a room or the edge reaches them. */
export interface Parties {
  /**
   * Whether calls can go out now. Always true but on PartyKit inside an alarm, and in a room an
   * alarm woke until a request or message arrives (the engine gives no way out before):
   * work that needs a call waits until then (`RoomService.reachable`).
   */
  readonly reachable: boolean;
  /** Calls `name` on `room` of `party`; rejects with a `CallError` (status 0 when unreachable). */
  call<P extends PartyName, K extends CallName<P>>(party: P, room: string, name: K, args: CallArgs<P, K>): Promise<CallReply<P, K>>;
}

/** The `Parties` of an engine, from its way to send a request to a room. */
export function partiesOver(fetchRoom: RoomFetch, reachable: () => boolean = () => true): Parties {
  return {
    get reachable() {
      return reachable();
    },
    async call(party, room, name, args) {
      const sent = fetchRoom(party, room, {
        method: "POST",
        headers: { [INTERNAL_HEADER]: "1", "content-type": "application/json" },
        body: JSON.stringify({ call: name, args } satisfies CallBody),
      });
      if (sent === null) throw new CallError(0, `${party}/${room} cannot be reached from here yet`);
      let response: Response;
      try {
        response = await sent;
      } catch (error) {
        throw new CallError(0, `${party}/${room}: ${(error as Error).message}`);
      }
      const body = (await response.json().catch(() => null)) as { content?: unknown; message?: unknown } | null;
      if (!response.ok) throw new CallError(response.status, `${party}/${room} answered ${response.status}${typeof body?.message === "string" ? `: ${body.message}` : ""}`);
      const spec = (Calls[party] as Record<string, CallSpec>)[name as string]!;
      const reply = spec.reply.safeParse(body?.content);
      if (!reply.success) throw new CallError(502, `${party}/${room} answered ${String(name)} with ${z.prettifyError(reply.error).replace(/\s*\n\s*/g, " ")}`);
      // Checked, and passed on as sent: zod's copy would drop `__proto__` keys of user data.
      return body!.content as never;
    },
  };
}

/** Whether a request is a call from another part of the service (the edge refuses the header from outside). */
export function isCall(request: Request): boolean {
  return request.method === "POST" && request.headers.has(INTERNAL_HEADER);
}

/** One handler per call a party takes: the checked arguments in, the reply out. */
export type CallHandlers<P extends PartyName> = {
  [K in CallName<P>]: (args: CallArgs<P, K>) => CallReply<P, K> | Promise<CallReply<P, K>>;
};

/** Answers a call to a room of `party`: checks it against the table and hands it to its handler; a bad one gets 400, and an `HttpError` the handler throws its status. */
export async function answerCall<P extends PartyName>(party: P, request: Request, handlers: CallHandlers<P>): Promise<Response> {
  const body = (await request.json().catch(() => null)) as Partial<CallBody> | null;
  const name = typeof body?.call === "string" ? body.call : "";
  const spec = Object.hasOwn(Calls[party], name) ? (Calls[party] as Record<string, CallSpec>)[name]! : undefined;
  if (!spec) return fail(400, "bad_request", `${party} takes the calls ${Object.keys(Calls[party]).join(", ")}, not ${JSON.stringify(name)}`);
  const args = spec.args.safeParse(body?.args);
  if (!args.success) return fail(400, "bad_request", `${name}: ${z.prettifyError(args.error)}`);
  const handler = handlers[name as CallName<P>] as (args: unknown) => unknown;
  try {
    // Checked, and handed on as sent (see above); the table's schemas have no defaults or transforms.
    return ok(await handler(body!.args));
  } catch (error) {
    if (error instanceof HttpError) return fail(error.status, error.code, error.message);
    throw error;
  }
}
