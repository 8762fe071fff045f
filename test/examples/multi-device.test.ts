/**
 * examples/multi-device (seed 004): one user on web, app and pc (three clients, each in its own
 * frame of the sender's page). A notice reaches all three and each acknowledges it; with "Do not
 * disturb" ticked on the pc, the sender sees web and app acknowledge and pc refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshChannel } from "../support/clients.ts";
import { type RunningExample, startExample } from "../support/examples.ts";

let example: RunningExample;
beforeAll(async () => {
  example = await startExample("multi-device");
}, 120_000);
afterAll(async () => {
  await example?.stop();
});

const TYPES = ["app", "pc", "web"];

describe("examples/multi-device", () => {
  it("delivers a notice to every client of the user and shows the sender which acknowledged", async () => {
    const channel = freshChannel("shop");
    // The test has its own service, so "jack" is nobody else's user.
    const user = "jack";
    const sender = await example.open(`/?user=${user}&channel=${channel}`);
    const device = (type: string) => sender.page.frameLocator(`iframe[name=${type}]`);
    for (const type of TYPES) await device(type).locator("#me[data-online=true]").waitFor();
    await sender.page.locator("#devices[data-types='app,pc,web']").waitFor();

    await sender.page.locator("#send input[name=text]").fill("Your order has shipped");
    await sender.page.locator("#send button").click();
    for (const type of TYPES) {
      await sender.page.locator(`#acks tr[data-client-type=${type}][data-acked=true]`).waitFor();
      await device(type).locator("#notices li", { hasText: "Your order has shipped" }).waitFor();
    }
    expect(await sender.page.locator("#acks tr").count()).toBe(3);
    await example.shot(sender.page);

    // The pc refuses the next one: the sender sees exactly which acknowledged.
    await device("pc").locator("#dnd").check();
    await sender.page.locator("#send input[name=text]").fill("Your parcel is at the door");
    await sender.page.locator("#send button").click();
    await sender.page.locator("#acks tr[data-client-type=pc][data-acked=false]", { hasText: "rejected" }).waitFor();
    for (const type of ["app", "web"]) {
      await sender.page.locator(`#acks tr[data-client-type=${type}][data-acked=true]`).waitFor();
      await device(type).locator("#notices li", { hasText: "Your parcel is at the door" }).waitFor();
    }
    expect(await device("pc").locator("#notices li").count()).toBe(1);
    expect(sender.errors).toEqual([]);
  });
});
