/** The test helpers that decide whether a check passes: they must report what they saw, not hide it. */
import { describe, expect, it, vi } from "vitest";
import type { RoomService } from "../../party/server/host.ts";
import { waitFor } from "../support/clients.ts";
import { alarmFailures, MemoryWorld, throwAlarmFailures } from "../support/memory-host.ts";

describe("waitFor", () => {
  it("returns the first truthy value", async () => {
    let n = 0;
    expect(await waitFor("n to reach 3", () => (++n >= 3 ? n : 0), 1000)).toBe(3);
  });

  it("times out naming what it waited for, the last value and each distinct error the check threw, with how often", async () => {
    let n = 0;
    const error = await waitFor(
      "the impossible",
      () => {
        n++;
        if (n === 1) throw new Error("first failure");
        if (n % 2 === 0) throw new Error("even failure");
        return false;
      },
      200,
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^timed out waiting for the impossible \(last: (false|Error: even failure)\)/);
    expect(message).toContain("thrown 1x: first failure");
    expect(message).toMatch(/thrown \d+x: even failure/);
  });
});

describe("the in-memory host's alarms", () => {
  it("records an alarm that throws, and the check run after each unit test throws it, naming the room, then forgets it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const world = new MemoryWorld();
    world.serve("main", (host) => {
      const service: Partial<RoomService> = {
        start: async () => void (await host.storage.setAlarm(Date.now())),
        alarm: async () => {
          throw new Error("the alarm's bug");
        },
      };
      return service as RoomService;
    });
    await world.room("main", "broken");
    await waitFor("the alarm to ring", () => alarmFailures.length > 0, 1000);
    expect(() => throwAlarmFailures()).toThrow("1 room alarm(s) threw during this test: broken: the alarm's bug");
    expect(alarmFailures).toEqual([]);
    expect(() => throwAlarmFailures(), "nothing left for the next test").not.toThrow();
    vi.restoreAllMocks();
  });
});
