// @ts-check
// `npm run bench:fanin`: bundles the fan-in simulation (bench/fanin/main.ts and the service code
// it drives) with esbuild into a temporary module, and runs it in this process with the
// arguments given. Node cannot run the TypeScript itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "fanin-"));
const outfile = join(dir, "fanin.mjs");
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
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
