/**
 * The operator dashboard (`/dashboard`, served by `partykit dev` from its own build of
 * dashboard/main.ts) in Debian's Chromium through playwright-core, against real servers: the
 * shared integration server (no server key, auth off: the page opens directly) and one with
 * a server key and client auth on (the page asks for the key). Members are real clients on
 * Node. Set DASHBOARD_SCREENSHOTS=1 to write the PNGs in docs/ from these runs.
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): without it these tests fail, they never skip.
 */
import { join, resolve } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { launchChromium } from "../support/chromium.ts";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { mintAdminToken } from "../../party/edge/admin.ts";
import { readConfig } from "../../party/server/config.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, presenceClient, refusedConnect, waitFor } from "../support/clients.ts";
import { type DevServer, sleep, startDevServer, TEST_VARS } from "../support/dev-server.ts";
import { SECRET, token } from "../support/tokens.ts";

const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS === "1";
const DOCS = resolve(import.meta.dirname, "../../docs");
const SERVER_KEY = "dashboard-server-key-0123456789";
/** The keyed server's PRESENCE_ANNOUNCE_MAX: small, so a channel of 120 goes to interval mode. */
const ANNOUNCE_MAX = 50;
const openHost = inject("host");
/** Both servers' grace period. */
const GRACE_MS = Number(TEST_VARS.PRESENCE_GRACE_MS);
/** How far behind the test's clock the engine's may be when it dates an event (workerd's clock moves with I/O only). */
const ENGINE_CLOCK_SLACK_MS = 20;
/** How long a wait for something the page will show may take: only a broken run ends there, not a loaded machine. */
const SLOW_MS = 20_000;
/** Each test waits on the page several times: room for a few such waits on a loaded machine. */
vi.setConfig({ testTimeout: 90_000 });
let keyed: DevServer;
let browser: Browser;

beforeAll(async () => {
  keyed = await startDevServer({
    vars: { PRESENCE_AUTH_SECRET: SECRET, PRESENCE_SERVER_KEY: SERVER_KEY, PRESENCE_ANNOUNCE_MAX: String(ANNOUNCE_MAX) },
    readyPath: "/admin",
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await keyed?.stop();
});

const clients: PresenceClient[] = [];
const pages: Page[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  // Each page has its own context: closing the context (awaited) closes the page, with nothing left in flight for browser.close().
  for (const page of pages.splice(0)) await page.context().close();
});

type Opened = { page: Page; errors: string[] };

/** Opens `http://HOST/dashboard#hash` in a fresh page (its own sessionStorage), collecting console errors and page errors. */
async function openDashboard(host: string, hash = ""): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  pages.push(page);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  await page.goto(`http://${host}/dashboard${hash ? `#${hash}` : ""}`);
  return { page, errors };
}

/**
 * Notes in the page the first moment `selector` matches there (the page's clock is the
 * machine's, as Node's is), so a test can tell when something was shown, not when it looked.
 */
async function noteWhenShown(page: Page, selector: string): Promise<() => Promise<number | null>> {
  const key = `shownAt ${selector}`;
  await page.evaluate(({ key, selector }) => {
    const at = window as unknown as Record<string, number | null>;
    at[key] = null;
    const look = () => {
      if (at[key] === null && document.querySelector(selector)) at[key] = Date.now();
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    look();
  }, { key, selector });
  return () => page.evaluate((key) => (window as unknown as Record<string, number | null>)[key] ?? null, key);
}

/** Signs in through the prompt with the server key. */
async function signIn(page: Page): Promise<void> {
  await page.locator("#key").fill(SERVER_KEY);
  await page.locator("#prompt-form button").click();
  await page.locator("#app").waitFor({ state: "visible" });
}

/** A member on Node; with the keyed server, with a token for its userId. */
async function member(host: string, channel: string, userId: string, extra: { userData?: unknown; clientType?: string } = {}): Promise<PresenceClient> {
  const client = presenceClient(host, {
    channel,
    userId,
    userData: (extra.userData ?? null) as never,
    clientType: extra.clientType ?? "web",
    token: host === keyed.host ? await token({ userId }) : undefined,
  });
  clients.push(client);
  await client.ready();
  return client;
}

async function shot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(DOCS, name), fullPage: true });
}

describe("access", () => {
  it("opens directly when no server key is configured (development), and says so", async () => {
    const { page, errors } = await openDashboard(openHost);
    await page.locator("#app").waitFor({ state: "visible" });
    expect(page.url()).toBe(`http://${openHost}/dashboard/`);
    await expect(page.locator("#access-mode").getAttribute("data-mode")).resolves.toBe("open");
    expect(await page.locator("#access-mode").textContent()).toContain("no server key is configured");
    expect(await page.locator("#prompt").isHidden()).toBe(true);
    await page.locator("#channels-status[data-state=open]").waitFor();
    expect(errors).toEqual([]);
  });

  it("with a server key shows only the prompt, refuses a wrong key, and keeps the right one for the tab", async () => {
    const { page, errors } = await openDashboard(keyed.host);
    await page.locator("#prompt").waitFor({ state: "visible" });
    expect(await page.locator("#app").isHidden()).toBe(true);
    expect(await page.locator("#prompt-error").isHidden()).toBe(true);
    // Nothing but the prompt: no socket to the index or any channel was opened.
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));

    await page.locator("#key").fill("not-the-server-key-at-all");
    await page.locator("#prompt-form button").click();
    await page.locator("#prompt-error").waitFor({ state: "visible" });
    expect(await page.locator("#prompt-error").textContent()).toContain("wrong server key");
    expect(await page.locator("#app").isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(sockets).toEqual([]);
    await shot(page, "dashboard-prompt.png");

    await signIn(page);
    expect(await page.locator("#access-mode").getAttribute("data-mode")).toBe("key");
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([SERVER_KEY]);
    await page.locator("#channels-status[data-state=open]").waitFor();
    // The index socket carries a short-lived admin token, never the key itself.
    expect(sockets.some((url) => /\/parties\/index\/all\?(.*&)?token=ey/.test(url))).toBe(true);
    expect(sockets.some((url) => url.includes(SERVER_KEY))).toBe(false);

    // Reloaded, the tab still has its key: no prompt.
    await page.reload();
    await page.locator("#app").waitFor({ state: "visible" });
    expect(await page.locator("#prompt").isHidden()).toBe(true);
    // The only errors are the browser's note of the refused key (a 401 answer).
    expect(errors.filter((error) => !error.includes("401"))).toEqual([]);
    expect(errors.length).toBe(1);
  });

  it("takes a short-lived admin token in place of the server key, and refuses a garbage, foreign or expired one saying why", async () => {
    const minted = await fetch(`http://${keyed.host}/admin/token`, { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` } });
    expect(minted.status).toBe(200);
    const adminToken = ((await minted.json()) as { content: { token: string } }).content.token;
    expect(adminToken).toMatch(/^eyJ/);
    const config = readConfig({ PRESENCE_SERVER_KEY: SERVER_KEY });
    const another = readConfig({ PRESENCE_SERVER_KEY: "another-server-key-0123456789" });
    if (!config.ok || !another.ok) throw new Error("bad test config");
    // Expired an hour ago (signed an hour and a minute ago, for a minute), and one signed with another server's key.
    const expired = (await mintAdminToken(config.config, Date.now() - 3_660_000, 60))!.token;
    const foreign = (await mintAdminToken(another.config))!.token;
    const { page, errors } = await openDashboard(keyed.host);
    await page.locator("#prompt").waitFor({ state: "visible" });
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));

    const refused = async (credential: string, message: string | RegExp) => {
      await page.locator("#key").fill(credential);
      await page.locator("#prompt-form button").click();
      await waitFor(`the refusal of ${credential.slice(0, 20)}…`, async () => {
        const text = (await page.locator("#prompt-error").isVisible()) ? await page.locator("#prompt-error").textContent() : null;
        return text !== null && (typeof message === "string" ? text.includes(message) : message.test(text));
      }, SLOW_MS);
      expect(await page.locator("#app").isHidden()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    };
    await refused("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJl", "refused: not the server key, nor an admin token: it cannot be read as a JWT");
    await refused(foreign, "refused: bad admin token: not signed with this service's server key");
    await refused(expired, /^refused: the admin token expired at \d{4}-\d\d-\d\dT[\d:.]+Z: get a new one with the server key/);
    await refused(await token({ userId: "eve" }), "refused: not the server key, nor an admin token (a client token does not open the dashboard)");
    expect(sockets).toEqual([]);

    await page.locator("#key").fill(adminToken);
    await page.locator("#prompt-form button").click();
    await page.locator("#app").waitFor({ state: "visible" });
    expect(await page.locator("#prompt").isHidden()).toBe(true);
    expect(await page.locator("#access-mode").textContent()).toContain("Signed in with an admin token");
    await page.locator("#channels-status[data-state=open]").waitFor();
    // The tab keeps the pasted token (never a server key it was not given), and its sockets use it.
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([adminToken]);
    expect(sockets.some((url) => url.includes(`token=${adminToken}`))).toBe(true);
    // The only errors are the browser's notes of the four refused credentials (401 answers).
    expect(errors.filter((error) => !error.includes("401"))).toEqual([]);
    expect(errors.length).toBe(4);
  });

  it("the index socket and the server routes refuse a missing or wrong credential", async () => {
    const base = `http://${keyed.host}`;
    expect((await fetch(`${base}/channels`)).status).toBe(401);
    expect((await fetch(`${base}/admin/token`, { method: "POST", headers: { authorization: "Bearer wrong-key-0123456789" } })).status).toBe(401);
    const session = (await (await fetch(`${base}/admin/token`, { method: "POST", headers: { authorization: `Bearer ${SERVER_KEY}` } })).json()) as { content: { token: string; expiresAt: number } };
    expect(session.content.expiresAt).toBeGreaterThan(Date.now());
    expect((await fetch(`${base}/channels`, { headers: { authorization: `Bearer ${session.content.token}` } })).status).toBe(200);
    // An admin token cannot join as a member, and a client token is no admin token.
    const asMember = await refusedConnect(keyed.host, `/parties/main/x?userId=eve&token=${session.content.token}`);
    expect(asMember.status).toBe(403);
    expect(asMember.body).toContain("admin token connects observers only");
    const clientToken = await token({ userId: "eve" });
    expect((await fetch(`${base}/channels`, { headers: { authorization: `Bearer ${clientToken}` } })).status).toBe(401);
  });
});

describe.each([
  ["auth off, no key", () => openHost, false],
  ["auth on, server key", () => keyed.host, true],
] as const)("one channel live (%s)", (_name, hostOf, withKey) => {
  it("shows a member as it joins, then offline after grace with lastSeen; the event log, counts and channel list follow", async () => {
    const host = hostOf();
    const channel = freshChannel("dash");
    const { page, errors } = await openDashboard(host, `channel=${channel}`);
    if (withKey) await signIn(page);
    await page.locator("#channel-status[data-state=open]").waitFor();
    await page.locator("#counts[data-users='0']").waitFor();

    const ann = await member(host, channel, "ann", { userData: { name: "Ann" }, clientType: "web" });
    // No reload: the open page's socket brings the member.
    await page.locator('#members tr[data-user="ann"][data-status="online"]').waitFor({ timeout: SLOW_MS });
    const row = page.locator('#members tr[data-user="ann"]');
    expect(await row.locator("td").allTextContents()).toEqual(["ann", "online", '{"name":"Ann"}', "web", "1", expect.stringMatching(/^(now|\d+ s ago)$/), "now"]);
    await page.locator("#events li[data-action=join][data-user=ann]").waitFor();
    await page.locator("#counts[data-users='1'][data-clients='1']").waitFor();
    // The channel index lists the new channel with its counts (users · clients · members).
    const listed = page.locator(`#channels-list li[data-channel="${channel}"]`);
    await listed.waitFor({ timeout: SLOW_MS });
    expect(await listed.locator(".counts").textContent()).toBe("1 · 1 · 1");
    // The room's stats are shown.
    await page.locator("#stats", { hasText: "closes by reason" }).waitFor();

    await member(host, channel, "bob", { clientType: "app" });
    await page.locator("#events li[data-action=join][data-user=bob]").waitFor();
    await page.locator("#counts[data-users='2'][data-clients='2']").waitFor();
    await waitFor("the index to count bob", async () => (await listed.locator(".counts").textContent()) === "2 · 2 · 2", SLOW_MS);
    await sleep(withKey && SCREENSHOTS ? 8000 : 1200);
    await shot(page, withKey ? "dashboard-channel.png" : "dashboard-channel-open.png");

    const offlineShownAt = await noteWhenShown(page, '#members tr[data-user="ann"][data-status="offline"]');
    const closedAt = Date.now();
    ann.close();
    // Offline only after the grace period (1 s in the tests), and then with lastSeen. The room
    // dates the close by workerd's clock, which moves only with I/O (it stands still while code
    // runs), so it may be a few ms behind this one: a CI run saw offline shown 997 ms after.
    const shownAt = await waitFor("the page to show ann offline", offlineShownAt, SLOW_MS);
    expect(shownAt - closedAt, "offline no sooner than the grace period after ann closed").toBeGreaterThanOrEqual(GRACE_MS - ENGINE_CLOCK_SLACK_MS);
    await page.locator("#events li[data-action=offline][data-user=ann]").waitFor();
    await page.locator("#counts[data-users='1'][data-clients='1']").waitFor();
    await waitFor("lastSeen as a relative time", async () => /^\d+ s ago$/.test((await row.locator("td.last-seen").textContent()) ?? ""), SLOW_MS);
    await waitFor("the index to count ann out", async () => (await listed.locator(".counts").textContent()) === "1 · 1 · 2", SLOW_MS);
    // The log is newest first: offline above bob's join above ann's join.
    const actions = await page.locator("#events li[data-action]").evaluateAll((items) => items.map((li) => `${li.getAttribute("data-action")} ${li.getAttribute("data-user")}`));
    expect(actions).toEqual(["offline ann", "join bob", "join ann"]);
    expect(errors).toEqual([]);
  });

  it("starts the event log from the channel's history, so a channel with a past never opens empty; live events go above it", async () => {
    const host = hostOf();
    const channel = freshChannel("dash-past");
    const api = createPresenceApi(withKey ? { host, serverKey: SERVER_KEY } : { host });
    await api.heartbeat(channel, "kiosk-1", { userId: "kiosk", ttlMs: 60_000 });
    // A join and a leave within one tick cancel: the leave goes once the join is stored.
    await waitFor("the join in the history", async () => (await api.history(channel)).events.length === 1);
    await api.removeClient(channel, "kiosk-1");
    await waitFor("the history to hold the join and the leave", async () => (await api.history(channel)).events.length === 2);
    const { page, errors } = await openDashboard(host, `channel=${channel}`);
    if (withKey) await signIn(page);
    await page.locator("#events li[data-past][data-action=leave][data-user=kiosk]").waitFor({ timeout: SLOW_MS });
    await member(host, channel, "lee");
    await page.locator("#events li[data-action=join][data-user=lee]").waitFor();
    const lines = await page
      .locator("#events li[data-action]")
      .evaluateAll((items) => items.map((li) => `${li.getAttribute("data-action")} ${li.getAttribute("data-user")}${li.hasAttribute("data-past") ? " (past)" : ""}`));
    expect(lines).toEqual(["join lee", "leave kiosk (past)", "join kiosk (past)"]);
    expect(errors).toEqual([]);
  });

  it("lists the channel's HTTP clients with their last heartbeat and deadline, and shows them as members of type device", async () => {
    const host = hostOf();
    const channel = freshChannel("dash-http");
    const api = createPresenceApi(withKey ? { host, serverKey: SERVER_KEY } : { host });
    await api.heartbeat(channel, "gate-1", { userId: "gate", data: { door: "north" }, ttlMs: 60_000 });
    const { page, errors } = await openDashboard(host, `channel=${channel}`);
    if (withKey) await signIn(page);
    await page.locator('#members tr[data-user="gate"][data-status="online"]').waitFor({ timeout: SLOW_MS });
    expect(await page.locator('#members tr[data-user="gate"] td').nth(3).textContent()).toBe("device");
    const row = page.locator('#http-clients tr[data-client="gate-1"]');
    await row.waitFor({ timeout: SLOW_MS });
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["gate-1", "gate", "device"]);
    expect(cells[3]).toMatch(/^(now|\d+ s ago)$/);
    expect(cells[4]).toMatch(/^in (\d+ s|1 min)$/);
    expect(cells.slice(5)).toEqual(["60 s", "0"]);
    expect(await page.locator("#http-clients-info").textContent()).toBe("1 HTTP client");
    await api.removeClient(channel, "gate-1");
    expect(errors).toEqual([]);
  });
});

describe("users and large channels (auth on)", () => {
  it("shows a user across channels live and sends a test push, showing the acks", async () => {
    const channel = freshChannel("dash-user");
    const carol = await member(keyed.host, channel, "carol", { clientType: "pc" });
    const received: unknown[] = [];
    carol.on("push", (data) => void received.push(data));
    const { page, errors } = await openDashboard(keyed.host, "user=carol");
    await signIn(page);
    await page.locator("#user-status[data-online=true]").waitFor();
    await page.locator(`#user-channels li[data-channel="${channel}"]`, { hasText: "pc" }).waitFor();

    await page.locator("#push-data").fill('{"ping": 42}');
    await page.locator("#push-form button").click();
    await page.locator("#push-result[data-acked='1']").waitFor();
    expect(await page.locator("#push-result li.acked").count()).toBe(1);
    expect(received).toEqual([{ ping: 42 }]);
    await shot(page, "dashboard-user.png");

    carol.close();
    // Live: the watch sees carol go offline (after the room's grace and the directory's), no reload.
    await page.locator("#user-status[data-online=false]").waitFor({ timeout: SLOW_MS });
    expect(await page.locator("#user-status").textContent()).toMatch(/last seen (now|\d+ s ago)/);
    expect(errors).toEqual([]);
  });

  it("disconnects a user from its user view: its client is closed with 4004 and the view shows what was closed", async () => {
    const channel = freshChannel("dash-kick");
    const dave = await member(keyed.host, channel, "dave", { clientType: "web" });
    const closes: number[] = [];
    dave.on("close", (event) => closes.push(event.code));
    const { page, errors } = await openDashboard(keyed.host, "user=dave");
    await signIn(page);
    await page.locator("#user-status[data-online=true]").waitFor();
    await page.locator("#kick-reason").fill("spam");
    await page.locator("#kick-form button").click();
    await page.locator("#kick-result[data-clients='1']").waitFor();
    expect(await page.locator("#kick-result li.kicked").allTextContents()).toEqual([`${channel} · web · ${dave.connectionId}`]);
    await waitFor("dave closed with 4004", () => closes.includes(4004));
    await page.locator("#user-status[data-online=false]").waitFor({ timeout: SLOW_MS });
    expect(await page.locator("#ban-status").getAttribute("data-banned")).toBe("false");
    expect(errors).toEqual([]);
  });

  it("bans a user from its user view, shows the ban, and lifts it", async () => {
    const channel = freshChannel("dash-ban");
    const erin = await member(keyed.host, channel, "erin", { clientType: "web" });
    const closes: number[] = [];
    erin.on("close", (event) => closes.push(event.code));
    const { page, errors } = await openDashboard(keyed.host, "user=erin");
    await signIn(page);
    await page.locator("#user-status[data-online=true]").waitFor();
    await page.locator("#kick-reason").fill("spam");
    await page.locator("#kick-ban").fill("30");
    await page.locator("#kick-form button").click();
    await page.locator("#ban-status[data-banned=true]").waitFor();
    expect(await page.locator("#ban-status").textContent()).toMatch(/^banned until .+ \(spam\)$/);
    await waitFor("erin closed with 4004", () => closes.includes(4004));
    const api = createPresenceApi({ host: keyed.host, serverKey: SERVER_KEY });
    expect((await api.ban("erin")).ban?.until).toBeGreaterThan(Date.now() + 29 * 60_000);
    await page.locator("#ban-lift").click();
    await page.locator("#ban-status[data-banned=false]").waitFor();
    expect(await page.locator("#ban-lift").isHidden()).toBe(true);
    expect(await api.ban("erin")).toEqual({ userId: "erin", banned: false });
    expect(errors).toEqual([]);
  });

  it("pages a channel past PRESENCE_ANNOUNCE_MAX through the member listing (with the admin token), each row in full, counts exact", async () => {
    const channel = freshChannel("dash-big");
    const total = 120;
    await Promise.all(Array.from({ length: total }, (_, i) => member(keyed.host, channel, `u${String(i).padStart(3, "0")}`, { userData: { n: i } })));
    const opened = Date.now();
    const { page, errors } = await openDashboard(keyed.host, `channel=${channel}`);
    await signIn(page);
    await page.locator(`#counts[data-mode=interval][data-users='${total}']`).waitFor({ timeout: SLOW_MS });
    await waitFor("the first page", async () => (await page.locator("#members tr").count()) === 100);
    expect(await page.locator("#members tr").first().getAttribute("data-user")).toBe("u000");
    await page.locator("#page-next").click();
    await waitFor("the second page", async () => (await page.locator("#members tr").count()) === total - 100);
    expect(await page.locator("#members tr").first().getAttribute("data-user")).toBe("u100");
    expect(await page.locator("#page-next").isDisabled()).toBe(true);
    // Past the observer's window too, every cell is filled: userData, client types, clients, since, last seen.
    const empty = await page.locator("#members tr").evaluateAll((trs) => trs.flatMap((tr) => [...tr.querySelectorAll("td")].filter((td) => !td.textContent?.trim()).map((_, i) => `${tr.getAttribute("data-user")} ${i}`)));
    expect(empty).toEqual([]);
    // The log and the chart start with the channel's past, read with the admin token.
    await waitFor("the past events", async () => (await page.locator("#events li[data-action=join]").count()) === total, SLOW_MS);
    await waitFor("the chart's past", async () => Number((await page.locator("#chart").getAttribute("data-from")) || Infinity) < opened, SLOW_MS);
    await shot(page, "dashboard-large.png");
    await page.locator("#page-prev").click();
    await waitFor("the first page again", async () => (await page.locator("#members tr").count()) === 100);
    // A member joining changes the exact count, live.
    await member(keyed.host, channel, "z-late");
    await page.locator(`#counts[data-users='${total + 1}']`).waitFor({ timeout: SLOW_MS });
    expect(errors).toEqual([]);
  });
});
