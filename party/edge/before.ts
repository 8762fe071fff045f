/**
 * The worker's checks before any room is touched: a bad channel name, a misconfigured
 * service or a bad handshake is answered here (400 / 500) and never reaches a room; a good
 * connect is passed on with its validated handshake (see `forwardHandshake`).
 */
import type * as Party from "partykit/server";
import { readConfig } from "../shared/config.ts";
import { fail } from "../shared/envelope.ts";
import { channelProblem, forwardHandshake, parseHandshake } from "../shared/handshake.ts";
import { CHANNEL_PARTY, INTERNAL_HEADER } from "../shared/parties.ts";

/** The reason a refused handshake is counted under in the room's stats. */
export const BAD_HANDSHAKE = "bad_handshake";

/** `onBeforeConnect` of the channel party. */
export function beforeConnect(request: Party.Request, lobby: Party.Lobby, ctx: Party.ExecutionContext): Response | Party.Request {
  const problem = channelProblem(lobby.id);
  if (problem) return fail(400, "bad_request", problem);
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  const handshake = parseHandshake(new URL(request.url).searchParams, settings.config.maxUserDataBytes);
  if (!handshake.ok) {
    // Count it in the room's stats without delaying the answer.
    ctx.waitUntil(countRefusal(lobby, BAD_HANDSHAKE));
    return fail(400, "bad_request", `refused: ${handshake.message}`);
  }
  return forwardHandshake(request as unknown as Request, handshake.value) as unknown as Party.Request;
}

/** `onBeforeRequest` of the channel party: a bad name, a misconfigured service, or a forged internal request. */
export function beforeRequest(request: Party.Request, lobby: Party.Lobby): Response | Party.Request {
  const problem = channelProblem(lobby.id);
  if (problem) return fail(400, "bad_request", problem);
  if (request.headers.has(INTERNAL_HEADER)) return fail(403, "bad_request", `${INTERNAL_HEADER} is for the service's own use`);
  const settings = readConfig(lobby.env);
  if (!settings.ok) return fail(500, "misconfigured", settings.message);
  return request;
}

/** Tells a room to count a connect the edge refused. */
async function countRefusal(lobby: Party.Lobby, reason: string): Promise<void> {
  try {
    await lobby.parties[CHANNEL_PARTY]!.get(lobby.id).fetch({
      method: "POST",
      headers: { [INTERNAL_HEADER]: "count-refusal", "content-type": "text/plain" },
      body: reason,
    });
  } catch {
    // Counting is best effort; the refusal itself was answered.
  }
}
