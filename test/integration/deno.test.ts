/**
 * The client runs unchanged in Deno: scripts/deno-smoke.ts, run by a real Deno (through npx,
 * pinned), drives two PresenceClients over Deno's global WebSocket against the shared dev server.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const host = inject("host");

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the smoke script in Deno with network access to `target` only; no stdin. */
function runSmoke(args: string[], env: Record<string, string> = {}, allowNet = host): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(
      "npx",
      [
        "--yes",
        "deno@2.9.6",
        "run",
        "--no-prompt",
        `--allow-net=${allowNet}`,
        "--allow-env=PRESENCE_HOST,SMOKE_TIMEOUT_MS",
        "scripts/deno-smoke.ts",
        ...args,
      ],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.once("error", fail);
    child.once("close", (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr });
    });
  });
}

describe("the client in Deno", () => {
  it("joins, sees the other user, answers hereNow and sees a leave, over Deno's own WebSocket and fetch", { timeout: 120_000 }, async () => {
    const run = await runSmoke([host]);
    const report = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.code, report).toBe(0);
    expect(run.stdout).toMatch(/^deno smoke: Deno 2\.9\.6, host /m);
    const steps = run.stdout.split("\n").filter((line) => line.startsWith("ok - "));
    expect(steps.map((line) => line.replace(/ deno-smoke-\S+$/, ""))).toEqual([
      "ok - alice joined",
      "ok - bob joined",
      "ok - alice saw bob join with his data and the counts",
      "ok - bob sees alice online with her data",
      "ok - hereNow over the socket lists alice and bob",
      "ok - hereNow over HTTP (Deno's fetch) counts both channels",
      "ok - alice saw bob leave and dropped him from her list",
    ]);
    expect(run.stdout).toMatch(/^deno smoke: passed$/m);
    expect(run.stderr).not.toMatch(/FAILED/);
  });

  it("takes the host from PRESENCE_HOST when no argument is given", { timeout: 120_000 }, async () => {
    const run = await runSmoke([], { PRESENCE_HOST: host });
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`host ${host}`);
    expect(run.stdout).toMatch(/^deno smoke: passed$/m);
  });

  it("fails with a clear message and exit code 1 when no server answers, within its timeout", { timeout: 120_000 }, async () => {
    // Port 9 (discard) on loopback: nothing listens, so the first snapshot never comes.
    const deadHost = "127.0.0.1:9";
    const started = Date.now();
    const run = await runSmoke([deadHost], { SMOKE_TIMEOUT_MS: "3000" }, deadHost);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("deno smoke: FAILED timed out after 3000 ms during: alice's first snapshot");
    expect(run.stdout).not.toContain("passed");
    // The script's own timeout ended it, not the test's kill (npx and Deno start-up included).
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("refuses to run without a host, with a usage message and exit code 2", { timeout: 120_000 }, async () => {
    const run = await runSmoke([], { PRESENCE_HOST: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("deno smoke: FAILED usage: deno-smoke.ts HOST");
  });
});
