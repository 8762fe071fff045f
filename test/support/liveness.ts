/**
 * Helpers for the liveness, reconnect and limits tests: a dev server that may be
 * misconfigured, room stats, an event recorder for PresenceClients, and raw-socket tools.
 */
import type { Socket as NetSocket } from "node:net";
import WebSocket from "ws";
import type { PresenceClient } from "../../client/index.ts";
import { type Member, type RoomStats, StatsResponse } from "../../party/protocol/index.ts";
import { type DevServer, sleep, startDevServer } from "./dev-server.ts";
import { getJson, PROBE_PREFIX } from "./clients.ts";

/**
 * Starts `partykit dev` like `startDevServer` (TEST_VARS overridden by `vars`), but ready as
 * soon as a room answers any HTTP status: a misconfigured service answers 500, never 200.
 */
export function startAnyDevServer(vars: Record<string, string>): Promise<DevServer> {
  return startDevServer({ vars, readyPath: "/parties/main/ready-check", readyOnAnyStatus: true });
}

/** A room's counters, from `GET /parties/main/CHANNEL?stats`. */
export async function roomStats(host: string, channel: string): Promise<RoomStats> {
  const { status, body } = await getJson(host, `/parties/main/${channel}?stats`);
  if (status !== 200) throw new Error(`stats answered ${status}: ${JSON.stringify(body)}`);
  return StatsResponse.parse(body).content;
}

/** herenow of one channel over HTTP, with users. */
export async function hereNowUsers(
  host: string,
  channel: string,
  distinct: boolean,
): Promise<{ clientAmount: number; userAmount: number; users: Array<{ id: string; data: unknown }> }> {
  const { status, body } = await getJson(host, `/parties/main/${channel}?includeUsers=true&distinct=${distinct}`);
  if (status !== 200) throw new Error(`herenow answered ${status}: ${JSON.stringify(body)}`);
  return body.content.channels[channel];
}

/** One thing a PresenceClient reported, with the local time it arrived. */
export type Recorded =
  | { at: number; kind: "presence"; action: string; id: string; resync: boolean }
  | { at: number; kind: "members"; members: Member[] }
  | { at: number; kind: "error"; code: string }
  | { at: number; kind: "close"; code: number }
  | { at: number; kind: "sync" };

/** Everything a client reports from now on, with helpers to read it. */
export class Recorder {
  readonly log: Recorded[] = [];
  #off: Array<() => void> = [];

  constructor(readonly client: PresenceClient) {
    this.#off.push(
      client.on("presence", (e) =>
        this.log.push({ at: Date.now(), kind: "presence", action: e.action, id: e.member.id, resync: e.resync === true }),
      ),
      client.on("members", (members) => this.log.push({ at: Date.now(), kind: "members", members })),
      client.on("error", (e) => this.log.push({ at: Date.now(), kind: "error", code: e.code })),
      client.on("close", (e) => this.log.push({ at: Date.now(), kind: "close", code: e.code })),
      client.on("sync", () => this.log.push({ at: Date.now(), kind: "sync" })),
    );
  }

  /** Every presence event but the probes' of `quietUntil`, as "action id" strings ("(resync)" marks one found by a snapshot). */
  events(): string[] {
    return this.presence()
      .filter((e) => !e.id.startsWith(PROBE_PREFIX))
      .map((e) => `${e.action} ${e.id}${e.resync ? " (resync)" : ""}`);
  }

  /** The presence events about one user (or all but the probes), as "action" strings. */
  actions(userId?: string): string[] {
    return this.presence(userId)
      .filter((e) => userId !== undefined || !e.id.startsWith(PROBE_PREFIX))
      .map((e) => e.action);
  }

  /** The presence events about one user (or all). */
  presence(userId?: string): Array<Extract<Recorded, { kind: "presence" }>> {
    return this.log.filter(
      (e): e is Extract<Recorded, { kind: "presence" }> => e.kind === "presence" && (userId === undefined || e.id === userId),
    );
  }

  /** How many of one kind were recorded. */
  count(kind: Recorded["kind"]): number {
    return this.log.filter((e) => e.kind === kind).length;
  }

  /** Stops recording. */
  stop(): void {
    for (const off of this.#off.splice(0)) off();
  }
}

/** How a test makes a raw socket stop reading (so a close from the room never completes). */
export type SilenceMethod = "ws.pause()" | "ws._socket.pause()";

/** Makes a `ws` socket stop reading: it neither sends nor reads from now on. */
export function silence(ws: WebSocket, method: SilenceMethod): void {
  if (method === "ws.pause()") ws.pause();
  else (ws as unknown as { _socket: NetSocket })._socket.pause();
}

/** Opens a raw socket and resolves with how the room closed it (or rejects on refusal before upgrade). */
export function connectAndAwaitClose(url: string): Promise<{ opened: boolean; code: number; reason: string }> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url);
    let opened = false;
    ws.once("open", () => (opened = true));
    ws.once("close", (code, reason) => done({ opened, code, reason: String(reason) }));
    ws.once("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => fail(Object.assign(new Error(`refused before upgrade with ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
  });
}

/** The close frame a socket got from the room, and when it arrived (local time). */
export type CloseFrame = { code: number; reason: string; at: number };

/**
 * Resolves when the room's close frame reaches a `ws` socket. The `close` event comes only
 * once the TCP connection ends, which can be much later; `ws` keeps the frame's code and
 * reason (in private fields) from the moment it arrives and answers it (readyState CLOSING).
 */
export async function closeFrame(ws: WebSocket, timeoutMs = 10_000): Promise<CloseFrame> {
  const internals = ws as unknown as { _closeFrameReceived?: boolean; _closeCode: number; _closeMessage: Buffer | string };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (internals._closeFrameReceived) {
      return { code: internals._closeCode, reason: String(internals._closeMessage), at: Date.now() };
    }
    if (Date.now() > deadline) throw new Error(`no close frame within ${timeoutMs} ms (readyState ${ws.readyState})`);
    await sleep(10);
  }
}

