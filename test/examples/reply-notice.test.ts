/**
 * examples/reply-notice (seed 003) as two people use it: both pages connect with tokens the app
 * server signed; ann replies to bob's comment; bob's page shows the notice until he presses
 * "Got it", which acknowledges the push; the app server records it as read, and ann sees "✓ read".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshChannel } from "../support/clients.ts";
import { type RunningExample, startExample } from "../support/examples.ts";

let example: RunningExample;
beforeAll(async () => {
  example = await startExample("reply-notice");
}, 120_000);
afterAll(async () => {
  await example?.stop();
});

describe("examples/reply-notice", () => {
  it("pushes a reply notice to the author's page, acknowledged when read, and tells the replier", async () => {
    const thread = freshChannel("thread");
    const bob = await example.open(`/?user=bob&thread=${thread}`);
    const sockets: string[] = [];
    bob.page.on("websocket", (socket) => sockets.push(socket.url()));
    await bob.page.reload();
    const ann = await example.open(`/?user=ann&thread=${thread}`);
    // Both are in (the service has auth on: only a signed token gets a socket in).
    await bob.page.locator("#here", { hasText: /ann, bob|bob, ann/ }).waitFor();
    expect(sockets.some((url) => /[?&]token=ey/.test(url))).toBe(true);

    await ann.page.locator("li[data-comment=c1] input[name=text]").fill("No: a reload within the grace period shows nothing");
    await ann.page.locator("li[data-comment=c1] button", { hasText: "Reply" }).click();

    // Bob's page shows the notice; until he reads it, ann's reply waits.
    await bob.page.locator("#notice", { hasText: "ann replied to your comment" }).waitFor();
    expect(await bob.page.locator("#notice").textContent()).toContain("a reload within the grace period");
    await ann.page.locator("li[data-delivery=sending]").waitFor();
    await example.shot(bob.page);

    await bob.page.locator("#notice button", { hasText: "Got it" }).click();
    await bob.page.locator("#notice").waitFor({ state: "hidden" });
    await ann.page.locator("li[data-delivery=read]", { hasText: "✓ read" }).waitFor();

    // The app server kept the acknowledgement: a reload of the thread still says read.
    const comments = await (await fetch(new URL(`/comments?thread=${thread}`, example.url))).json();
    expect(comments[0].replies).toEqual([expect.objectContaining({ from: "ann", delivery: "read" })]);
    expect(ann.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});
