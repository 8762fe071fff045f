/**
 * `channel.occupied` / `channel.vacated` webhooks from a channel room on the in-memory host,
 * with the webhook endpoint a stubbed `fetch` and time vitest's fake clock: one of each per
 * change of occupancy, in the batch of the tick that made it, none for a reload, and none
 * repeated by a restart (the room comes back as occupied as its stored members say).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChannelService } from "../../party/channel/service.ts";
import type { SocketState } from "../../party/channel/sockets.ts";
import { loadConfig } from "../../party/server/config.ts";
import type { EdgeHost } from "../../party/server/host.ts";
import type { WebhookPayload } from "../../party/protocol/index.ts";
import { joinThroughEdge, memoryService } from "../support/memory-edge.ts";
import type { MemoryHost, MemoryWorld } from "../support/memory-host.ts";
import { webhookSecret } from "../support/webhook-receiver.ts";

const ENV = {
  PRESENCE_GRACE_MS: "1000",
  PRESENCE_TICK_MS: "50",
  PRESENCE_HEARTBEAT_TIMEOUT_MS: "60000",
  PRESENCE_DIRECTORY: "off",
  PRESENCE_WEBHOOK_URL: "http://hooks.example/in",
  PRESENCE_WEBHOOK_SECRET: webhookSecret(),
};
const config = loadConfig(ENV);
let world: MemoryWorld;
let edge: EdgeHost;
/** Each batch the endpoint received, as its events' types (presence events as `type id`). */
let batches: string[][];

beforeEach(() => {
  vi.useFakeTimers({ now: 2_000_000 });
  batches = [];
  vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
    const payload = JSON.parse(String(init.body)) as WebhookPayload;
    if (payload.type === "presence.events") batches.push(payload.data.events.map((e) => ("member" in e ? `${e.type} ${e.member.id}` : e.type)));
    return new Response("ok");
  });
  ({ world, edge } = memoryService(ENV));
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

async function restart(room: MemoryHost<SocketState>): Promise<void> {
  room.service = new ChannelService(room, config);
  await room.service.start();
}

describe("occupancy webhooks", () => {
  it("sends occupied with the first join and vacated with the last offline, none for a reload, and none again after a restart", async () => {
    const room = await world.room<SocketState>("main", "hall");
    const join = (id: string, user: string) => joinThroughEdge(room, edge, id, `userId=${user}`);
    const ann = await join("a1", "ann");
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([["channel.occupied", "join ann"]]);

    // A reload within grace: the socket goes and the same id comes back; nobody hears of it.
    room.drop(ann);
    const annAgain = await join("a1", "ann");
    await vi.advanceTimersByTimeAsync(2000);
    expect(batches).toHaveLength(1);

    // The room restarts with ann still online: it comes back occupied, so bob's join is only a join.
    await restart(room);
    const bob = await join("b1", "bob");
    await vi.advanceTimersByTimeAsync(100);
    expect(batches.at(-1)).toEqual(["join bob"]);

    room.drop(annAgain);
    room.drop(bob);
    await vi.advanceTimersByTimeAsync(1100);
    expect(batches.at(-1)).toEqual(["offline ann", "offline bob", "channel.vacated"]);

    // A restart with nobody online comes back vacated: the next member occupies it again.
    await restart(room);
    await join("c1", "carol");
    await vi.advanceTimersByTimeAsync(100);
    expect(batches.at(-1)).toEqual(["channel.occupied", "join carol"]);
    expect(batches.flat().filter((e) => e.startsWith("channel."))).toEqual(["channel.occupied", "channel.vacated", "channel.occupied"]);
  });
});
