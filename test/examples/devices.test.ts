/**
 * examples/devices (seed 002) as an operator uses it: the admin page lists the simulator's
 * machines online, a person's tab joins, a machine powered off goes offline when its 15 s TTL
 * runs out (the simulator stops its reports, no goodbye), and the closed tab goes offline too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshChannel } from "../support/clients.ts";
import { type RunningExample, startExample } from "../support/examples.ts";

let example: RunningExample;
beforeAll(async () => {
  example = await startExample("devices");
}, 120_000);
afterAll(async () => {
  await example?.stop();
});

const MACHINES = ["press-1", "lathe-2", "robot-3"];

describe("examples/devices", () => {
  it("shows heartbeating machines and people live, and a machine offline once its reports stop for its TTL", { timeout: 60_000 }, async () => {
    const channel = freshChannel("devices");
    const admin = await example.open(`/?channel=${channel}`);
    for (const id of MACHINES) await admin.page.locator(`tr[data-user=${id}][data-status=online]`).waitFor();
    expect(await admin.page.locator("tr[data-user=press-1] td").nth(1).textContent()).toBe("device");

    const person = await example.open(`/user?channel=${channel}&id=visitor-1`);
    await person.page.locator("#me", { hasText: "visitor-1 is online" }).waitFor();
    await admin.page.locator("tr[data-user=visitor-1][data-status=online]").waitFor();
    expect(await admin.page.locator("tr[data-user=visitor-1] td").nth(1).textContent()).toBe("web");
    await admin.page.locator("#counts", { hasText: "4 online (4 clients)" }).waitFor();

    // Power off: the machine stops reporting, and is offline once its TTL (15 s) has run out.
    await admin.page.locator("tr[data-user=lathe-2] button", { hasText: "Power off" }).click();
    await admin.page.locator("tr[data-user=lathe-2] button", { hasText: "Power on" }).waitFor();
    await admin.page.locator("tr[data-user=lathe-2][data-status=offline]").waitFor({ timeout: 30_000 });
    // The others kept reporting through it.
    for (const id of ["press-1", "robot-3"]) expect(await admin.page.locator(`tr[data-user=${id}]`).getAttribute("data-status")).toBe("online");

    // A closed tab goes offline after the grace period.
    await person.page.context().close();
    await admin.page.locator("tr[data-user=visitor-1][data-status=offline]").waitFor();
    await admin.page.locator("#counts", { hasText: "2 online (2 clients)" }).waitFor();

    await example.shot(admin.page);
    expect(admin.errors).toEqual([]);
  });
});
