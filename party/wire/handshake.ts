/**
 * A WebSocket connect: its validation, shared by the edge (before the upgrade) and the client
 * (before it dials), so both refuse the same input with the same words. (The hand-off of the
 * accepted handshake from the edge to the room is server code: server/hand-off.ts.)
 */
import { check } from "./check.ts";
import { type JsonValue, userDataProblem } from "./json.ts";
import { MAX_WINDOW } from "./limits.ts";
import { ChannelNameDefs, ChannelNameSchema, ConnectQueryDefs, ConnectQuerySchema } from "./schemas.generated.ts";

/** A connect that passed validation. */
export type Handshake = {
  /** partysocket's `_pk`: the connection id, reused across reconnects. Absent: PartyKit makes one. */
  connectionId: string | undefined;
  /** null: an observer. */
  userId: string | null;
  userData: JsonValue;
  clientType: string | undefined;
  /** Interval mode: how many members, first by userId, it follows. */
  window: number;
};

/** The result of validating a connect: the handshake, or the sentence that says what is wrong. */
export type HandshakeResult = { ok: true; value: Handshake } | { ok: false; message: string };

/** Checks a channel name; returns the problem, or null. */
export function channelProblem(channel: string): string | null {
  const problem = check(ChannelNameSchema, channel, ChannelNameDefs);
  return problem === null ? null : `bad channel name ${JSON.stringify(channel.slice(0, 140))}: ${problem}`;
}

/** Validates `?userId=…&userData=…&clientType=…&_pk=…&window=…` (userData is URL-encoded JSON); other parameters are ignored. */
export function parseHandshake(params: URLSearchParams, maxUserDataBytes: number): HandshakeResult {
  const raw: Record<string, string> = {};
  for (const key of ["userId", "userData", "clientType", "_pk", "window"] as const) {
    const all = params.getAll(key);
    if (all.length > 1) return { ok: false, message: `${key} is given ${all.length} times` };
    if (all[0] !== undefined) raw[key] = all[0];
  }
  const problem = check(ConnectQuerySchema, raw, ConnectQueryDefs);
  if (problem) return { ok: false, message: problem };
  const { userId, userData: dataText, clientType, _pk: connectionId } = raw;
  const window = Number(raw.window ?? 0);
  if (window > MAX_WINDOW) return { ok: false, message: `window is at most ${MAX_WINDOW} members` };

  let userData: JsonValue = null;
  if (dataText !== undefined) {
    if (userId === undefined) return { ok: false, message: "userData needs a userId (observers have no userData)" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(dataText);
    } catch {
      return { ok: false, message: "userData is not valid JSON" };
    }
    const dataProblem = userDataProblem(parsed, maxUserDataBytes);
    if (dataProblem) return { ok: false, message: dataProblem.message };
    userData = parsed as JsonValue;
  }
  return { ok: true, value: { connectionId, userId: userId ?? null, userData, clientType, window } };
}
