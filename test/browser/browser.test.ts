/**
 * The packed package runs unchanged in a browser: `partykit-presence/client`, as installed
 * from the tarball (test/support/packed.ts), is bundled for the browser with esbuild (a Node
 * built-in anywhere in its imports fails the build), served from a tiny page on 127.0.0.1,
 * and driven in Debian's Chromium through playwright-core. The page's client uses the
 * browser's own WebSocket and fetch; a Node client in the same channel watches it. A second
 * page renders a React component with `usePresence` from `partykit-presence/react`, and two
 * more a friends list with `useUsers`: in React, and in Vue from `partykit-presence/vue`.
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): without it these tests fail, they never skip.
 */
import { type Browser, type Page } from "playwright-core";
import { launchChromium } from "../support/chromium.ts";
import { type PageSite, pageHtml, servePages } from "../support/page-site.ts";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClientPresenceEvent, PresenceClient } from "../../client/index.ts";
import { freshChannel, joined, waitFor } from "../support/clients.ts";
import { TEST_VARS } from "../support/dev-server.ts";

type ClientModule = typeof import("../../client/index.ts");

declare global {
  interface Window {
    /** The bundled client module, set by the page once it has loaded. */
    presence?: ClientModule;
    /** The page's client and what it saw, set by the tests. */
    client?: PresenceClient;
    seen?: ClientPresenceEvent[];
    /** The device helper's module, on the /device page. */
    presenceDevice?: typeof import("../../client/device.ts");
    /** The React page's entry: renders a roster of `channel` as `userId`; returns an unmount function. */
    renderRoster?: (options: { host: string; channel: string; userId: string }) => () => void;
    /** The friends pages' entry (React or Vue): a friends list on useUsers; returns an unmount function. */
    mountFriends?: (options: FriendsOptions) => () => void;
    /** Replaces the friends page's watched userIds. */
    setFriends?: (userIds: string[]) => void;
  }
}

/** What a friends page is mounted with. */
type FriendsOptions = { host: string; channel: string; userId: string; userIds: string[] };

const host = inject("host");
/** The shared server's grace period. */
const GRACE_MS = Number(TEST_VARS.PRESENCE_GRACE_MS);
const packedDir = inject("packedDir");

/** The React page's module: a roster component on usePresence, from the installed package. */
const ROSTER_SOURCE = `
import { createElement as h } from "react";
import { createRoot } from "react-dom/client";
import { usePresence } from "partykit-presence/react";

function Roster({ host, channel, userId }) {
  const { online, counts, status } = usePresence({ host, channel, userId, userData: { ui: "react" }, clientType: "web" });
  return h("section", { id: "roster", "data-status": status, "data-users": counts.userAmount, "data-clients": counts.clientAmount },
    h("ul", null, online.map((m) => h("li", { key: m.id, "data-types": Object.keys(m.clientTypes).join(",") }, m.id))));
}

window.renderRoster = (props) => {
  const root = createRoot(document.getElementById("app"));
  root.render(h(Roster, props));
  return () => root.unmount();
};
`;

/** A friends list on `useUsers`, in React and in Vue: the channel's online members, then each friend with its state, client types and lastSeen. */
const FRIENDS_REACT_SOURCE = `
import { createElement as h, useState } from "react";
import { createRoot } from "react-dom/client";
import { useUsers } from "partykit-presence/react";

let setIds;
function Friends({ host, channel, userId, userIds }) {
  const [ids, set] = useState(userIds);
  setIds = set;
  const { online, status, users } = useUsers({ host, channel, userId, clientType: "web", userIds: ids });
  return h("section", { id: "friends", "data-status": status },
    h("ul", { className: "members" }, online.map((m) => h("li", { key: m.id }, m.id))),
    h("ul", { className: "friends" }, users.map((u) => h("li", { key: u.id, "data-online": String(u.online), "data-types": Object.keys(u.clientTypes).join(","), "data-last-seen": String(u.lastSeen ?? "") }, u.id))));
}

window.setFriends = (next) => setIds(next);
window.mountFriends = (props) => {
  const root = createRoot(document.getElementById("app"));
  root.render(h(Friends, props));
  return () => root.unmount();
};
`;

const FRIENDS_VUE_SOURCE = `
import { createApp, h, ref } from "vue";
import { useUsers } from "partykit-presence/vue";

window.mountFriends = ({ host, channel, userId, userIds }) => {
  const ids = ref(userIds);
  window.setFriends = (next) => (ids.value = next);
  const app = createApp({
    setup() {
      const { online, status, users } = useUsers(() => ({ host, channel, userId, clientType: "web", userIds: ids.value }));
      return () => h("section", { id: "friends", "data-status": status.value }, [
        h("ul", { class: "members" }, online.value.map((m) => h("li", { key: m.id }, m.id))),
        h("ul", { class: "friends" }, users.value.map((u) => h("li", { key: u.id, "data-online": String(u.online), "data-types": Object.keys(u.clientTypes).join(","), "data-last-seen": String(u.lastSeen ?? "") }, u.id))),
      ]);
    },
  });
  app.mount("#app");
  return () => app.unmount();
};
`;

const PAGES: Record<string, string> = {
  "/": pageHtml(`import * as presence from "/presence-client.js"; window.presence = presence;`),
  "/react": pageHtml(`import "/roster.js";`),
  "/device": pageHtml(`import * as device from "/presence-device.js"; window.presenceDevice = device;`),
  "/friends-react": pageHtml(`import "/friends-react.js";`),
  "/friends-vue": pageHtml(`import "/friends-vue.js";`),
};

let site: PageSite;
let pageUrl: string;
let browser: Browser;
let bundleInputs: string[] = [];

beforeAll(async () => {
  site = await servePages(
    packedDir,
    {
      "presence-client.js": 'export * from "partykit-presence/client";\n',
      "roster.js": ROSTER_SOURCE,
      "presence-device.js": 'export * from "partykit-presence/device";\n',
      "friends-react.js": FRIENDS_REACT_SOURCE,
      "friends-vue.js": FRIENDS_VUE_SOURCE,
    },
    PAGES,
  );
  pageUrl = site.url;
  bundleInputs = site.inputs["presence-client.js"]!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const nodeClients: PresenceClient[] = [];
const pages: Page[] = [];
afterEach(async () => {
  for (const client of nodeClients.splice(0)) client.close();
  for (const page of pages.splice(0)) if (!page.isClosed()) await page.close();
});

/** A fresh page with the bundle loaded; collects the page's errors and the WebSocket URLs it opens. */
async function openPage(path = "/"): Promise<{ page: Page; errors: string[]; sockets: string[] }> {
  const page = await browser.newPage();
  pages.push(page);
  const errors: string[] = [];
  const sockets: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto(new URL(path, pageUrl).href);
  await page.waitForFunction(() => window.presence !== undefined || window.renderRoster !== undefined || window.presenceDevice !== undefined || window.mountFriends !== undefined);
  return { page, errors, sockets };
}

/** Starts a PresenceClient inside the page (no WebSocket option) and waits for its first snapshot. */
async function browserJoin(page: Page, options: { host: string; channel: string; userId: string; userData: unknown }) {
  await page.evaluate(async ({ host, channel, userId, userData }) => {
    const { PresenceClient } = window.presence!;
    const client = new PresenceClient({ host, channel, userId, userData: userData as never, clientType: "web" });
    window.client = client;
    window.seen = [];
    client.on("presence", (event) => window.seen!.push(event));
    await client.ready();
  }, options);
}

/** What the page's client saw, as plain data. */
function browserSeen(page: Page): Promise<Array<{ action: string; id: string; data: unknown }>> {
  return page.evaluate(() => window.seen!.map((event) => ({ action: event.action, id: event.member.id, data: event.member.data })));
}

describe("the client in a browser (Chromium)", () => {
  it("bundles the packed client for the browser from web-standard code only: the package and partysocket, no zod", () => {
    const roots = new Set(bundleInputs.map((input) => (input.startsWith("node_modules/") ? input.split("/").slice(0, 2).join("/") : input)));
    expect([...roots].sort()).toEqual(["node_modules/partykit-presence", "node_modules/partysocket", "presence-client-entry.mjs"]);
    expect(bundleInputs.filter((input) => input.startsWith("node_modules/partykit-presence/")).every((input) => input.includes("/dist/"))).toBe(true);
  });

  it("keeps a device alive from the page with the device helper (fetch across origins: the preflight allows PUT and DELETE), and a Node client sees it join and leave", async () => {
    const channel = freshChannel("browser-device");
    const node = await joined(host, { channel });
    nodeClients.push(node);
    const { page, errors } = await openPage("/device");
    const started = await page.evaluate(
      async ({ host, channel }) => {
        const device = window.presenceDevice!.createPresenceDevice({ host, channel, clientId: "kiosk-1", userId: "kiosk", data: { floor: 2 }, ttlMs: 30_000 });
        (window as unknown as { device: typeof device }).device = device;
        return device.start();
      },
      { host, channel },
    );
    expect(started).toMatchObject({ clientId: "kiosk-1", userId: "kiosk", clientType: "device", clientAmount: 1 });
    await waitFor("Node to see the kiosk", () => node.member("kiosk")?.status === "online");
    expect(node.member("kiosk")).toMatchObject({ data: { floor: 2 }, clientTypes: { device: 1 } });
    await page.evaluate(() => (window as unknown as { device: { stop(): Promise<void> } }).device.stop());
    await waitFor("the kiosk to leave", () => node.member("kiosk") === undefined);
    expect(errors).toEqual([]);
  });

  it("joins over the browser's own WebSocket, and a Node client sees it join, update and leave", async () => {
    const channel = freshChannel("browser");
    const node = await joined(host, { channel, userId: "node-user", userData: { side: "node" } });
    nodeClients.push(node);
    const nodeSaw: ClientPresenceEvent[] = [];
    node.on("presence", (event) => nodeSaw.push(event));

    const { page, errors, sockets } = await openPage();
    await browserJoin(page, { host, channel, userId: "browser-user", userData: { side: "browser" } });

    // The page opened a real browser WebSocket to the room, with the handshake in the URL.
    expect(sockets).toHaveLength(1);
    const socketUrl = new URL(sockets[0]!);
    expect(`${socketUrl.protocol}//${socketUrl.host}${socketUrl.pathname}`).toBe(`ws://${host}/parties/main/${channel}`);
    expect(socketUrl.searchParams.get("userId")).toBe("browser-user");
    expect(JSON.parse(socketUrl.searchParams.get("userData")!)).toEqual({ side: "browser" });
    expect(socketUrl.searchParams.get("clientType")).toBe("web");

    // Node sees the browser's user join, with its data and the counts after it.
    const join = await waitFor("Node to see the browser user join", () => nodeSaw.find((e) => e.action === "join" && e.member.id === "browser-user"));
    expect(join.member).toMatchObject({ id: "browser-user", data: { side: "browser" }, status: "online", clients: 1 });
    expect({ clientAmount: join.clientAmount, userAmount: join.userAmount }).toEqual({ clientAmount: 2, userAmount: 2 });

    // The page sees the Node user in its list.
    const nodeInPage = await page.evaluate(() => window.client!.member("node-user"));
    expect(nodeInPage).toMatchObject({ id: "node-user", data: { side: "node" }, status: "online" });

    // hereNow from the page: over its socket, and across channels over the browser's fetch (CORS).
    const overSocket = await page.evaluate((channel) => window.client!.hereNow({ includeUsers: true, distinct: true }).then((r) => r.content.channels[channel]), channel);
    expect(overSocket).toEqual({
      channel,
      clientAmount: 2,
      userAmount: 2,
      clientTypes: { web: 1 },
      users: expect.arrayContaining([
        { id: "node-user", data: { side: "node" } },
        { id: "browser-user", data: { side: "browser" }, clientTypes: { web: 1 } },
      ]),
    });
    expect(overSocket?.users).toHaveLength(2);
    const other = `${channel}-empty`;
    const overHttp = await page.evaluate(({ channel, other }) => window.client!.hereNow({ channels: [channel, other] }), { channel, other });
    expect(overHttp).toEqual({
      code: 200,
      content: {
        channels: {
          [channel]: { channel, clientAmount: 2, userAmount: 2, clientTypes: { web: 1 } },
          [other]: { channel: other, clientAmount: 0, userAmount: 0, clientTypes: {} },
        },
      },
    });

    // The Node user's update reaches the page as an event.
    node.setUserData({ side: "node", v: 2 });
    await page.waitForFunction(() => window.seen!.some((e) => e.action === "update" && e.member.id === "node-user"));
    expect((await browserSeen(page)).filter((e) => e.id === "node-user")).toEqual([{ action: "update", id: "node-user", data: { side: "node", v: 2 } }]);

    // The browser user's update reaches Node.
    await page.evaluate(() => window.client!.setUserData({ side: "browser", v: 2 }));
    const update = await waitFor("Node to see the browser user's update", () => nodeSaw.find((e) => e.action === "update" && e.member.id === "browser-user"));
    expect(update.member.data).toEqual({ side: "browser", v: 2 });

    // The browser user leaves: Node sees `leave` at once (no offline) and drops it.
    await page.evaluate(() => window.client!.leave());
    const leave = await waitFor("Node to see the browser user leave", () => nodeSaw.find((e) => e.action === "leave" && e.member.id === "browser-user"));
    expect({ clientAmount: leave.clientAmount, userAmount: leave.userAmount }).toEqual({ clientAmount: 1, userAmount: 1 });
    expect(node.member("browser-user")).toBeUndefined();
    expect(nodeSaw.filter((e) => e.member.id === "browser-user").map((e) => e.action)).toEqual(["join", "update", "leave"]);
    expect(errors).toEqual([]);
  });

  it("announces a closed tab as offline after grace, not as leave", async () => {
    const channel = freshChannel("browser");
    const node = await joined(host, { channel, userId: "node-user" });
    nodeClients.push(node);
    const nodeSaw: ClientPresenceEvent[] = [];
    node.on("presence", (event) => nodeSaw.push(event));

    const { page } = await openPage();
    await browserJoin(page, { host, channel, userId: "tab-user", userData: null });
    await waitFor("Node to see the tab join", () => node.member("tab-user")?.status === "online");

    const seenAt = new Map<ClientPresenceEvent, number>();
    node.on("presence", (event) => seenAt.set(event, Date.now()));
    const closedAt = Date.now();
    await page.close();
    const offline = await waitFor("Node to see the closed tab go offline", () => nodeSaw.find((e) => e.action === "offline" && e.member.id === "tab-user"));
    expect(seenAt.get(offline)! - closedAt, "offline no sooner than the grace period after the tab closed").toBeGreaterThanOrEqual(GRACE_MS);
    expect(offline.member.status).toBe("offline");
    expect(node.member("tab-user")?.status).toBe("offline");
    expect(nodeSaw.filter((e) => e.member.id === "tab-user").map((e) => e.action)).toEqual(["join", "offline"]);
  });
});

describe("usePresence from partykit-presence/react, rendered in Chromium", () => {
  /** The roster as the page shows it: status, counts, and the listed users with their client types. */
  const roster = (page: Page) =>
    page.evaluate(() => {
      const section = document.getElementById("roster");
      if (!section) return null;
      return {
        status: section.dataset.status,
        users: Number(section.dataset.users),
        clients: Number(section.dataset.clients),
        online: [...section.querySelectorAll("li")].map((li) => `${li.textContent}:${li.dataset.types}`).sort(),
      };
    });

  it("renders the live member list, follows joins and leaves, and closes its client on unmount (offline after grace, not leave)", async () => {
    const channel = freshChannel("react");
    const { page, errors } = await openPage("/react");
    await page.evaluate(({ host, channel }) => {
      const unmount = window.renderRoster!({ host, channel, userId: "react-user" });
      (window as unknown as { unmount: () => void }).unmount = unmount;
    }, { host, channel });
    await page.waitForFunction(() => document.getElementById("roster")?.dataset.status === "open");
    await page.waitForFunction(() => document.querySelectorAll("#roster li").length === 1);
    expect(await roster(page)).toEqual({ status: "open", users: 1, clients: 1, online: ["react-user:web"] });

    // A Node user joins: the component re-renders with it; the Node user sees the React user.
    const node = await joined(host, { channel, userId: "node-user", clientType: "app" });
    nodeClients.push(node);
    expect(node.member("react-user")).toMatchObject({ status: "online", data: { ui: "react" }, clientTypes: { web: 1 } });
    await page.waitForFunction(() => document.querySelectorAll("#roster li").length === 2);
    expect(await roster(page)).toEqual({ status: "open", users: 2, clients: 2, online: ["node-user:app", "react-user:web"] });

    // It leaves: gone from the component at once.
    await node.leave();
    await page.waitForFunction(() => document.querySelectorAll("#roster li").length === 1);
    expect(await roster(page)).toMatchObject({ users: 1, online: ["react-user:web"] });

    // Unmounting closes the hook's client: a watcher sees the React user go offline after grace.
    const watcher = await joined(host, { channel });
    nodeClients.push(watcher);
    const watcherSaw: Array<{ action: string; at: number }> = [];
    watcher.on("presence", (event) => event.member.id === "react-user" && watcherSaw.push({ action: event.action, at: Date.now() }));
    const unmountedAt = Date.now();
    await page.evaluate(() => (window as unknown as { unmount: () => void }).unmount());
    await waitFor("the watcher to see the React user offline", () => watcher.member("react-user")?.status === "offline", 15_000);
    expect(watcherSaw.map((e) => e.action), "a close, not a leave").toEqual(["offline"]);
    expect(watcherSaw[0]!.at - unmountedAt, "offline no sooner than the grace period").toBeGreaterThanOrEqual(GRACE_MS);
    expect(await roster(page)).toBeNull();
    expect(errors).toEqual([]);
  });
});


describe.each([
  ["React", "/friends-react"],
  ["Vue", "/friends-vue"],
])("useUsers from partykit-presence/%s, rendered in Chromium", (framework, path) => {
  /** The friends list as the page shows it. */
  const shown = (page: Page) =>
    page.evaluate(() => {
      const section = document.getElementById("friends");
      if (!section) return null;
      return {
        status: section.dataset.status,
        members: [...section.querySelectorAll(".members li")].map((li) => li.textContent),
        friends: [...section.querySelectorAll<HTMLElement>(".friends li")].map((li) => ({
          id: li.textContent,
          online: li.dataset.online === "true",
          types: li.dataset.types,
          lastSeen: li.dataset.lastSeen ? Number(li.dataset.lastSeen) : null,
        })),
      };
    });

  it("joins as the user, shows a friend online on its devices, then offline with lastSeen after grace, follows a new list, and closes on unmount", async () => {
    const channel = freshChannel(`friends-${framework.toLowerCase()}`);
    const me = `me-${channel}`;
    const bob = `bob-${channel}`;
    const cat = `cat-${channel}`;
    const { page, errors, sockets } = await openPage(path);
    await page.evaluate((options) => {
      (window as unknown as { unmount: () => void }).unmount = window.mountFriends!(options);
    }, { host, channel, userId: me, userIds: [bob, cat] } satisfies FriendsOptions);

    // The page is itself a member of its channel, and the room answers for both friends (unknown: offline, never seen).
    await waitFor("the page to list itself and both friends", async () => {
      const now = await shown(page);
      return now?.status === "open" && now.members.includes(me) && now.friends.length === 2;
    });
    expect((await shown(page))!.friends).toEqual([
      { id: bob, online: false, types: "", lastSeen: null },
      { id: cat, online: false, types: "", lastSeen: null },
    ]);

    // Bob comes online elsewhere, on two devices.
    const bobApp = await joined(host, { channel: freshChannel("bob-app"), userId: bob, clientType: "app" });
    const bobPc = await joined(host, { channel: freshChannel("bob-pc"), userId: bob, clientType: "pc" });
    nodeClients.push(bobApp, bobPc);
    await waitFor("the page to show Bob online on app and pc", async () => (await shown(page))?.friends[0]?.types?.split(",").sort().join() === "app,pc");
    expect((await shown(page))!.friends[0]).toMatchObject({ id: bob, online: true });

    // Both close: after grace Bob is offline, last seen when his last client went. The page
    // notes the moment it first shows him offline (on the machine's clock, as Node's).
    await page.evaluate((id) => {
      const at = window as unknown as { bobOfflineAt: number | null };
      at.bobOfflineAt = null;
      const shownOffline = () => [...document.querySelectorAll<HTMLElement>("#friends .friends li")].some((li) => li.textContent === id && li.dataset.online === "false");
      new MutationObserver(() => {
        if (at.bobOfflineAt === null && shownOffline()) at.bobOfflineAt = Date.now();
      }).observe(document.getElementById("friends")!, { subtree: true, childList: true, attributes: true, characterData: true });
    }, bob);
    const closedAt = Date.now();
    bobApp.close();
    bobPc.close();
    const offlineAt = await waitFor("the page to show Bob offline", () => page.evaluate(() => (window as unknown as { bobOfflineAt: number | null }).bobOfflineAt), 15_000);
    const offline = (await shown(page))!.friends[0]!;
    expect(offline).toMatchObject({ id: bob, online: false, types: "" });
    expect(offlineAt - closedAt, "offline no sooner than the grace period after his clients closed").toBeGreaterThanOrEqual(GRACE_MS);
    expect(offline.lastSeen, "last seen when his clients closed").toBeGreaterThanOrEqual(closedAt - 1000);
    expect(offlineAt - offline.lastSeen!, "offline no sooner than the grace period after he was last seen").toBeGreaterThanOrEqual(GRACE_MS);

    // A new list on the same socket: Cat alone.
    await page.evaluate((next) => window.setFriends!(next), [cat]);
    await waitFor("the page to list Cat alone", async () => (await shown(page))?.friends.map((f) => f.id).join() === cat);
    expect(sockets, "one socket all along").toHaveLength(1);

    // Unmounting closes the client: a watcher sees the page's user go offline (a close, not a leave).
    const watcher = await joined(host, { channel });
    nodeClients.push(watcher);
    const saw: Array<{ action: string; at: number }> = [];
    watcher.on("presence", (event) => event.member.id === me && saw.push({ action: event.action, at: Date.now() }));
    const unmountedAt = Date.now();
    await page.evaluate(() => (window as unknown as { unmount: () => void }).unmount());
    await waitFor("the watcher to see the page's user offline", () => watcher.member(me)?.status === "offline", 15_000);
    expect(saw.map((e) => e.action), "a close, not a leave").toEqual(["offline"]);
    expect(saw[0]!.at - unmountedAt, "offline no sooner than the grace period after the unmount").toBeGreaterThanOrEqual(GRACE_MS);
    expect(await shown(page)).toBeNull();
    expect(errors).toEqual([]);
  });
});
