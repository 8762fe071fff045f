/**
 * Deno smoke test of the presence client against a running server (`partykit dev` or a
 * deploy): two clients join a fresh channel over Deno's own global WebSocket and fetch, see
 * each other, answer herenow (over the socket and over HTTP), then one leaves and the other
 * sees `leave`. Prints one `ok - …` line per step and `deno smoke: passed` at the end; exits 1
 * with `deno smoke: FAILED …` on the first failure or when SMOKE_TIMEOUT_MS (default 30000)
 * passes, and 2 on bad usage.
 *
 *   npx --yes deno@2.9.6 run --allow-net=127.0.0.1:1999 --allow-env=PRESENCE_HOST,SMOKE_TIMEOUT_MS \
 *     scripts/deno-smoke.ts 127.0.0.1:1999
 *
 * The host comes from the first argument or PRESENCE_HOST.
 */
import { type ClientPresenceEvent, PresenceClient } from "../client/index.ts";

/** The bits of the `Deno` namespace used here (typed locally so tsc, which lacks Deno's types, checks this file too). */
type DenoApi = {
  args: string[];
  env: { get(name: string): string | undefined };
  exit(code: number): never;
  version: { deno: string };
};
const runtime = (globalThis as { Deno?: DenoApi }).Deno;
if (!runtime) {
  console.error("deno smoke: this script must run in Deno");
  throw new Error("not Deno");
}
const Deno: DenoApi = runtime;

const host = Deno.args[0] ?? Deno.env.get("PRESENCE_HOST");
if (!host) {
  console.error("deno smoke: FAILED usage: deno-smoke.ts HOST (or PRESENCE_HOST=HOST), e.g. 127.0.0.1:1999");
  Deno.exit(2);
}
const timeoutMs = Number(Deno.env.get("SMOKE_TIMEOUT_MS") ?? 30_000);
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
  console.error(`deno smoke: FAILED usage: SMOKE_TIMEOUT_MS must be a positive number of ms, got ${Deno.env.get("SMOKE_TIMEOUT_MS")}`);
  Deno.exit(2);
}

let step = "starting";
const clients: PresenceClient[] = [];

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms during: ${step}`), timeoutMs);

function fail(message: string): never {
  console.error(`deno smoke: FAILED ${message}`);
  for (const client of clients) client.close();
  Deno.exit(1);
}

function ok(what: string) {
  console.log(`ok - ${what}`);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Polls `condition` every 20 ms; the global timeout ends a wait that never comes true. */
async function until(what: string, condition: () => boolean): Promise<void> {
  step = `waiting for ${what}`;
  while (!condition()) await new Promise((done) => setTimeout(done, 20));
}

async function main() {
  check(typeof WebSocket === "function", "Deno has no global WebSocket");
  console.log(`deno smoke: Deno ${Deno.version.deno}, host ${host}`);
  const channel = `deno-smoke-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  // No WebSocket option: the client must pick up Deno's global WebSocket by itself.
  step = "connecting alice";
  const alice = new PresenceClient({ host: host!, channel, userId: "alice", userData: { runtime: "deno" }, clientType: "deno" });
  clients.push(alice);
  const aliceSaw: ClientPresenceEvent[] = [];
  alice.on("presence", (event) => aliceSaw.push(event));
  alice.on("error", (error) => fail(`alice got an error from the room: ${error.code} ${error.message}`));
  step = "alice's first snapshot";
  await alice.ready();
  check(alice.member("alice")?.status === "online", `alice is not online in her own list: ${JSON.stringify(alice.members)}`);
  ok(`alice joined ${channel}`);

  step = "connecting bob";
  const bob = new PresenceClient({ host: host!, channel, userId: "bob", userData: { n: 1 } });
  clients.push(bob);
  bob.on("error", (error) => fail(`bob got an error from the room: ${error.code} ${error.message}`));
  step = "bob's first snapshot";
  await bob.ready();
  ok("bob joined");

  await until("alice to see bob join", () => aliceSaw.some((e) => e.action === "join" && e.member.id === "bob"));
  const bobJoin = aliceSaw.find((e) => e.action === "join" && e.member.id === "bob")!;
  check(JSON.stringify(bobJoin.member.data) === JSON.stringify({ n: 1 }), `bob's join carried ${JSON.stringify(bobJoin.member.data)}`);
  check(bobJoin.userAmount === 2 && bobJoin.clientAmount === 2, `bob's join counted ${bobJoin.userAmount} users, ${bobJoin.clientAmount} clients`);
  ok("alice saw bob join with his data and the counts");

  await until("bob to see alice", () => bob.member("alice")?.status === "online");
  check(JSON.stringify(bob.member("alice")!.data) === JSON.stringify({ runtime: "deno" }), "bob sees the wrong data for alice");
  ok("bob sees alice online with her data");

  step = "herenow over the socket";
  const overSocket = await alice.hereNow({ includeUsers: true, distinct: true });
  const here = overSocket.content.channels[channel];
  check(here, `herenow did not answer for ${channel}: ${JSON.stringify(overSocket)}`);
  check(here.clientAmount === 2 && here.userAmount === 2, `herenow counted ${here.userAmount} users, ${here.clientAmount} clients`);
  const ids = (here.users ?? []).map((user) => user.id).sort();
  check(JSON.stringify(ids) === JSON.stringify(["alice", "bob"]), `herenow listed ${JSON.stringify(ids)}`);
  ok("hereNow over the socket lists alice and bob");

  step = "herenow over HTTP";
  const empty = `${channel}-empty`;
  const overHttp = await bob.hereNow({ channels: [channel, empty] });
  check(overHttp.code === 200, `HTTP herenow answered code ${overHttp.code}`);
  check(overHttp.content.channels[channel]?.userAmount === 2, `HTTP herenow: ${JSON.stringify(overHttp.content.channels[channel])}`);
  check(overHttp.content.channels[empty]?.userAmount === 0, `HTTP herenow for an empty channel: ${JSON.stringify(overHttp.content.channels[empty])}`);
  check(overHttp.content.channels[channel]?.users === undefined, "HTTP herenow listed users without includeUsers");
  ok("hereNow over HTTP (Deno's fetch) counts both channels");

  step = "bob leaving";
  await bob.leave();
  await until("alice to see bob leave", () => aliceSaw.some((e) => e.action === "leave" && e.member.id === "bob"));
  const bobLeave = aliceSaw.find((e) => e.action === "leave" && e.member.id === "bob")!;
  check(bobLeave.userAmount === 1, `after bob left, the event counted ${bobLeave.userAmount} users`);
  check(alice.member("bob") === undefined, "bob is still in alice's list after leaving");
  check(!aliceSaw.some((e) => e.action === "offline"), `alice saw an offline event: ${JSON.stringify(aliceSaw)}`);
  ok("alice saw bob leave and dropped him from her list");

  alice.close();
  clearTimeout(timer);
  console.log("deno smoke: passed");
  Deno.exit(0);
}

main().catch((error) => fail(`${step}: ${error instanceof Error ? error.message : String(error)}`));
