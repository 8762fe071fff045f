/**
 * What the channel room itself keeps per member: the shipped room (party/channel/room.ts) in
 * Node, behind fake PartyKit objects (sockets that count what they are sent, storage that
 * drops writes, parties that answer 200), N members joining with their userData and a window;
 * V8's heap after a full GC halfway and at the end: what the second half of the members added,
 * per member (the first half also paid for compiled code and caches). workerd's RSS also holds the engine's
 * own per-socket memory and garbage not yet collected; this is the part the room's code owns.
 * Run by bench/lib/room-heap.mjs (bundled with esbuild, `node --expose-gc`); prints one JSON line.
 */
import ChannelRoom from "../party/channel/room.ts";

const N = Number(process.argv[2] ?? 10_000);
const WINDOW = Number(process.argv[3] ?? 10);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

/** A socket as the room sees it: an id, its state, and sends counted, not kept. */
class FakeSocket {
  state: unknown = null;
  sent = 0;
  constructor(readonly id: string) {}
  setState(state: unknown) {
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
const storage = {
  get: async (keys: string | string[]) => (Array.isArray(keys) ? new Map() : undefined),
  put: async () => {},
  delete: async () => true,
  list: async () => new Map(),
  getAlarm: async () => null,
  setAlarm: async () => {},
  deleteAlarm: async () => {},
};
const answer = () => ({ fetch: async () => new Response(JSON.stringify({ code: 200, content: {} }), { headers: { "content-type": "application/json" } }) });
const parties = new Proxy({}, { get: () => ({ get: answer }) });
const env = { PRESENCE_DIRECTORY_PARTS: "4" };
const room = {
  id: "heap",
  name: "main",
  env,
  storage,
  context: { parties },
  parties,
  getConnections: (tag?: string) => (tag ? [sockets.get(tag)].filter(Boolean) : sockets.values()),
  getConnection: (id: string) => sockets.get(id),
  blockConcurrencyWhile: (fn: () => unknown) => fn(),
  broadcast() {},
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const server = new ChannelRoom(room as never);
await server.onStart();
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
  const request = await ChannelRoom.onBeforeConnect(new Request(url) as never, { id: "heap", env, parties } as never, { waitUntil() {} } as never);
  if (request instanceof Response) throw new Error(`refused: ${await request.text()}`);
  const socket = new FakeSocket(id);
  sockets.set(id, socket);
  server.onConnect(socket as never, { request } as never);
  if (i % 100 === 99) await sleep(1);
}
const after = await settledHeap();
// Per member: what the second half of the members added (the first half also paid for the room's warm-up).
console.log(JSON.stringify({ n: N, heapPerMember: (after - half) / (N - N / 2), heapPerMemberAll: (after - before) / N, userDataPerMember: dataBytes / N }));
process.exit(0);
