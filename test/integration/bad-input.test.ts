/**
 * Every bad input against the shared `partykit dev`: handshakes refused with a 400 before the
 * upgrade (and counted), and bad messages answered with an `error` that changes nothing for
 * anyone (and counted).
 */
import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, inject, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../party/wire/json.ts";
import { ErrorResponse, HereNowResponse, type ServerMessage, StatsResponse } from "../../party/protocol/index.ts";
import { TEST_VARS, sleep } from "../support/dev-server.ts";
import { freshChannel, getJson, joined, type RawSocket, rawSocket, refusedConnect, waitFor } from "../support/clients.ts";

const host = inject("host");
const SETTLE_MS = 6 * Number(TEST_VARS.PRESENCE_TICK_MS);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A raw socket that has its snapshot, pings every second, and is closed after the test. */
async function socket(channel: string, query: Record<string, string> = {}): Promise<RawSocket> {
  const s = await rawSocket(host, channel, query);
  await waitFor("the snapshot", () => s.messages.some((m) => m.type === "sync" && !m.more));
  const pinger = setInterval(() => s.ws.readyState === 1 && s.send({ type: "ping" }), 1000);
  cleanups.push(() => {
    clearInterval(pinger);
    s.ws.close();
  });
  return s;
}

/** Sends one frame and returns the `error` reply it gets. */
async function errorReply(s: RawSocket, frame: string | Buffer): Promise<Extract<ServerMessage, { type: "error" }>> {
  const errorsBefore = s.messages.filter((m) => m.type === "error").length;
  s.ws.send(frame);
  const errors = await waitFor("an error reply", () => {
    const errors = s.messages.filter((m) => m.type === "error");
    return errors.length > errorsBefore ? errors : null;
  });
  expect(errors.length).toBe(errorsBefore + 1);
  return errors[errorsBefore] as Extract<ServerMessage, { type: "error" }>;
}

/** Nested arrays `levels` deep: `[[[…]]]`. */
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

async function stats(channel: string) {
  const { status, body } = await getJson(host, `/parties/main/${channel}?stats`);
  expect(status).toBe(200);
  return StatsResponse.parse(body).content;
}

describe("bad handshakes", () => {
  const enc = encodeURIComponent;
  const cases: Array<{ name: string; path: (channel: string) => string; message: RegExp }> = [
    { name: "a channel name with a space", path: () => "/parties/main/bad%20name?userId=u", message: /bad channel name.*letters, digits/ },
    { name: "a channel name with !", path: () => "/parties/main/bad!name", message: /bad channel name.*letters, digits/ },
    { name: "a channel name of 129 characters", path: () => `/parties/main/${"a".repeat(129)}`, message: /longer than 128/ },
    { name: "an empty userId", path: (c) => `/parties/main/${c}?userId=`, message: /userId is empty/ },
    { name: "a userId of 129 characters", path: (c) => `/parties/main/${c}?userId=${"u".repeat(129)}`, message: /userId is longer than 128/ },
    { name: "two userIds", path: (c) => `/parties/main/${c}?userId=a&userId=b`, message: /userId is given 2 times/ },
    { name: "userData that is not JSON", path: (c) => `/parties/main/${c}?userId=u&userData=${enc("{nope")}`, message: /userData is not valid JSON/ },
    { name: "userData without a userId", path: (c) => `/parties/main/${c}?userData=${enc("{}")}`, message: /userData needs a userId/ },
    {
      name: "userData over 4 KiB",
      path: (c) => `/parties/main/${c}?userId=u&userData=${enc(JSON.stringify("x".repeat(4095)))}`,
      message: /userData is larger than 4096 bytes/,
    },
    {
      name: "userData over 4 KiB in multi-byte characters",
      path: (c) => `/parties/main/${c}?userId=u&userData=${enc(JSON.stringify("é".repeat(2048)))}`,
      message: /userData is larger than 4096 bytes/,
    },
    {
      name: `userData nested ${MAX_JSON_DEPTH + 1} levels`,
      path: (c) => `/parties/main/${c}?userId=u&userData=${enc(JSON.stringify(nested(MAX_JSON_DEPTH + 1)))}`,
      message: /userData nests deeper than 32 levels/,
    },
    { name: "an empty clientType", path: (c) => `/parties/main/${c}?userId=u&clientType=`, message: /clientType is empty/ },
    { name: "a clientType with a space", path: (c) => `/parties/main/${c}?userId=u&clientType=${enc("my app")}`, message: /clientType may only hold/ },
    { name: "a clientType of 33 characters", path: (c) => `/parties/main/${c}?userId=u&clientType=${"t".repeat(33)}`, message: /clientType is longer than 32/ },
  ];

  it.each(cases)("refuses $name with a 400 that says what is wrong, before the upgrade", async ({ path, message }) => {
    const channel = freshChannel();
    const { status, body } = await refusedConnect(host, path(channel));
    expect(status).toBe(400);
    const error = ErrorResponse.parse(JSON.parse(body));
    expect(error).toMatchObject({ code: 400, error: "bad_request" });
    expect(error.message).toMatch(message);
    expect(body).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it.each<{ name: string; channel?: string; query: Record<string, string> & { userId: string } }>([
    { name: "userData of exactly 4096 bytes", query: { userId: "u", userData: JSON.stringify("x".repeat(4094)) } },
    { name: `userData nested exactly ${MAX_JSON_DEPTH} levels`, query: { userId: "u", userData: JSON.stringify(nested(MAX_JSON_DEPTH)) } },
    { name: "a userId of 128 characters with any characters", query: { userId: `${"ü".repeat(121)} &?/#%!` } },
    { name: "a clientType of 32 characters", query: { userId: "u", clientType: "a_b-c.".padEnd(32, "x") } },
    { name: "a channel name of 128 characters of every allowed kind", channel: "aZ09_-.:@".padEnd(128, "x"), query: { userId: "u" } },
  ])("accepts $name (the limits are inclusive)", async ({ channel, query }) => {
    const s = await socket(channel ?? freshChannel(), query);
    // The snapshot shows the channel as of the last tick; the joiner's own join is the next diff.
    const diff = await waitFor("the join's diff", () => s.messages.find((m) => m.type === "diff"));
    expect(diff).toMatchObject({
      clientAmount: 1,
      userAmount: 1,
      events: [{ action: "join", member: { id: query.userId, data: JSON.parse(query.userData ?? "null") } }],
    });
  });

  it("counts refused handshakes in the room's stats and lets nobody in", async () => {
    const channel = freshChannel();
    const bad = [
      `?userId=`,
      `?userId=u&userData=%7B`,
      `?userId=u&clientType=a%20b`,
      `?userData=1`,
    ];
    for (const query of bad) expect((await refusedConnect(host, `/parties/main/${channel}${query}`)).status).toBe(400);
    // A forged internal request cannot add to the count.
    const forged = await fetch(`http://${host}/parties/main/${channel}`, {
      method: "POST",
      headers: { "x-presence-internal": "refused" },
      body: "bad_handshake",
    });
    expect(forged.status).toBe(403);
    await waitFor("4 refused handshakes counted", async () => (await stats(channel)).refusedConnections.bad_handshake === bad.length);
    await sleep(SETTLE_MS);
    const counted = await stats(channel);
    expect(counted).toMatchObject({ clientAmount: 0, userAmount: 0, members: 0, sockets: 0, refusedConnections: { bad_handshake: 4 } });
  });
});

describe("bad messages", () => {
  const tooDeep = JSON.stringify({ type: "update", data: nested(MAX_JSON_DEPTH + 8) });
  const cases: Array<{ name: string; frame: string | Buffer; code: string; message: RegExp }> = [
    { name: "malformed JSON", frame: "{", code: "bad_message", message: /not valid JSON/ },
    { name: "an empty frame", frame: "", code: "bad_message", message: /not valid JSON/ },
    { name: "update without data", frame: `{"type":"update"}`, code: "bad_message", message: /data/ },
    { name: "herenow with a number id", frame: `{"type":"herenow","id":5}`, code: "bad_message", message: /id/ },
    { name: "herenow with an empty id", frame: `{"type":"herenow","id":""}`, code: "bad_message", message: /id/ },
    { name: "herenow with a string for distinct", frame: `{"type":"herenow","id":"1","distinct":"yes"}`, code: "bad_message", message: /distinct/ },
    { name: "a type that does not exist", frame: `{"type":"dance"}`, code: "unknown_message", message: /unknown message type; expected one of ping, update, leave, herenow, sync/ },
    { name: "a type that is a number", frame: `{"type":7}`, code: "unknown_message", message: /unknown message type/ },
    { name: "an object with no type", frame: `{}`, code: "unknown_message", message: /unknown message type/ },
    { name: "a prototype key as type", frame: `{"type":"__proto__"}`, code: "unknown_message", message: /unknown message type/ },
    { name: "an array", frame: `[{"type":"ping"}]`, code: "unknown_message", message: /unknown message type/ },
    { name: "null", frame: `null`, code: "unknown_message", message: /unknown message type/ },
    { name: "a number", frame: `42`, code: "unknown_message", message: /unknown message type/ },
    { name: "a message nested too deep", frame: tooDeep, code: "bad_message", message: /nests deeper than 32 levels/ },
    { name: "update with userData over 4 KiB", frame: JSON.stringify({ type: "update", data: "x".repeat(5000) }), code: "too_large", message: /4096 bytes/ },
    { name: "a frame over 16 KiB", frame: JSON.stringify({ type: "ping", pad: "x".repeat(17 * 1024) }), code: "too_large", message: /larger than 16384 bytes/ },
    { name: "a binary frame", frame: Buffer.from(`{"type":"ping"}`), code: "binary_not_supported", message: /text frames/ },
  ];

  it.each(cases)("answers $name with an error $code", async ({ frame, code, message }) => {
    const channel = freshChannel();
    const s = await socket(channel, { userId: "M" });
    const reply = await errorReply(s, frame);
    expect(reply.code).toBe(code);
    expect(reply.message).toMatch(message);
    // The socket stays open and usable.
    s.send({ type: "herenow", id: "after" });
    await waitFor("the herenow answer", () => s.messages.some((m) => m.type === "herenow" && m.id === "after"));
  });

  it("changes nothing for anyone and counts each rejected message by code", async () => {
    const channel = freshChannel();
    const member = await socket(channel, { userId: "M", userData: JSON.stringify({ keep: true }) });
    const other = await joined(host, { channel, userId: "Other", userData: { other: 1 } });
    cleanups.push(() => other.close());
    const watch = await socket(channel);
    await sleep(SETTLE_MS);
    const before = (await getJson(host, `/parties/main/${channel}?includeUsers=true`)).body;
    const watchSeen = watch.messages.length;
    const otherMembers = JSON.stringify(other.members);

    for (const { frame, code } of cases) expect((await errorReply(member, frame)).code).toBe(code);

    // Nothing changed: herenow is the same, and the next thing the watcher hears is a later join.
    expect((await getJson(host, `/parties/main/${channel}?includeUsers=true`)).body).toEqual(before);
    HereNowResponse.parse(before);
    const sentinel = await joined(host, { channel, userId: "Sentinel" });
    cleanups.push(() => sentinel.close());
    await waitFor("the sentinel's join", () => watch.messages.slice(watchSeen).some((m) => m.type === "diff"));
    const diffs = watch.messages.slice(watchSeen).filter((m) => m.type === "diff");
    expect(diffs.flatMap((d) => d.events.map((e) => [e.action, e.member.id]))).toEqual([["join", "Sentinel"]]);
    expect(diffs.flatMap((d) => d.quiet)).toEqual([]);
    expect(JSON.stringify(other.members.filter((m) => m.id !== "Sentinel"))).toBe(otherMembers);
    expect(other.member("M")!.data).toEqual({ keep: true });

    const expected: Record<string, number> = {};
    for (const { code } of cases) expected[code] = (expected[code] ?? 0) + 1;
    await waitFor("the counters", async () => isDeepStrictEqual((await stats(channel)).rejectedMessages, expected));
    expect((await stats(channel)).rejectedMessages).toEqual(expected);
  });

  it("refuses update and leave from an observer as not_a_member and changes nothing", async () => {
    const channel = freshChannel();
    const member = await joined(host, { channel, userId: "M", userData: 1 });
    cleanups.push(() => member.close());
    const observer = await socket(channel);
    await sleep(SETTLE_MS);
    const seen = observer.messages.length;

    expect(await errorReply(observer, JSON.stringify({ type: "update", data: { sneaky: true } }))).toMatchObject({ code: "not_a_member" });
    expect(await errorReply(observer, JSON.stringify({ type: "leave" }))).toMatchObject({ code: "not_a_member" });
    await sleep(SETTLE_MS);

    expect(observer.messages.slice(seen).filter((m) => m.type === "diff")).toEqual([]);
    const herenow = (await getJson(host, `/parties/main/${channel}?includeUsers=true`)).body;
    expect(herenow.content.channels[channel]).toEqual({ channel, clientAmount: 1, userAmount: 1, clientTypes: {}, users: [{ id: "M", data: 1 }] });
    expect((await stats(channel)).rejectedMessages).toEqual({ not_a_member: 2 });
  });

  it("refuses update and leave from a client that already left", async () => {
    const channel = freshChannel();
    const s = await socket(channel, { userId: "Gone" });
    s.send({ type: "leave" });
    await waitFor("the left reply", () => s.messages.some((m) => m.type === "left"));
    expect(await errorReply(s, JSON.stringify({ type: "update", data: 2 }))).toMatchObject({ code: "not_a_member" });
    expect(await errorReply(s, JSON.stringify({ type: "leave" }))).toMatchObject({ code: "not_a_member" });
    const herenow = (await getJson(host, `/parties/main/${channel}?includeUsers=true`)).body;
    expect(herenow.content.channels[channel]).toEqual({ channel, clientAmount: 0, userAmount: 0, clientTypes: {}, users: [] });
  });
});
