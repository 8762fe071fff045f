/**
 * What the channel room itself keeps per member: the shipped room (party/channel/service.ts,
 * behind the edge's connect checks) in Node, on a host of its own: sockets that count what they
 * are sent, storage that drops writes, parties that answer every call with an empty reply; N members joining with their userData and a window;
 * V8's heap after a full GC halfway and at the end: what the second half of the members added,
 * per member (the first half also paid for compiled code and caches). workerd's RSS also holds the engine's
 * own per-socket memory and garbage not yet collected; this is the part the room's code owns.
 * Run by bench/lib/room-heap.mjs (bundled with esbuild, `node --expose-gc`); prints one JSON line.
 */
import { ChannelService } from "../party/channel/service.ts";
import type { SocketState } from "../party/channel/sockets.ts";
import { partyHooks } from "../party/edge/before.ts";
import { BanCache } from "../party/server/ban-cache.ts";
import { partiesOver } from "../party/server/calls.ts";
import { loadConfig } from "../party/server/config.ts";
import { ok } from "../party/server/envelope.ts";
import type { Host, HostSocket, HostStorage } from "../party/server/host.ts";

const N = Number(process.argv[2] ?? 10_000);
const WINDOW = Number(process.argv[3] ?? 10);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

/** A socket as the room sees it: an id, its state, and sends counted, not kept. */
class FakeSocket implements HostSocket<SocketState> {
  state: SocketState | null = null;
  sent = 0;
  constructor(readonly id: string) {}
  setState(state: SocketState) {
    this.state = state;
    return state;
  }
  send() {
    this.sent++;
  }
  close() {}
}

// workerd's crypto.randomUUID returns a flat 36-character string; Node's returns a chain of
// about 14 cons strings (some 450 bytes per UUID kept). Each socket's state keeps one: give it
// workerd's kind, or this would measure Node.
const nodeUuid = crypto.randomUUID.bind(crypto);
const flat = { encoder: new TextEncoder(), decoder: new TextDecoder() };
crypto.randomUUID = () => flat.decoder.decode(flat.encoder.encode(nodeUuid())) as ReturnType<typeof crypto.randomUUID>;

const sockets = new Map<string, FakeSocket>();
/** Storage that keeps nothing: the room's own heap is what is measured. */
const storage = {
  get: async () => undefined,
  put: async () => {},
  delete: async () => true,
  list: async () => new Map(),
  sync: async () => {},
  getAlarm: async () => null,
  setAlarm: async () => {},
} as unknown as HostStorage;
// Every call succeeds with nothing to say; the edge's ban list is empty.
const parties = partiesOver(async (_party, _room, init) => ok(JSON.parse(String(init.body)).call === "bans" ? { bans: [] } : {}));
const env = { PRESENCE_DIRECTORY_PARTS: "4" };
const host: Host<SocketState> = {
  name: "heap",
  storage,
  parties,
  sockets: (connectionId?: string) => (connectionId === undefined ? sockets.values() : [sockets.get(connectionId)].filter((socket) => socket !== undefined)),
  pingedAt: () => null,
  now: () => Date.now(),
};
const edge = { env, parties, waitUntil() {}, bans: new BanCache(), now: () => Date.now() };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const room = new ChannelService(host, loadConfig(env));
await room.start();
await sleep(100);
gc();
/** The heap after every change so far is committed, sent and reported (two intervals), and a full GC. */
async function settledHeap(): Promise<number> {
  await sleep(2500);
  gc!();
  return process.memoryUsage().heapUsed;
}

const before = process.memoryUsage().heapUsed;
let half = 0;
let dataBytes = 0;
for (let i = 0; i < N; i++) {
  // Halfway: the code has run every path once (compiled code and caches live on the heap too).
  if (i === N / 2) half = await settledHeap();
  const id = `c${i}`;
  const userData = JSON.stringify({ name: `User ${i}` });
  dataBytes += userData.length;
  const url = `http://bench/parties/main/heap?userId=u${i}&userData=${encodeURIComponent(userData)}&window=${WINDOW}&_pk=${id}`;
  const request = await partyHooks.main.beforeConnect(new Request(url), "heap", edge);
  if (request instanceof Response) throw new Error(`refused: ${await request.text()}`);
  const socket = new FakeSocket(id);
  sockets.set(id, socket);
  room.connect(socket, request);
  if (i % 100 === 99) await sleep(1);
}
const after = await settledHeap();
// Per member: what the second half of the members added (the first half also paid for the room's warm-up).
console.log(JSON.stringify({ n: N, heapPerMember: (after - half) / (N - N / 2), heapPerMemberAll: (after - before) / N, userDataPerMember: dataBytes / N }));
process.exit(0);
