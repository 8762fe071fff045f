/**
 * What the channel room itself keeps per member: the shipped room (party/channel/room.ts) in
 * Node, behind fake PartyKit objects (sockets that count what they are sent, storage that
 * drops writes, parties that answer 200), N members joining with their userData and a window;
 * then a full GC and V8's heap against the empty room's. workerd's RSS also holds the engine's
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
const before = process.memoryUsage().heapUsed;
let dataBytes = 0;
for (let i = 0; i < N; i++) {
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
// Two intervals: every change committed, sent and reported.
await sleep(2500);
gc();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ n: N, heapPerMember: (after - before) / N, userDataPerMember: dataBytes / N }));
process.exit(0);
