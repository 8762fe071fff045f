/**
 * What the bench's floors do, whatever the engine: the do-nothing floor's made-up herenow page,
 * the sending floor's counts message and the naive room's messages. Used by bench/empty-room.ts,
 * bench/counts-room.ts and bench/naive-room.ts (PartyKit) and their twins in bench/workers/ (partyserver).
 */

/** The most users one made-up page holds (ours: herenow's largest page). */
const MAX_PAGE = 1000;
const pages = new Map<number, unknown[]>();

/** The do-nothing floor's herenow answer for `channel`: no one, or with `?includeUsers=true&limit=P` a made-up page of P users shaped like ours, built once. */
export function floorHereNow(channel: string, params: URLSearchParams): Response {
  const limit = Math.min(MAX_PAGE, Math.max(0, Number(params.get("limit") ?? MAX_PAGE) || 0));
  let users = pages.get(limit);
  if (!users) pages.set(limit, (users = Array.from({ length: limit }, (_, i) => ({ id: `u${i}`, data: { name: `User ${i}` } }))));
  const entry = { channel, clientAmount: 0, userAmount: 0, clientTypes: {}, users: params.get("includeUsers") === "true" ? users : [] };
  return Response.json({ code: 200, content: { channels: { [channel]: entry } } });
}

/** Ours' default PRESENCE_INTERVAL_MS: the sending floor sends the counts at most once per interval. */
export const COUNTS_INTERVAL_MS = 1000;

/** One counts message, in the bench client's terms (`userAmount`, one socket per user). */
export const countsText = (sockets: number) => `{"type":"counts","userAmount":${sockets},"clientAmount":${sockets}}`;

/** The sending floor's count of open sockets, and what it last sent: the tick sends the count when it changed. */
export class SocketCount {
  sockets = 0;
  #sent = 0;
  #timer: ReturnType<typeof setInterval> | null = null;

  /** A socket joined: its first message is the count, and the tick starts if it is not running. */
  joined(send: (text: string) => void, everyone: () => Iterable<{ send(text: string): void }>): void {
    this.sockets++;
    send(countsText(this.sockets));
    this.#timer ??= setInterval(() => this.#tick(everyone), COUNTS_INTERVAL_MS);
  }

  left(): void {
    this.sockets--;
  }

  /** Sends every socket the count, if it changed since the last tick; stops when the room is empty. */
  #tick(everyone: () => Iterable<{ send(text: string): void }>): void {
    if (this.sockets === this.#sent) {
      if (this.sockets === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
      return;
    }
    this.#sent = this.sockets;
    const text = countsText(this.sockets);
    for (const socket of everyone()) socket.send(text);
  }
}

/** What the naive room keeps of a member, in its socket's state. */
export type NaiveState = { id: string; data: unknown };

/** The naive room, server → client: `{type:"list",members}` to the joiner, then `{type:"join",id,data}`, `{type:"update",id,data}` and `{type:"leave",id}`. */
export type NaiveMessage =
  | { type: "list"; members: NaiveState[] }
  | { type: "join"; id: string; data: unknown }
  | { type: "update"; id: string; data: unknown }
  | { type: "leave"; id: string };

/** The `data` of an `update` message, or undefined for anything else. */
export function naiveUpdate(message: unknown): { data: unknown } | undefined {
  if (typeof message !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === "object" && parsed !== null && (parsed as { type?: unknown }).type === "update") return { data: (parsed as { data?: unknown }).data ?? null };
  } catch {
    // not JSON: ignored
  }
  return undefined;
}
