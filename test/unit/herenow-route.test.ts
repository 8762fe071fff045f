import { describe, expect, it } from "vitest";
import { hereNowAcrossChannels } from "../../party/edge/herenow.ts";
import type { Parties } from "../../party/server/calls.ts";
import { fail, HttpError, ok } from "../../party/server/envelope.ts";
import type { ChannelHereNow } from "../../party/protocol/index.ts";
import { type FakeAnswer, fakeParties } from "../support/parties.ts";

type Call = { channel: string; args: unknown };

/** A fake set of rooms: each answers the `herenow` call (through the real envelope and check) as told. */
function rooms(answers: Record<string, ChannelHereNow | Response | Error> = {}) {
  const fake = fakeParties(({ room }) => answers[room] ?? { channel: room, clientAmount: 0, userAmount: 0, clientTypes: {} });
  return {
    parties: fake.parties,
    get calls(): Call[] {
      return fake.calls.map(({ room, call, args }) => {
        expect(call).toBe("herenow");
        return { channel: room, args };
      });
    },
  };
}

/** Rooms that answer through `answer`, for tests that time the calls. */
function roomsAnswering(answer: FakeAnswer): Parties {
  return fakeParties(answer).parties;
}

/** The route's answer: its response, or the envelope of the refusal it threw (as the edge's entry point answers it). */
async function get(path: string, parties: Parties): Promise<{ status: number; body: any }> {
  const response = await hereNowAcrossChannels(new URL(`http://host${path}`), parties).catch((error: unknown) => {
    if (error instanceof HttpError) return error.response();
    throw error;
  });
  return { status: response.status, body: await response.json() };
}

describe("GET /herenow across channels", () => {
  it("merges the rooms' answers into one envelope", async () => {
    const a: ChannelHereNow = { channel: "A", clientAmount: 2, userAmount: 1, clientTypes: {}, users: [{ id: "Jack", data: { age: 18 } }, { id: "Jack", data: { age: 18 } }] };
    const b: ChannelHereNow = { channel: "B", clientAmount: 1, userAmount: 1, clientTypes: {}, users: [{ id: "Ted", data: null }] };
    const fake = rooms({ A: a, B: b });
    const { status, body } = await get("/herenow?channel=A&channel=B&includeUsers=true", fake.parties);
    expect(status).toBe(200);
    expect(body).toEqual({ code: 200, content: { channels: { A: a, B: b } } });
    expect(fake.calls.map((c) => c.channel).sort()).toEqual(["A", "B"]);
  });

  it("accepts comma-separated channels and asks each room once", async () => {
    const fake = rooms();
    const { status, body } = await get("/herenow?channel=A,B&channel=B&channel=C,A", fake.parties);
    expect(status).toBe(200);
    expect(Object.keys(body.content.channels)).toEqual(["A", "B", "C"]);
    expect(fake.calls.map((c) => c.channel)).toEqual(["A", "B", "C"]);
  });

  it("asks the rooms in parallel, not one after another", async () => {
    let inFlight = 0;
    let most = 0;
    const parties = roomsAnswering(async ({ room }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { channel: room, clientAmount: 0, userAmount: 0, clientTypes: {} };
    });
    const { status } = await get("/herenow?channel=A,B,C,D", parties);
    expect(status).toBe(200);
    expect(most).toBe(4);
  });

  it.each<[string, object]>([
    ["no flags", { includeUsers: false, distinct: false, limit: 1000 }],
    ["includeUsers=true", { includeUsers: true, distinct: false, limit: 1000 }],
    ["includeUsers=true&distinct=true", { includeUsers: true, distinct: true, limit: 1000 }],
    ["includeUsers=1&distinct=1", { includeUsers: true, distinct: true, limit: 1000 }],
    ["distinct=true&includeUsers=0", { includeUsers: false, distinct: true, limit: 1000 }],
    ["includeUsers=true&limit=20", { includeUsers: true, distinct: false, limit: 20 }],
    ["includeUsers=true&cursor=u7", { includeUsers: true, distinct: false, limit: 1000, cursor: "u7" }],
  ])("passes the flags of ?%s to every room", async (flags, expected) => {
    const fake = rooms();
    await get(`/herenow?channel=A${flags.includes("cursor") ? "" : "&channel=B"}&${flags}`, fake.parties);
    expect(fake.calls).toEqual(flags.includes("cursor") ? [{ channel: "A", args: expected }] : [
      { channel: "A", args: expected },
      { channel: "B", args: expected },
    ]);
  });

  it.each<[string, string, RegExp]>([
    ["no channel", "/herenow", /at least one channel/],
    ["an empty channel", "/herenow?channel=", /empty/],
    ["101 channels", `/herenow?channel=${Array.from({ length: 101 }, (_, i) => `c${i}`).join(",")}`, /at most 100 channels/],
    ["a channel with a space", "/herenow?channel=ok&channel=not%20ok", /letters, digits/],
    ["a channel with a slash", "/herenow?channel=a%2Fb", /letters, digits/],
    ["a channel of 129 characters", `/herenow?channel=${"x".repeat(129)}`, /longer than 128/],
    ["a bad includeUsers flag", "/herenow?channel=A&includeUsers=yes", /includeUsers/],
    ["a bad distinct flag", "/herenow?channel=A&distinct=maybe", /distinct/],
    ["a limit of 0", "/herenow?channel=A&includeUsers=true&limit=0", /limit is at least 1/],
    ["a cursor across two channels", "/herenow?channel=A&channel=B&includeUsers=true&cursor=u1", /cursor pages one channel/],
  ])("answers 400 for %s and asks no room", async (_what, path, why) => {
    const fake = rooms();
    const { status, body } = await get(path, fake.parties);
    expect(status).toBe(400);
    expect(body).toEqual({ code: 400, error: "bad_request", message: expect.stringMatching(why) });
    expect(fake.calls).toEqual([]);
  });

  it("takes exactly 100 channels", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const fake = rooms();
    const { status, body } = await get(`/herenow?${names.map((n) => `channel=${n}`).join("&")}`, fake.parties);
    expect(status).toBe(200);
    expect(Object.keys(body.content.channels)).toHaveLength(100);
    expect(fake.calls).toHaveLength(100);
  });

  it.each<[string, Response | Error, RegExp]>([
    ["answers an error envelope", fail(400, "bad_request", "no"), /B \(main\/B answered 400: no\)/],
    ["answers 500 with no JSON body", new Response("boom", { status: 500 }), /B \(main\/B answered 500\)/],
    ["answers 200 for another channel", ok({ channel: "other", clientAmount: 0, userAmount: 0, clientTypes: {} }), /B \(room answered for other\)/],
    ["answers 200 with a malformed body", ok({ nope: true }), /B \(main\/B answered herenow with .*channel/],
    ["throws", new Error("connection reset"), /B \(main\/B: connection reset\)/],
  ])("answers 502 naming the room when one room %s", async (_what, answer, why) => {
    const fake = rooms({ B: answer });
    const { status, body } = await get("/herenow?channel=A&channel=B", fake.parties);
    expect(status).toBe(502);
    expect(body).toEqual({ code: 502, error: "internal", message: expect.stringMatching(why) });
    expect(body.message).not.toMatch(/A \(/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it("names every failing room", async () => {
    const fake = rooms({ A: new Error("x"), C: new Error("y") });
    const { status, body } = await get("/herenow?channel=A,B,C", fake.parties);
    expect(status).toBe(502);
    expect(body.message).toMatch(/A \(main\/A: x\).*C \(main\/C: y\)/);
  });
});
