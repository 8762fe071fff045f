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

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

/** GETs a path on the dev server and returns status and parsed JSON. */
export async function getJson(host: string, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://${host}${path}`);
  return { status: response.status, body: await response.json() };
}
