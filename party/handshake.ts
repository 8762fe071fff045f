/**
 * Validation of a WebSocket connect's channel and query, shared by the room (before the
 * upgrade) and the client (before it dials), so both refuse the same input with the same words.
 */
import { z } from "zod";
import { ChannelName, ConnectQuery, type JsonValue, userDataProblem } from "./protocol.ts";

/** A connect that passed validation. */
export type Handshake = {
  connectionId: string | undefined;
  userId: string | null;
  userData: JsonValue;
  clientType: string | undefined;
};

/** The result of validating a connect: the handshake, or the sentence that says what is wrong. */
export type HandshakeResult = { ok: true; value: Handshake } | { ok: false; message: string };

/** Checks a channel name; returns the problem, or null. */
export function channelProblem(channel: string): string | null {
  const parsed = ChannelName.safeParse(channel);
  return parsed.success ? null : `bad channel name ${JSON.stringify(channel.slice(0, 140))}: ${parsed.error.issues[0]?.message}`;
}

/** Validates `?userId=…&userData=…&clientType=…&_pk=…` (userData is URL-encoded JSON); other parameters are ignored. */
export function parseHandshake(params: URLSearchParams, maxUserDataBytes: number): HandshakeResult {
  const raw: Record<string, string> = {};
  for (const key of ["userId", "userData", "clientType", "_pk"] as const) {
    const all = params.getAll(key);
    if (all.length > 1) return { ok: false, message: `${key} is given ${all.length} times` };
    if (all[0] !== undefined) raw[key] = all[0];
  }
  const query = ConnectQuery.safeParse(raw);
  if (!query.success) return { ok: false, message: z.prettifyError(query.error) };
  const { userId, userData: dataText, clientType, _pk: connectionId } = query.data;

  let userData: JsonValue = null;
  if (dataText !== undefined) {
    if (userId === undefined) return { ok: false, message: "userData needs a userId (observers have no userData)" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(dataText);
    } catch {
      return { ok: false, message: "userData is not valid JSON" };
    }
    const problem = userDataProblem(parsed, maxUserDataBytes);
    if (problem) return { ok: false, message: problem.message };
    // Keep the value as parsed: zod's copy drops "__proto__" keys, and userData is the user's.
    userData = parsed as JsonValue;
  }
  return { ok: true, value: { connectionId, userId: userId ?? null, userData, clientType } };
}
