// Builds the dashboard's page code (dashboard/main.ts) into public/dashboard/build/main.js, as
// partykit.json's `serve.build` does for `partykit dev`: wrangler.jsonc runs it before
// `wrangler dev` and `wrangler deploy`, which then serve public/ as static assets.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  absWorkingDir: root,
  entryPoints: ["dashboard/main.ts"],
  outdir: "public/dashboard/build",
  bundle: true,
  minify: true,
  splitting: false,
  sourcemap: false,
  format: "esm",
  platform: "browser",
  target: "es2022",
  logLevel: "warning",
});
