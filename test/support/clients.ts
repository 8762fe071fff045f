/** Helpers the integration tests share: fresh channel names, clients over `ws`, raw sockets, polling. */
import WebSocket from "ws";
import { PresenceClient, type PresenceClientOptions } from "../../client/index.ts";
import { ServerMessage } from "../../party/protocol/index.ts";
import { type ReadMessage, WireReader } from "./messages.ts";

let counter = 0;

/** A channel name no other test uses. */
export function freshChannel(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** A PresenceClient on Node, over the `ws` package. */
export function presenceClient(host: string, options: Omit<PresenceClientOptions, "host">): PresenceClient {
  return new PresenceClient({ host, WebSocket, minReconnectionDelay: 100, maxReconnectionDelay: 500, ...options });
}

/** Connects a client and waits for its first snapshot. */
export async function joined(host: string, options: Omit<PresenceClientOptions, "host">): Promise<PresenceClient> {
  const client = presenceClient(host, options);
  await client.ready();
  return client;
}

/** A raw socket that records every server message, checked against the schema and read into member records. */
export type RawSocket = {
  ws: WebSocket;
  messages: ReadMessage[];
  /** The text of every frame, as sent. */
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
  send(data: unknown): void;
};

/** Opens a raw WebSocket to a room; resolves when it is open. */
export async function rawSocket(host: string, channel: string, query: Record<string, string> = {}): Promise<RawSocket> {
  const ws = new WebSocket(`ws://${host}/parties/main/${channel}?${new URLSearchParams(query)}`);
  const messages: ReadMessage[] = [];
  const frames: string[] = [];
  const reader = new WireReader();
  ws.on("message", (data) => {
    frames.push(String(data));
    messages.push(reader.read(ServerMessage.parse(JSON.parse(String(data)))));
  });
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    ws.on("close", (code, reason) => done({ code, reason: String(reason) })),
  );
  await new Promise<void>((done, fail) => {
    ws.once("open", () => done());
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`refused with ${res.statusCode}`)));
  });
  return { ws, messages, frames, closed, send: (data) => ws.send(typeof data === "string" ? data : JSON.stringify(data)) };
}

/** Tries a WebSocket connect that should be refused; resolves with the HTTP status and body. */
export function refusedConnect(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://${host}${path}`);
    ws.once("open", () => {
      ws.close();
      fail(new Error(`connect to ${path} was accepted`));
    });
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
  });
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes. On timeout it throws
 * naming `what`, the last value, and the distinct errors `check` threw on the way (the first
 * five, with how often each came), so a failing assertion inside it is never hidden.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  const thrown = new Map<string, number>();
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
      const text = error instanceof Error ? error.message : String(error);
      thrown.set(text, (thrown.get(text) ?? 0) + 1);
    }
    if (Date.now() > deadline) {
      const errors = [...thrown].slice(0, 5).map(([text, n]) => `\n  thrown ${n}x: ${text}`).join("");
      throw new Error(`timed out waiting for ${what} (last: ${String(last)})${errors}`);
    }
    await new Promise((done) => setTimeout(done, 25));
  }
}

let probes = 0;

/** The id prefix of the members `quietUntil` joins (tests that list every event leave them out). */
export const PROBE_PREFIX = "quiet-probe-";

/**
 * Proves that a quiet period was observed, instead of a fixed sleep before a "nothing
 * happened" check: waits until `at` (a deadline the room must have passed, such as the end of
 * a grace period), then joins a probe member and waits until `watcher` sees it. Diffs are
 * ordered, so whatever the room announced before the probe's join has reached the watcher.
 * The probe then leaves, and is waited for until the watcher no longer lists it; its id starts
 * with PROBE_PREFIX. `probeOptions` gives it what the service asks of it (a token, with auth on).
 */
export async function quietUntil(
  host: string,
  channel: string,
  watcher: PresenceClient | RawSocket,
  at: number,
  probeOptions: (userId: string) => Promise<Partial<PresenceClientOptions>> = async () => ({}),
): Promise<void> {
  const wait = at - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  const userId = `${PROBE_PREFIX}${probes++}`;
  const heard = (action: "join" | "leave") =>
    watcher instanceof PresenceClient
      ? action === "join"
        ? watcher.member(userId)?.status === "online"
        : watcher.member(userId) === undefined
      : watcher.messages.some((m) => m.type === "diff" && m.events.some((e) => e.action === action && e.member.id === userId));
  const probe = await joined(host, { channel, userId, ...(await probeOptions(userId)) });
  try {
    await waitFor(`the watcher to see ${userId} join`, () => heard("join"), 15_000);
  } finally {
    await probe.leave().catch(() => probe.close());
  }
  await waitFor(`the watcher to see ${userId} leave`, () => heard("leave"), 15_000);
}

/** GETs a path on the dev server and returns status and parsed JSON. */
export async function getJson(host: string, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://${host}${path}`);
  return { status: response.status, body: await jsonBody(response, path) };
}

/** A response's JSON body; when it is not JSON, fails with the status and the text that came instead. */
export async function jsonBody(response: Response, what = response.url): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 300))}`);
  }
}
