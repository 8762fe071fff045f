/** The test helpers that decide whether a check passes: they must report what they saw, not hide it. */
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/clients.ts";

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
