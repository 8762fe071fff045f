/**
 * Coming from GoEasy, in a browser: the seed's own GoEasy code (test/support/goeasy-seed.ts,
 * verbatim but for its host and appkey) runs as classic scripts in Debian's Chromium, with
 * `GoEasy` from the packed `partykit-presence/goeasy` (bundled by esbuild, as an app would)
 * on the page. Its console.log and alert are read from the page; a Node client in my_channel
 * sees the page's user join and leave. Its own dev server: the seed names fixed channels.
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): without it this test fails, it never skips.
 */
import type { Browser } from "playwright-core";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { launchChromium } from "../support/chromium.ts";
import { joined, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { SEED_CHANNELS, SEED_USER, seedSnippets } from "../support/goeasy-seed.ts";
import { type PageSite, pageHtml, servePages } from "../support/page-site.ts";

const KEY = "goeasy-browser-server-key";
const packedDir = inject("packedDir");
let server: DevServer;
let site: PageSite;
let browser: Browser;
const clients: PresenceClient[] = [];

beforeAll(async () => {
  server = await startDevServer({ vars: { PRESENCE_SERVER_KEY: KEY } });
  // `GoEasy` as a global: the seed's classic scripts call `new GoEasy(...)`.
  site = await servePages(packedDir, { "goeasy.js": 'import { GoEasy } from "partykit-presence/goeasy";\nwindow.GoEasy = GoEasy;\n' }, { "/": pageHtml(`import "/goeasy.js";`) });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await browser?.close();
  await site?.close();
  await server?.stop();
});

describe("GoEasy's API in a browser (Chromium)", () => {
  it("runs the seed's client code unchanged but for its host and key", async () => {
    const seed = seedSnippets(server.host, KEY);
    const page = await browser.newPage();
    const logs: string[] = [];
    const alerts: string[] = [];
    const errors: string[] = [];
    page.on("console", (message) => (message.type() === "error" ? errors.push(message.text()) : logs.push(message.text())));
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("dialog", (dialog) => {
      alerts.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(site.url);
    await page.waitForFunction(() => typeof (window as { GoEasy?: unknown }).GoEasy === "function");

    // Classic scripts, as a page would have them: `var goEasy` is a global the next ones use.
    await page.addScriptTag({ content: seed.construct });
    await page.addScriptTag({ content: seed.subscribePresence });
    const node = await joined(server.host, { channel: SEED_CHANNELS[0], userId: "Jack", userData: "18 years old", WebSocket });
    clients.push(node);
    await waitFor("Node to see the page's user online", () => node.member(SEED_USER.id)?.status === "online");
    expect(node.member(SEED_USER.id)?.data).toBe(SEED_USER.data);

    // A second Node user joins: the page's onPresence logs it.
    const ted = await joined(server.host, { channel: SEED_CHANNELS[0], userId: "Ted", userData: "", WebSocket });
    clients.push(ted);
    const logged = () => logs.filter((line) => line.startsWith("Presence events: ")).map((line) => JSON.parse(line.slice("Presence events: ".length).trim()));
    await waitFor("the page's onPresence to log Ted's join", () => logged().some((event) => event.member.id === "Ted"));
    expect(logged().find((event) => event.member.id === "Ted")).toMatchObject({ action: "join", member: { id: "Ted", data: "" }, amount: 3, userAmount: 3, clientAmount: 3 });

    await page.addScriptTag({ content: seed.hereNow });
    await waitFor("the page's hereNow to alert", () => alerts.length === 1);
    const answer = JSON.parse(alerts[0]!.slice("hereNow response: ".length));
    expect(answer).toMatchObject({
      code: 200,
      content: {
        channels: {
          my_channel: { channel: "my_channel", clientAmount: 3, userAmount: 3 },
          my_channel2: { channel: "my_channel2", clientAmount: 0, userAmount: 0, users: [] },
        },
      },
    });
    expect(answer.content.channels.my_channel.users.map((user: { id: string }) => user.id).sort()).toEqual(["Jack", "Ted", SEED_USER.id].sort());

    const seen: string[] = [];
    node.on("presence", (event) => seen.push(`${event.action}:${event.member.id}`));
    await page.addScriptTag({ content: seed.unsubscribePresence });
    await waitFor("Node to see the page's user leave", () => seen.includes(`leave:${SEED_USER.id}`));
    expect(node.member(SEED_USER.id)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });
});
