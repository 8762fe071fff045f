/**
 * Limits and floods against a dedicated `partykit dev` with small limits: client caps per
 * room and per user, message size, rate (token bucket), sustained abuse and binary frames.
 * Each refusal is clear, is counted in ?stats, and an honest client in the same room sees
 * no change.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { PresenceClient } from "../../client/index.ts";
import type { ReadMessage } from "../support/messages.ts";
import { freshChannel, joined, presenceClient, type RawSocket, rawSocket, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, TEST_VARS } from "../support/dev-server.ts";
import { closeFrame, hereNowUsers, Recorder, roomStats, startAnyDevServer } from "../support/liveness.ts";

const LIMITS = {
  PRESENCE_MAX_CLIENTS: "5",
  PRESENCE_MAX_CLIENTS_PER_USER: "2",
  PRESENCE_RATE_PER_SEC: "5",
  PRESENCE_RATE_BURST: "10",
  PRESENCE_ABUSE_CLOSE_AFTER: "15",
  PRESENCE_MAX_MESSAGE_BYTES: "1024",
};
const MAX_CLIENTS = 5;
const BURST = 10;
const ABUSE_CLOSE_AFTER = 15;
const MAX_MESSAGE_BYTES = 1024;
/** The shared test timeout (TEST_VARS), which this server keeps. */
const HEARTBEAT_TIMEOUT_MS = Number(TEST_VARS.PRESENCE_HEARTBEAT_TIMEOUT_MS);
/** How long a test waits for a close it expects (far beyond what it takes: the bound only ends a broken run). */
const CLOSE_WAIT_MS = 15_000;

let server: DevServer;
let host: string;
beforeAll(async () => {
  // startDevServer tries a start that hangs again by itself, and says so; any other failure fails here.
  server = await startAnyDevServer(LIMITS);
  host = server.host;
}, 150_000);
afterAll(async () => {
  await server?.stop();
});

const clients: PresenceClient[] = [];
const recorders: Recorder[] = [];
const raws: RawSocket[] = [];
afterEach(() => {
  for (const recorder of recorders.splice(0)) recorder.stop();
  for (const client of clients.splice(0)) client.close();
  for (const socket of raws.splice(0)) socket.ws.terminate();
});

/** An honest member that only pings and listens; `expectUntouched` checks nothing happened to it. */
type Honest = { client: PresenceClient; rec: Recorder; expectUntouched(): Promise<void> };

async function honest(channel: string): Promise<Honest> {
  const client = await joined(host, { channel, userId: "honest", userData: { mood: "calm" } });
  clients.push(client);
  await waitFor("honest to see itself", () => client.member("honest")?.status === "online");
  const rec = new Recorder(client);
  recorders.push(rec);
  const self = client.member("honest");
  return {
    client,
    rec,
    async expectUntouched() {
      expect(rec.count("error")).toBe(0);
      expect(rec.count("close")).toBe(0);
      expect(client.socket.readyState).toBe(1);
      expect(rec.actions("honest")).toEqual([]);
      expect(client.member("honest")).toEqual(self);
      // It can still ask the room, and the room still lists it.
      const here = await client.hereNow({ includeUsers: true, distinct: true });
      expect(here.content.channels[channel]!.users).toContainEqual({ id: "honest", data: { mood: "calm" } });
    },
  };
}

async function raw(channel: string, query: Record<string, string>): Promise<RawSocket> {
  const socket = await rawSocket(host, channel, query);
  raws.push(socket);
  return socket;
}

const ofType = <T extends ReadMessage["type"]>(socket: RawSocket, type: T) =>
  socket.messages.filter((m): m is Extract<ReadMessage, { type: T }> => m.type === type);

/**
 * A valid request that reaches the room on every engine (a ping does not on Workers, whose
 * engine answers it without waking the room), answered by a `herenow`.
 */
const REQUEST = { type: "herenow", id: "r" } as const;

/** Replies to requests and refused messages, in order: "ok" for an answered request, or the error code. */
const replies = (socket: RawSocket) =>
  socket.messages.flatMap((m) => (m.type === "herenow" ? ["ok"] : m.type === "error" ? [m.code] : []));

async function waitReplies(socket: RawSocket, count: number): Promise<string[]> {
  await waitFor(`${count} replies (have ${replies(socket).length})`, () => replies(socket).length >= count);
  return replies(socket);
}

/** A JSON text frame of exactly `bytes` UTF-8 bytes: an update whose data is padding. */
function updateOfBytes(bytes: number, char = "x"): string {
  const overhead = JSON.stringify({ type: "update", data: "" }).length;
  const charBytes = new TextEncoder().encode(char).byteLength;
  return JSON.stringify({ type: "update", data: char.repeat(Math.ceil((bytes - overhead) / charBytes)) });
}

describe("client caps", () => {
  it("closes a user's socket over the per-user cap with 1013 naming the cap, and counts it", async () => {
    const channel = freshChannel("cap-user");
    const h = await honest(channel);
    const first = await raw(channel, { userId: "greedy", _pk: "greedy-1" });
    const second = await raw(channel, { userId: "greedy", _pk: "greedy-2" });
    await waitFor("honest to see greedy with two clients", () => h.client.member("greedy")?.clients === 2);
    const seen = h.rec.log.length;

    const third = await raw(channel, { userId: "greedy", _pk: "greedy-3" });
    const closed = await closeFrame(third.ws);
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain("greedy");
    expect(closed.reason).toContain("2 clients");
    // Refused, not joined: no snapshot ever reached it.
    expect(ofType(third, "sync")).toEqual([]);

    // The cap is per user: another user still gets in.
    const other = await raw(channel, { userId: "other" });
    await waitFor("the other user's snapshot", () => ofType(other, "sync").length > 0);
    // And the same connection id reconnecting does not count twice: greedy-1 comes back.
    const again = await raw(channel, { userId: "greedy", _pk: "greedy-1" });
    await waitFor("greedy-1's new socket to get its snapshot", () => ofType(again, "sync").length > 0);
    expect((await closeFrame(first.ws)).code).toBe(4000);
    expect(second.ws.readyState).toBe(second.ws.OPEN);

    await waitFor("honest to see other join", () => h.client.member("other")?.status === "online");
    // Nothing about greedy reached honest after its refusal or its reconnect.
    expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence").map((e) => e.kind === "presence" && `${e.action} ${e.id}`)).toEqual(["join other"]);
    expect(h.client.member("greedy")).toMatchObject({ status: "online", clients: 2 });
    const here = await hereNowUsers(host, channel, false);
    expect(here.users.filter((u) => u.id === "greedy")).toHaveLength(2);
    expect(here).toMatchObject({ clientAmount: 4, userAmount: 3 });

    const stats = await roomStats(host, channel);
    expect(stats.refusedConnections).toEqual({ user_full: 1 });
    expect(stats.closes).toEqual({ tryAgainLater: 1, replaced: 1 });
    await h.expectUntouched();
  });

  it("closes any socket over the room cap with 1013, members and observers alike, but lets a reconnect with the same id back in", async () => {
    const channel = freshChannel("cap-room");
    const h = await honest(channel);
    const tab = await joined(host, { channel, userId: "tab" });
    clients.push(tab);
    await waitFor("tab to see itself", () => tab.member("tab")?.status === "online");
    const tabRec = new Recorder(tab);
    recorders.push(tabRec);
    await raw(channel, { userId: "a", _pk: "a-1" });
    await raw(channel, { userId: "b" });
    await raw(channel, {}); // an observer: counted against the room's cap too
    await waitFor("the room to hold its cap", async () => (await roomStats(host, channel)).sockets === MAX_CLIENTS);
    await waitFor("honest to see a and b", () => h.client.member("a") && h.client.member("b"));
    const seen = h.rec.log.length;

    for (const query of [{ userId: "late" }, {}] as Array<Record<string, string>>) {
      const refused = await raw(channel, query);
      const closed = await closeFrame(refused.ws);
      expect(closed.code, JSON.stringify(query)).toBe(1013);
      expect(closed.reason).toContain(`room is full (${MAX_CLIENTS} clients)`);
      expect(ofType(refused, "sync")).toEqual([]);
    }

    // A partysocket reconnect keeps its id: the full room takes it back.
    const syncs = tabRec.count("sync");
    tab.socket.reconnect();
    await waitFor("tab to resync after its reconnect", () => tabRec.count("sync") > syncs);
    expect(tabRec.log.filter((e) => e.kind === "close").map((e) => e.kind === "close" && e.code)).toEqual([1000]);
    // A raw socket reusing a live id replaces it rather than counting twice.
    const replacement = await raw(channel, { userId: "a", _pk: "a-1" });
    await waitFor("the replacement to get its snapshot", () => ofType(replacement, "sync").length > 0);
    // Still full for a new id.
    const stillRefused = await raw(channel, { userId: "later" });
    expect((await closeFrame(stillRefused.ws)).code).toBe(1013);

    await sleep(300);
    expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence")).toEqual([]);
    const here = await hereNowUsers(host, channel, false);
    expect(here).toMatchObject({ clientAmount: 4, userAmount: 4 });
    const stats = await roomStats(host, channel);
    expect(stats.sockets).toBe(MAX_CLIENTS);
    expect(stats.refusedConnections).toEqual({ room_full: 3 });
    expect(stats.closes.tryAgainLater).toBe(3);
    // The raw replacement, and the tab's old socket if its close came after its new one.
    expect(stats.closes.replaced).toBeGreaterThanOrEqual(1);
    await h.expectUntouched();
  });
});

describe("closing a socket outside its own message handler", () => {
  // The room closes these sockets while it handles another event (a connect, an alarm). The
  // close frame goes out at once, but with hibernatable sockets workerd may not end the TCP
  // connection until the room next hibernates (an engine limit; see docs/reliability.md), so
  // a client's `close` event can come late. What the room controls, and these tests check:
  // the close frame (and, for a refusal, an `error` frame naming the reason before it)
  // arrives while an honest member keeps the room busy (on PartyKit its pings reach the room
  // every second, so it never hibernates): a close deferred to the next hibernation would
  // never arrive.
  const cases = [
    { what: "a socket over the per-user cap (1013)", code: 1013, error: "user_full", fill: [{ userId: "u", _pk: "u-1" }, { userId: "u", _pk: "u-2" }], next: { userId: "u", _pk: "u-3" }, victim: "next" },
    { what: "a socket over the room cap (1013)", code: 1013, error: "room_full", fill: [{ _pk: "o-1" }, { _pk: "o-2" }, { _pk: "o-3" }, { _pk: "o-4" }], next: { _pk: "o-5" }, victim: "next" },
    { what: "the older socket of a reused connection id (4000)", code: 4000, error: null, fill: [{ userId: "r", _pk: "r-1" }], next: { userId: "r", _pk: "r-1" }, victim: "first" },
    { what: "a socket that reads but never sends, at its heartbeat timeout (4001)", code: 4001, error: null, fill: [], next: { userId: "mute" }, victim: "next" },
  ] as const;

  it.each(cases)("sends $what its close frame while the room stays busy, after an error frame for a refusal", async ({ code, error, fill, next, victim }) => {
    const channel = freshChannel("close-frame");
    const h = await honest(channel);
    const filled: RawSocket[] = [];
    for (const query of fill) filled.push(await raw(channel, { ...query }));
    const startedAt = Date.now();
    const newest = await raw(channel, { ...next });
    const target = victim === "next" ? newest : filled[0]!;
    const frame = await closeFrame(target.ws, code === 4001 ? HEARTBEAT_TIMEOUT_MS + CLOSE_WAIT_MS : CLOSE_WAIT_MS);
    expect(frame.code).toBe(code);
    if (code === 4001) expect(frame.at - startedAt, "closed no sooner than its heartbeat timeout").toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS);
    if (error) {
      const errors = target.messages.filter((m) => m.type === "error");
      expect(errors.map((m) => m.type === "error" && m.code)).toEqual([error]);
      expect(target.messages.some((m) => m.type === "sync")).toBe(false);
    }
    await h.expectUntouched();
  });

  it("tells a PresenceClient over the per-user cap that it was refused, and it does not try again", async () => {
    const channel = freshChannel("close-ends-client");
    await raw(channel, { userId: "p", _pk: "p-1" });
    await raw(channel, { userId: "p", _pk: "p-2" });
    // Every socket the client opens, counted where it is made (a reconnect is a new one).
    let dialed = 0;
    class CountedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        dialed++;
      }
    }
    const client = presenceClient(host, { channel, userId: "p", WebSocket: CountedWebSocket });
    clients.push(client);
    const closed = new Promise<{ code: number; reason: string }>((done) => client.on("close", (event) => done(event)));
    const errors: string[] = [];
    client.on("error", (event) => errors.push(event.code));
    const got = await Promise.race([closed, sleep(CLOSE_WAIT_MS).then(() => null)]);
    expect(got, "no close event reached the refused PresenceClient").not.toBeNull();
    expect(got!.code).toBe(1013);
    expect(got!.reason).toContain("2 clients");
    expect(errors).toEqual(["user_full"]);
    // It gave up: no reconnect loop against a full user. A reconnect would come within the
    // client's longest reconnection delay (500 ms here); six times that passes with no new
    // socket dialed and no second refusal counted by the room, and the socket stays CLOSED
    // (a reconnecting one is CONNECTING between attempts, or OPEN until refused again).
    await waitFor("the room to count the refusal", async () => (await roomStats(host, channel)).refusedConnections.user_full === 1);
    await sleep(6 * 500);
    expect(dialed, "sockets the client dialed").toBe(1);
    expect((await roomStats(host, channel)).refusedConnections.user_full, "connects the room refused").toBe(1);
    expect(client.socket.readyState).toBe(WebSocket.CLOSED);
  });
});

describe("message size cap", () => {
  const cases = [
    { what: "exactly the cap", frame: updateOfBytes(MAX_MESSAGE_BYTES), bytes: MAX_MESSAGE_BYTES, chars: MAX_MESSAGE_BYTES, accepted: true },
    { what: "one byte over the cap", frame: updateOfBytes(MAX_MESSAGE_BYTES + 1), bytes: MAX_MESSAGE_BYTES + 1, chars: MAX_MESSAGE_BYTES + 1, accepted: false },
    {
      what: "under the cap in characters but over it in UTF-8 bytes",
      frame: updateOfBytes(MAX_MESSAGE_BYTES + 2, "é"),
      bytes: MAX_MESSAGE_BYTES + 3,
      chars: 527,
      accepted: false,
    },
  ];

  it.each(cases)("judges a frame of $what by its UTF-8 size", async ({ frame, bytes, chars, accepted }) => {
    const channel = freshChannel("size");
    const h = await honest(channel);
    const sizer = await raw(channel, { userId: "sizer", userData: JSON.stringify({ v: 0 }) });
    await waitFor("honest to see sizer", () => h.client.member("sizer"));
    const seen = h.rec.log.length;
    const data = (JSON.parse(frame) as { data: string }).data;
    expect(frame.length).toBe(chars);
    expect(new TextEncoder().encode(frame).byteLength).toBe(bytes);

    sizer.send(frame);
    sizer.send(REQUEST);
    const got = await waitReplies(sizer, accepted ? 1 : 2);
    const stats = await roomStats(host, channel);
    if (accepted) {
      expect(got).toEqual(["ok"]);
      await waitFor("honest to see the update", () => h.client.member("sizer")?.data === data);
      expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence").map((e) => e.kind === "presence" && e.action)).toEqual(["update"]);
      expect(stats.rejectedMessages).toEqual({});
    } else {
      expect(got).toEqual(["too_large", "ok"]);
      const error = ofType(sizer, "error")[0]!;
      expect(error.message).toContain(String(MAX_MESSAGE_BYTES));
      await sleep(300);
      // Nothing else changed: the member keeps its data.
      expect(h.client.member("sizer")?.data).toEqual({ v: 0 });
      expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence")).toEqual([]);
      expect(stats.rejectedMessages).toEqual({ too_large: 1 });
    }
    expect(sizer.ws.readyState).toBe(sizer.ws.OPEN);
    await h.expectUntouched();
  });
});

describe("rate limit and abuse", () => {
  it("answers a burst over the bucket with rate_limited and serves the socket again after refill", async () => {
    const channel = freshChannel("rate");
    const h = await honest(channel);
    const burst = await raw(channel, { userId: "burst" });
    await waitFor("honest to see burst", () => h.client.member("burst"));
    const seen = h.rec.log.length;

    for (let i = 0; i < BURST + 5; i++) burst.send(REQUEST);
    const first = await waitReplies(burst, BURST + 5);
    const answered = first.filter((r) => r === "ok").length;
    // The bucket holds BURST, all answered first; refill while the burst arrives may let a few more through.
    expect(first.slice(0, BURST)).toEqual(Array(BURST).fill("ok"));
    expect(answered).toBeLessThan(BURST + 5);
    expect(first.filter((r) => r !== "ok")).toEqual(Array(BURST + 5 - answered).fill("rate_limited"));

    // 5 tokens a second: after a little more than a second, 5 requests pass again.
    await sleep(1100);
    for (let i = 0; i < 5; i++) burst.send(REQUEST);
    const second = await waitReplies(burst, BURST + 10);
    expect(second.slice(BURST + 5)).toEqual(Array(5).fill("ok"));
    expect(burst.ws.readyState).toBe(burst.ws.OPEN);

    const stats = await roomStats(host, channel);
    expect(stats.rejectedMessages).toEqual({ rate_limited: BURST + 5 - answered });
    expect(stats.closes).toEqual({});
    expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence")).toEqual([]);
    await h.expectUntouched();
  });

  const abuse = [
    { what: "invalid JSON, sent slowly enough to stay under the rate", frame: "not json", everyMs: 250, userId: "abuser", codes: ["bad_message"] },
    { what: "a flood of valid requests", frame: JSON.stringify(REQUEST), everyMs: 0, userId: undefined, codes: ["rate_limited"] },
  ];

  it.each(abuse)("closes a socket with 1008 after $what keeps being rejected, and counts it", async ({ frame, everyMs, userId, codes }) => {
    const channel = freshChannel("abuse");
    const h = await honest(channel);
    const abuser = await raw(channel, userId ? { userId } : {});
    if (userId) await waitFor("honest to see the abuser", () => h.client.member(userId));
    const seen = h.rec.log.length;

    const frames = BURST + ABUSE_CLOSE_AFTER + 5;
    for (let i = 0; i < frames && abuser.ws.readyState === abuser.ws.OPEN; i++) {
      abuser.send(frame);
      if (everyMs) await sleep(everyMs);
    }
    const closed = await abuser.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("too many rejected messages");
    const errors = ofType(abuser, "error");
    // A refill may let a request through between rejections, which starts the run anew: what
    // closes the socket is the last ABUSE_CLOSE_AFTER answers all being rejections.
    expect(errors.length).toBeGreaterThanOrEqual(ABUSE_CLOSE_AFTER);
    const answers = abuser.messages.filter((m) => m.type === "error" || m.type === "herenow");
    expect(answers.slice(-ABUSE_CLOSE_AFTER).every((m) => m.type === "error")).toBe(true);
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(codes));
    expect(errors.at(-1)!.message).toContain(`closing after ${ABUSE_CLOSE_AFTER} rejected messages`);

    const stats = await roomStats(host, channel);
    expect(stats.rejectedMessages).toEqual({ [codes[0]!]: errors.length });
    expect(stats.closes).toEqual({ policyViolation: 1 });
    if (userId) {
      // The abuser's member goes offline through the normal grace path; nothing else.
      await waitFor("honest to see the abuser offline", () => h.client.member(userId)?.status === "offline");
      expect(h.rec.actions(userId)).toEqual(["join", "offline"]);
    } else {
      await sleep(300);
    }
    expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence" && e.id !== userId)).toEqual([]);
    await h.expectUntouched();
  });

  it("does not close a socket whose rejected messages are broken up by a valid one", async () => {
    const channel = freshChannel("abuse-reset");
    const h = await honest(channel);
    const clumsy = await raw(channel, {});
    // 9 bad + 1 good uses the whole bucket; after refill, 10 bad in a row: 19 rejected in
    // all, but never 15 in a row.
    for (let i = 0; i < BURST - 1; i++) clumsy.send("{oops");
    clumsy.send(REQUEST);
    await waitReplies(clumsy, BURST);
    await sleep(2200);
    for (let i = 0; i < BURST; i++) clumsy.send("{oops");
    const got = await waitReplies(clumsy, 2 * BURST);
    expect(got).toEqual([...Array(BURST - 1).fill("bad_message"), "ok", ...Array(BURST).fill("bad_message")]);
    await sleep(300);
    expect(clumsy.ws.readyState).toBe(clumsy.ws.OPEN);
    const stats = await roomStats(host, channel);
    expect(stats.rejectedMessages).toEqual({ bad_message: 2 * BURST - 1 });
    expect(stats.closes).toEqual({});
    await h.expectUntouched();
  });

  it("answers a binary frame with binary_not_supported and keeps serving the socket", async () => {
    const channel = freshChannel("binary");
    const h = await honest(channel);
    const sender = await raw(channel, { userId: "bin" });
    await waitFor("honest to see bin", () => h.client.member("bin"));
    const seen = h.rec.log.length;

    sender.ws.send(Buffer.from(JSON.stringify({ type: "update", data: "via binary" })));
    sender.send(REQUEST);
    expect(await waitReplies(sender, 2)).toEqual(["binary_not_supported", "ok"]);
    await sleep(300);
    expect(h.client.member("bin")?.data).toBeNull();
    expect(h.rec.log.slice(seen).filter((e) => e.kind === "presence")).toEqual([]);
    const stats = await roomStats(host, channel);
    expect(stats.rejectedMessages).toEqual({ binary_not_supported: 1 });
    expect(sender.ws.readyState).toBe(sender.ws.OPEN);
    await h.expectUntouched();
  });
});

