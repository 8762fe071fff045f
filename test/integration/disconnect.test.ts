/**
 * Disconnecting a user against a real engine (this run's): a user in two channels is closed
 * in both at once with 4004 after a `kicked` frame, its clients stay closed (no reconnect),
 * its device is removed, and the others see it offline since the moment of the disconnect.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { freshChannel, joined, quietUntil, waitFor } from "../support/clients.ts";
import { roomStats } from "../support/liveness.ts";

const host = inject("host");
const api = createPresenceApi({ host });
const open: PresenceClient[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

async function client(options: Parameters<typeof joined>[1]): Promise<PresenceClient> {
  const c = await joined(host, options);
  open.push(c);
  return c;
}

describe("POST /users/USERID/disconnect", () => {
  it("closes a user's clients in two channels with 4004 after a kicked frame, removes its device, and they stay closed", async () => {
    const userId = `kicked-${Date.now().toString(36)}`;
    const x = freshChannel("kick-x");
    const y = freshChannel("kick-y");
    const watcher = await client({ channel: x });
    const inX = await client({ channel: x, userId, clientType: "web" });
    const inY = await client({ channel: y, userId, clientType: "app" });
    await api.heartbeat(y, "kick-device", { userId, ttlMs: 60_000 });
    await waitFor("the directory to know both channels", async () => ((await api.users([userId]))[userId]?.channels ?? []).length === 2);
    const closes: Array<{ code: number; reason: string }> = [];
    const errors: string[] = [];
    for (const c of [inX, inY]) {
      c.on("close", (event) => closes.push(event));
      c.on("error", (error) => errors.push(error.code));
    }

    const before = Date.now();
    const result = await api.disconnect(userId, { reason: "abuse report 7" });
    const after = Date.now();
    expect(result.clients).toBe(3);
    expect(result.channels.map((c) => `${c.channel}:${c.clients.map((k) => k.clientType).sort().join(",")}`).sort()).toEqual([`${x}:web`, `${y}:app,device`].sort());
    await waitFor("both clients told and closed", () => closes.length === 2);
    expect(closes).toEqual([
      { code: 4004, reason: "abuse report 7" },
      { code: 4004, reason: "abuse report 7" },
    ]);
    expect(errors).toEqual(["kicked", "kicked"]);
    const offline = await waitFor("the watcher to see it offline", () => (watcher.member(userId)?.status === "offline" ? watcher.member(userId) : null));
    expect(offline.since, "offline since the disconnect, not after grace").toBeGreaterThanOrEqual(before);
    expect(offline.since).toBeLessThanOrEqual(after);

    // Nothing comes back: a later event reaches the watcher, and the clients are still closed.
    await quietUntil(host, x, watcher, Date.now() + 1500);
    expect([inX.socket.readyState, inY.socket.readyState]).toEqual([3, 3]);
    expect(await roomStats(host, y)).toMatchObject({ clientAmount: 0, httpClients: 0, closes: { kicked: 1 } });
    expect(watcher.member(userId)?.status).toBe("offline");
  });
});
