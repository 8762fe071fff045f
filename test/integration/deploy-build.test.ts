/**
 * What deploy builds (`npm run check:deploy`, scripts/deploy-check.mjs): `wrangler deploy
 * --dry-run` and PartyKit deploy's own esbuild call, with no account; both bundles measured
 * gzipped against a budget, and a bundle over it fails the check. Needs no dev server.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

/** Runs the check with `args`: its exit code and output. */
async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["scripts/deploy-check.mjs", ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, stdout: stdout ?? "", stderr: stderr ?? "" };
  }
}

/** The gzipped KB the check printed for a bundle whose line starts with `name`. */
const gzippedKb = (stdout: string, name: string) => Number(new RegExp(`${name}[^\\n]*?([\\d.]+) KB gzipped`).exec(stdout)?.[1] ?? NaN);

describe("deploy builds", { timeout: 180_000 }, () => {
  it("builds both engines' bundles as deploy does, within the budget", async () => {
    const { code, stdout, stderr } = await check([]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    for (const name of ["Workers \\(wrangler deploy --dry-run\\)", "PartyKit \\(partykit deploy's esbuild call"]) {
      const kb = gzippedKb(stdout, name);
      // The rooms, the edge, zod and jose are in it: far more than a stub, far less than the budget.
      expect(kb, name).toBeGreaterThan(50);
      expect(kb, name).toBeLessThan(512);
    }
  });

  it("fails a bundle over the budget, and says which", async () => {
    const { code, stderr } = await check(["--budget-kb", "10"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/Workers \(wrangler deploy --dry-run\): [\d.]+ KB gzipped is over the 10\.0 KB budget/);
    expect(stderr).toMatch(/PartyKit .* is over the 10\.0 KB budget/);
  });

  it("refuses a budget that is not a positive number", async () => {
    const { code, stderr } = await check(["--budget-kb", "zero"]);
    expect(code).toBe(1);
    expect(stderr).toContain("--budget-kb takes a positive number of KB, got zero");
  });
});
