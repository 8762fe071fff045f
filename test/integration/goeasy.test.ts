/**
 * Coming from GoEasy: the seed's own GoEasy code (test/support/goeasy-seed.ts, verbatim but
 * for its host and appkey) runs in Node against the service, with `partykit-presence/goeasy`
 * as `GoEasy`: its client is a member, its `onPresence` logs other users' events in GoEasy's
 * shape, its `hereNow` alerts GoEasy's answer, its `unsubscribePresence` is a leave. And the
 * seed's REST herenow, `/herenow?appkey=…`, takes the server key from the query, there only.
 * Its own server per engine (the seed names fixed channels: my_channel), with a server key.
 */
import vm from "node:vm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoEasy } from "../../client/goeasy.ts";
import type { PresenceClient } from "../../client/index.ts";
import { freshChannel, joined, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { SEED_CHANNELS, SEED_USER, seedSnippets } from "../support/goeasy-seed.ts";

const KEY = "goeasy-migration-server-key";
let server: DevServer;
const clients: PresenceClient[] = [];
/** Node 20 has no global WebSocket; the seed's code passes none, as in a browser. */
const hadWebSocket = "WebSocket" in globalThis;

beforeAll(async () => {
  if (!hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  server = await startDevServer({ vars: { PRESENCE_SERVER_KEY: KEY } });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.stop();
  if (!hadWebSocket) delete (globalThis as { WebSocket?: unknown }).WebSocket;
});

/** The seed's code in one global scope, with GoEasy, and what it logged and alerted. */
function seedScope() {
  const logs: string[] = [];
  const alerts: string[] = [];
  const context = vm.createContext({
    GoEasy,
    JSON,
    console: { log: (...parts: unknown[]) => logs.push(parts.map(String).join("")) },
    alert: (text: unknown) => alerts.push(String(text)),
  });
  return { logs, alerts, run: (code: string) => vm.runInContext(code, context) as unknown };
}

/** The presence events the seed's `onPresence` logged, parsed. */
const presenceLogged = (logs: string[]) =>
  logs.filter((line) => line.startsWith("Presence events: ")).map((line) => JSON.parse(line.slice("Presence events: ".length)) as Record<string, unknown>);

describe("GoEasy's API (partykit-presence/goeasy)", () => {
  it("runs the seed's client code unchanged but for its host and key, in Node", async () => {
    const seed = seedSnippets(server.host, KEY);
    const scope = seedScope();
    scope.run(seed.construct);
    scope.run(seed.subscribePresence);

    // Subscribing made the seed's user a member of my_channel, with its userData.
    const ted = await joined(server.host, { channel: SEED_CHANNELS[0], userId: "Ted", userData: "", WebSocket });
    clients.push(ted);
    await waitFor("Ted to see the seed's user online", () => ted.member(SEED_USER.id)?.status === "online");
    expect(ted.member(SEED_USER.id)?.data).toBe(SEED_USER.data);

    // Its onPresence hears Jack join, in GoEasy's shape; then Jack's update (not a GoEasy action) is not passed on, and Jack's close is an offline.
    const jack = await joined(server.host, { channel: SEED_CHANNELS[0], userId: "Jack", userData: "18 years old", WebSocket });
    await waitFor("the seed's onPresence to log Jack's join", () => presenceLogged(scope.logs).some((event) => (event.member as { id: string }).id === "Jack"));
    const join = presenceLogged(scope.logs).find((event) => (event.member as { id: string }).id === "Jack")!;
    expect(join).toMatchObject({ action: "join", member: { id: "Jack", data: "18 years old" }, amount: 3, userAmount: 3, clientAmount: 3 });
    expect(Object.keys(join).sort()).toEqual(["action", "amount", "clientAmount", "member", "time", "userAmount"]);

    // hereNow alerts GoEasy's answer for both channels, as JSON.
    scope.run(seed.hereNow);
    await waitFor("the seed's hereNow to alert", () => scope.alerts.length === 1);
    expect(scope.alerts[0]!.startsWith("hereNow response: {")).toBe(true);
    const answer = JSON.parse(scope.alerts[0]!.slice("hereNow response: ".length));
    expect(answer).toMatchObject({
      code: 200,
      content: {
        channels: {
          my_channel: {
            channel: "my_channel",
            clientAmount: 3,
            userAmount: 3,
            users: expect.arrayContaining([
              { id: "Jack", data: "18 years old" },
              { id: "Ted", data: "" },
              { id: SEED_USER.id, data: SEED_USER.data },
            ]),
          },
          my_channel2: { channel: "my_channel2", clientAmount: 0, userAmount: 0, users: [] },
        },
      },
    });
    expect(answer.content.channels.my_channel.users).toHaveLength(3);

    jack.setUserData("19 years old");
    jack.close();
    await waitFor("the seed's onPresence to log Jack offline", () => presenceLogged(scope.logs).some((event) => event.action === "offline"), 10_000);
    // (Ted's join may come before the seed's first list, where it is no event: only Jack's are counted.)
    const jacks = presenceLogged(scope.logs).filter((event) => (event.member as { id: string }).id === "Jack");
    expect(jacks.map((event) => event.action)).toEqual(["join", "offline"]);

    // unsubscribePresence is the seed user's leave: Ted sees it go at once, not offline after a grace.
    const leaves: string[] = [];
    ted.on("presence", (event) => leaves.push(`${event.action}:${event.member.id}`));
    scope.run(seed.unsubscribePresence);
    await waitFor("Ted to see the seed's user leave", () => leaves.includes(`leave:${SEED_USER.id}`));
    expect(ted.member(SEED_USER.id)).toBeUndefined();
    expect(leaves).not.toContain(`offline:${SEED_USER.id}`);
  });

  it("answers the seed's REST herenow with the server key as its appkey, and refuses a wrong key without echoing it", async () => {
    const channel = freshChannel("goeasy-rest");
    const seed = seedSnippets(server.host, KEY);
    clients.push(
      await joined(server.host, { channel, userId: "Jack2", userData: "18 years old", WebSocket }),
      await joined(server.host, { channel, userId: "Ted2", userData: "", WebSocket }),
      await joined(server.host, { channel, userId: "Ted2", userData: "", WebSocket }),
    );
    const response = await fetch(seed.restUrl({ channel, includeUsers: true, distinct: true }));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      code: 200,
      content: { channels: { [channel]: { channel, clientAmount: 3, userAmount: 2, users: [{ id: "Jack2", data: "18 years old" }, { id: "Ted2", data: "" }] } } },
    });

    const wrong = await fetch(seedSnippets(server.host, "not-the-key").restUrl({ channel, includeUsers: false, distinct: false }));
    const wrongText = await wrong.text();
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrongText)).toMatchObject({ code: 401, error: "unauthorized", message: expect.stringContaining("appkey") });
    expect(wrongText).not.toContain("not-the-key");

    const twice = await fetch(`http://${server.host}/herenow?appkey=${KEY}&appkey=${KEY}&channel=${channel}`);
    expect(twice.status).toBe(401);

    // Only herenow takes a key from the query: the directory still wants it in the header.
    const users = await fetch(`http://${server.host}/users?userId=Jack2&appkey=${KEY}`);
    expect(users.status).toBe(401);
    const withHeader = await fetch(`http://${server.host}/users?userId=Jack2`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(withHeader.status).toBe(200);
  });

  it("tells onFailed why a subscription or a hereNow failed, as GoEasy's {code, content}", async () => {
    const goEasy = new GoEasy({ host: server.host, appkey: KEY, userId: "bad\u0000id" });
    const failed = await new Promise<{ code: number; content: string }>((resolve) => goEasy.subscribePresence({ channel: freshChannel("goeasy-bad"), onFailed: resolve }));
    expect(failed.code).toBe(400);
    expect(failed.content).toMatch(/userId/);

    const hereNowFailed = await new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      goEasy.hereNow({ channels: ["bad channel name!"], onFailed: (error) => resolve([...got, error]) }, (response) => got.push(response));
    });
    expect(hereNowFailed).toHaveLength(2);
    expect(hereNowFailed[0]).toEqual(hereNowFailed[1]);
    expect(hereNowFailed[0]).toMatchObject({ code: 400, content: expect.stringContaining("bad_request") });

    const unknown = await new Promise<{ code: number; content: string }>((resolve) => goEasy.unsubscribePresence({ channel: "never-subscribed", onFailed: resolve }));
    expect(unknown).toEqual({ code: 400, content: "not subscribed to the presence of never-subscribed" });
  });
});
