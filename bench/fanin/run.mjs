// @ts-check
// `npm run bench:fanin`: bundles the fan-in simulation (bench/fanin/main.ts and the service code
// it drives) with esbuild into a temporary module, and runs it in a Node of its own with the
// arguments given (Node cannot run the TypeScript itself). The full size holds a million
// members' real presence state: that Node gets a larger heap than the default 4 GB.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "fanin-"));
const outfile = join(dir, "fanin.mjs");
let status = 1;
try {
  await build({
    absWorkingDir: root,
    entryPoints: ["bench/fanin/main.ts"],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "error",
  });
  const heapMb = process.env.FANIN_HEAP_MB ?? "8192";
  status = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, outfile, ...process.argv.slice(2)], { stdio: "inherit", cwd: root }).status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
