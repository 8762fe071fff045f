// Builds the installable package into dist/: one ESM file per entry (client, server, react, vue, device, goeasy),
// shared code split into chunks, dependencies left as imports; then the .d.ts files with tsc.
// `npm run build`; `npm pack` runs it first (prepack).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { client: "client/index.ts", server: "client/server.ts", react: "client/react.ts", vue: "client/vue.ts", device: "client/device.ts", goeasy: "client/goeasy.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["partysocket", "react", "vue", "jose", "standardwebhooks", "zod"],
  legalComments: "none",
  logLevel: "warning",
});
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

// The sources import "./x.ts"; published declarations must say "./x.js" (which resolves to x.d.ts).
for (const entry of readdirSync(join(root, "dist/types"), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, "utf8");
  writeFileSync(file, text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2"));
}
