// @ts-check
/**
 * The bench's clients, one kind per room: raw `ws` sockets that read our compact wire (full
 * and interval mode) or the naive room's messages, and y-partykit providers whose awareness
 * is the peer's presence. Each keeps the set of member ids it sees online, as cheaply as a
 * real client would, so the load generator does not become the bottleneck.
 */
import WebSocket from "ws";
import * as Y from "yjs";
import YPartyKitProvider from "y-partykit/provider";
import { sleep } from "./util.mjs";

/** @typedef {"empty" | "counts" | "ours" | "naive" | "ours-nodir" | "ours-nohist" | "yjs"} Kind */

/**
 * One benchmark client: its socket (or provider), the ids it sees online, and for our room
 * the sequence, mode and counts it holds.
 * @typedef {{ ws: WebSocket | null; provider: YPartyKitProvider | null; view: Set<string>; done: boolean; syncing: boolean;
 *   seq: number | null; mode: string; userAmount: number; ping: ReturnType<typeof setInterval> | null;
 *   synced: boolean; second: number; inSecond: number }} Client
 */

/** @returns {Client} */
export function newClient() {
  return { ws: null, provider: null, view: new Set(), done: false, syncing: false, seq: null, mode: "full", userAmount: 0, ping: null, synced: false, second: -1, inSecond: 0 };
}

/** Which party serves a kind. @param {Kind} kind */
export const partyOf = (kind) => (isOurs(kind) ? "main" : kind);
/** Our room, with the directory on or off, or the history off. @param {Kind} kind */
export const isOurs = (kind) => kind === "ours" || kind === "ours-nodir" || kind === "ours-nohist";

/** The userData every bench member has: about 25 bytes of JSON with its id, as in a small app. @param {number} i */
export const userDataOf = (i) => ({ name: `User ${i}` });

/**
 * Applies one message of our compact wire to a client's view (sync parts, then diffs). In
 * full mode a sequence gap asks for a fresh snapshot, as the real client does; in interval
 * mode a client hears only the ticks that changed its view or the counts.
 * @param {Client} client @param {any} msg @param {{ gaps: number }} counters
 */
export function applyOurs(client, msg, counters) {
  if (msg.type === "sync") {
    // Heartbeats as the real client sends them, so a long storm is not cut by the idle timeout.
    client.ping ??= setInterval(() => client.ws?.send('{"type":"ping"}'), msg.settings.heartbeatIntervalMs);
    if (!client.syncing) client.view.clear();
    for (const member of msg.members) if (member[3]?.o !== 1) client.view.add(member[0]);
    client.syncing = msg.more;
    client.synced ||= !msg.more;
    client.seq = msg.seq;
    client.mode = msg.mode;
    client.userAmount = msg.userAmount;
  } else if (msg.type === "diff") {
    if (client.mode === "full" && client.seq !== null && msg.seq !== client.seq + 1) {
      counters.gaps++;
      client.ws?.send(JSON.stringify({ type: "sync" }));
    }
    client.seq = msg.seq;
    client.userAmount = msg.userAmount;
    for (const member of msg.quiet ?? []) if (member[3]?.o !== 1) client.view.add(member[0]);
    for (const member of msg.join ?? []) if (member[3]?.o !== 1) client.view.add(member[0]);
    for (const member of msg.online ?? []) client.view.add(member[0]);
    for (const member of msg.offline ?? []) client.view.delete(member[0]);
    for (const id of msg.leave ?? []) client.view.delete(id);
    for (const id of msg.out ?? []) client.view.delete(id);
  }
}

/** Applies one message of the sending floor (bench/counts-room.ts): the counts, the first one its snapshot. @param {Client} client @param {any} msg */
export function applyCounts(client, msg) {
  if (msg.type !== "counts") return;
  client.userAmount = msg.userAmount;
  client.synced = true;
}

/** Applies one message of the naive room's protocol. @param {Client} client @param {any} msg */
export function applyNaive(client, msg) {
  if (msg.type === "list") for (const member of msg.members) client.view.add(member.id);
  else if (msg.type === "join") client.view.add(msg.id);
  else if (msg.type === "leave") client.view.delete(msg.id);
}

/**
 * Opens one socket; resolves once it is open. Retries a failed connect twice.
 * @param {string} url @param {(data: WebSocket.RawData) => void} onMessage @param {() => void} onClose
 * @returns {Promise<WebSocket>}
 */
export async function connect(url, onMessage, onClose) {
  /** @type {unknown} */
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await new Promise((done, fail) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30_000 });
        ws.on("message", onMessage);
        ws.once("open", () => {
          ws.on("close", onClose);
          done(ws);
        });
        ws.once("error", fail);
        ws.once("unexpected-response", (_request, response) => fail(new Error(`refused with HTTP ${response.statusCode}`)));
      });
    } catch (error) {
      lastError = error;
      await sleep(200 * (attempt + 1));
    }
  }
  throw lastError;
}

/**
 * A y-partykit client: a Y.Doc with a provider on the `yjs` party, its awareness state the
 * member's id and userData. Resolves once its socket is open; `view` follows the awareness
 * states it holds. Every byte its socket receives is counted.
 * @param {string} host @param {string} room @param {number} i @param {Client} client
 * @param {(bytes: number) => void} onBytes @param {() => void} onChange @returns {Promise<void>}
 */
export function connectYjs(host, room, i, client, onBytes, onChange) {
  class CountedWebSocket extends WebSocket {
    /** @param {string} url @param {string | string[] | undefined} protocols */
    constructor(url, protocols) {
      super(url, protocols, { perMessageDeflate: false });
      this.on("message", (/** @type {Buffer | ArrayBuffer} */ data) => onBytes(data.byteLength));
    }
  }
  const provider = new YPartyKitProvider(host, room, new Y.Doc(), {
    party: "yjs",
    // @ts-expect-error: ws is the WebSocket the provider needs on Node.
    WebSocketPolyfill: CountedWebSocket,
    disableBc: true,
  });
  client.provider = provider;
  // Only what changed: a full pass over the states per change would cost the load generator N³.
  const states = provider.awareness.getStates();
  /** @type {Map<number, string>} */
  const idOf = new Map();
  provider.awareness.on("change", (/** @type {{ added: number[]; updated: number[]; removed: number[] }} */ { added, updated, removed }) => {
    for (const clientId of [...added, ...updated]) {
      const id = states.get(clientId)?.id;
      if (id === undefined) continue;
      idOf.set(clientId, String(id));
      client.view.add(String(id));
    }
    for (const clientId of removed) {
      const id = idOf.get(clientId);
      idOf.delete(clientId);
      if (id !== undefined) client.view.delete(id);
    }
    onChange();
  });
  // After the listener: a client sees itself too.
  provider.awareness.setLocalState({ id: `u${i}`, ...userDataOf(i) });
  return new Promise((done) => {
    const opened = (/** @type {{ status: string }} */ event) => {
      if (event.status !== "connected") return;
      provider.off("status", opened);
      done();
    };
    provider.on("status", opened);
  });
}
