/**
 * examples/chat (seed 000) as people use it: three browsers join a room, see each other and the
 * here-now counts, chat, and one closes its tab (offline, after the grace period) while another
 * presses Leave (left at once).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshChannel } from "../support/clients.ts";
import { type RunningExample, startExample } from "../support/examples.ts";

let example: RunningExample;
beforeAll(async () => {
  example = await startExample("chat");
}, 120_000);
afterAll(async () => {
  await example?.stop();
});

describe("examples/chat", () => {
  it("shows each member to the others, delivers messages, and tells offline (a closed tab) from leave (the button)", async () => {
    const room = freshChannel("chat");
    const ann = await example.open(`/?room=${room}&name=ann`);
    const bob = await example.open(`/?room=${room}&name=bob`);
    const carol = await example.open(`/?room=${room}&name=carol`);

    // Everyone sees everyone, and the counts.
    for (const who of ["bob", "carol"]) await ann.page.locator(`#members li[data-user=${who}][data-status=online]`).waitFor();
    await bob.page.locator("#members li[data-user=ann][data-status=online]").waitFor();
    await ann.page.locator("#counts[data-users='3'][data-clients='3']").waitFor();
    await ann.page.locator("#log li.event[data-action=join][data-user=carol]").waitFor();

    // A message from bob reaches ann (through the app server's pushes).
    await bob.page.locator("input[name=text]").fill("hi ann");
    await bob.page.locator("form.send button", { hasText: "Send" }).click();
    await ann.page.locator("#log li.message", { hasText: "bob: hi ann" }).waitFor();

    // Carol closes her tab: after the grace period she is offline, still listed.
    await carol.page.context().close();
    await ann.page.locator("#members li[data-user=carol][data-status=offline]").waitFor();
    await ann.page.locator("#log li.event[data-action=offline][data-user=carol]").waitFor();
    await ann.page.locator("#counts[data-users='2'][data-clients='2']").waitFor();

    // Bob presses Leave: he is gone from the list at once.
    await bob.page.locator("button", { hasText: "Leave" }).click();
    await bob.page.locator("text=You left the room.").waitFor();
    await ann.page.locator("#log li.event[data-action=leave][data-user=bob]").waitFor();
    await ann.page.locator("#members li[data-user=bob]").waitFor({ state: "detached" });
    await ann.page.locator("#counts[data-users='1'][data-clients='1']").waitFor();

    await example.shot(ann.page);
    expect(ann.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});
