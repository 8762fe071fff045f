import { expect, it, vi } from "vitest";
import type { SocketState } from "../../party/channel/sockets.ts";
import { joinThroughEdge, memoryService } from "../support/memory-edge.ts";
import { MemorySocket } from "../support/memory-host.ts";

it("times a lone interval-mode join at 5000", async () => {
  vi.useFakeTimers({ now: 1_000_000, toFake: ["setTimeout", "clearTimeout", "Date", "setInterval", "clearInterval"] });
  const ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000", PRESENCE_DIRECTORY_PARTS: "2", PRESENCE_INTERVAL_MS: "1000" };
  const { world, edge } = memoryService(ENV);
  const room = await world.room<SocketState>("main", "big");
  for (let i = 0; i < 5000; i++) {
    const request = await (await import("../../party/edge/before.ts")).partyHooks.main.beforeConnect(new Request(`http://memory/parties/main/big?_pk=s${i}&userId=u${i}`), "big", edge);
    await room.connect(new MemorySocket<SocketState>(`s${i}`, false), request as Request);
    if (i % 500 === 0) await vi.advanceTimersByTimeAsync(1100);
  }
  await vi.advanceTimersByTimeAsync(5000);
  const { Session } = await import("node:inspector/promises");
  const session = new Session(); session.connect();
  await session.post("Profiler.enable"); await session.post("Profiler.start");
  const times: number[] = [];
  for (let k = 0; k < 10; k++) {
    await vi.advanceTimersByTimeAsync(3000);
    const t0 = performance.now();
    await joinThroughEdge(room, edge, `late${k}`, `userId=late${k}`);
    const t1 = performance.now();
    await vi.advanceTimersByTimeAsync(0);
    const t2 = performance.now();
    times.push(+(t1 - t0).toFixed(1), +(t2 - t1).toFixed(1));
  }
  const { profile } = await session.post("Profiler.stop") as any;
  (await import("node:fs")).writeFileSync("/tmp/prof/run.cpuprofile", JSON.stringify(profile));
  console.log("connect, then run:", JSON.stringify(times));
  expect(times.length).toBe(20);
}, 300_000);
