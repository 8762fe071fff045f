// `npm run size`: the client's browser bundle (client/index.ts with partysocket, minified ESM),
// raw and gzipped, against the 12 KB gzipped budget; what each input adds. Exits 1 over budget.
// `npm run size -- --write docs/benchmarks.md` also writes the figures into that file's
// generated `size` section.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { writeSection } from "./doc-section.mjs";

const BUDGET = 12 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const result = await build({
  absWorkingDir: root,
  entryPoints: ["client/index.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  metafile: true,
  outfile: "client.min.js",
  logLevel: "error",
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).byteLength;
const [output] = Object.values(result.metafile.outputs);
const inputs = Object.entries(output.inputs)
  .map(([file, { bytesInOutput }]) => [file, bytesInOutput])
  .sort((a, b) => b[1] - a[1]);
const lines = [
  `client bundle (client/index.ts + partysocket, minified ESM): ${code.byteLength} bytes, ${gzipped} bytes gzipped (budget ${BUDGET})`,
  "bytes in the minified bundle, by input:",
  ...inputs.map(([file, bytes]) => `  ${String(bytes).padStart(6)}  ${file}`),
];
console.log(lines.join("\n"));
const write = process.argv.indexOf("--write");
if (write > 0 && gzipped <= BUDGET) {
  const file = process.argv[write + 1];
  if (!file) throw new Error("--write needs a file");
  writeSection(file, "size", `npm run size -- --write ${file}`, `\`\`\`text\n${lines.join("\n")}\n\`\`\``);
  console.log(`wrote the figures into ${file}`);
}
if (gzipped > BUDGET) {
  console.error(`over budget by ${gzipped - BUDGET} bytes`);
  process.exit(1);
}
