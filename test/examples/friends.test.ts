/**
 * The friends example (examples/friends/, seed 001) end to end: a dev server with the
 * example's service vars, the example's page server on a free port, the page in Chromium, and
 * a friend on Node. The friend comes online on two devices, closes, and "last seen" appears.
 * Needs /usr/bin/chromium (or CHROMIUM_PATH): without it this test fails, it never skips.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { freshChannel, joined, waitFor } from "../support/clients.ts";
import { type RunningExample, startExample } from "../support/examples.ts";

let example: RunningExample;
const clients: PresenceClient[] = [];

beforeAll(async () => {
  example = await startExample("friends");
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await example?.stop();
});

describe("examples/friends", () => {
  it("shows a friend online on its devices, then offline with 'last seen' once it closes", async () => {
    const channel = freshChannel("friends");
    // Plain names: this file's dev server is its own (a fresh persist dir), so no other test knows them.
    const [me, bob, cat] = ["ann", "bob", "cat"] as const;
    const { page, errors } = await example.open(`/?${new URLSearchParams({ me, friends: `${bob},${cat}`, channel })}`);
    const server = example.service;

    const row = (id: string) => page.locator(`li[data-id="${id}"]`);
    await page.locator('#friends[data-status="open"]').waitFor();
    await waitFor("both friends answered", async () => (await row(cat).textContent())?.includes("never seen"));

    // Bob opens the app on his phone and on his PC, in channels of his own.
    const phone = await joined(server.host, { channel: freshChannel("bob-phone"), userId: bob, clientType: "app" });
    const pc = await joined(server.host, { channel: freshChannel("bob-pc"), userId: bob, clientType: "pc" });
    clients.push(phone, pc);
    await waitFor("Bob online on app and pc", async () => (await row(bob).textContent())?.includes("online on app, pc"));
    expect(await row(bob).getAttribute("class")).toBe("online");
    // Ann is online to her friends too: the page's socket is her presence.
    const watcher = await joined(server.host, { channel: freshChannel("watcher") });
    clients.push(watcher);
    watcher.watchUsers([me]);
    await waitFor("Ann online for others", () => watcher.watchedUser(me)?.online === true);

    phone.close();
    await waitFor("Bob still online on pc", async () => (await row(bob).textContent())?.includes("online on pc"), 15_000);
    pc.close();
    await waitFor("'last seen' for Bob", async () => (await row(bob).textContent())?.includes("last seen"), 15_000);
    expect(await row(bob).getAttribute("class")).toBe("offline");
    expect(await row(bob).textContent()).toMatch(/^bob\s*last seen (now|\d+ seconds? ago)$/);
    expect(await row(cat).textContent()).toContain("never seen");

    await example.shot(page);
    expect(errors).toEqual([]);
  });
});
