// `npm run check:deploy`: builds what each engine's deploy builds, with no account and no
// upload, and checks the bundles against Cloudflare's Worker size limits and our own budget.
// - Workers: `wrangler deploy --dry-run --outdir …` (wrangler.jsonc: its build command, the
//   dashboard, then the worker bundled as deploy bundles it).
// - PartyKit: `partykit deploy` has no dry run; this bundles the same way its deploy does (its
//   esbuild call: partykit.json's main and parties as one ESM module, `partykit`/`workerd`/`worker`
//   conditions, minified as `partykit deploy --minify`), and builds the dashboard as its `serve.build`.
// Exits 1 when a build fails or a bundle is over budget. `-- --write docs/benchmarks.md` also
// writes the sizes into that file's generated `deploy-size` section; `-- --budget-kb N` sets
// another budget (gzipped KB).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { writeSection } from "./doc-section.mjs";

/** Cloudflare's limit on a Worker's size after compression: the free plan's (the paid plan's is 10 MB). */
const CLOUDFLARE_FREE_LIMIT = 3 * 1024 * 1024;
/** Our own budget for the server bundle, gzipped: about twice its size today, so growth is noticed long before the limit. */
const DEFAULT_BUDGET = 512 * 1024;

/** The value after `--name` on the command line, or null. @param {string} name */
function option(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return null;
  const value = process.argv[at + 1];
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

const budgetKb = option("budget-kb");
if (budgetKb !== null && !(Number(budgetKb) > 0)) throw new Error(`--budget-kb takes a positive number of KB, got ${budgetKb}`);
const BUDGET = budgetKb === null ? DEFAULT_BUDGET : Number(budgetKb) * 1024;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = mkdtempSync(join(tmpdir(), "presence-deploy-"));

/** Every file under `dir`, with its path relative to it. @param {string} dir @returns {string[]} */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => statSync(join(dir, file)).isFile());
}

/** Raw and gzipped bytes of the JavaScript modules a build wrote. @param {string} dir */
function measure(dir) {
  const modules = filesUnder(dir).filter((file) => /\.m?js$/.test(file));
  if (modules.length === 0) throw new Error(`the build wrote no JavaScript module under ${dir}`);
  let raw = 0;
  let gzipped = 0;
  for (const file of modules) {
    const code = readFileSync(join(dir, file));
    raw += code.byteLength;
    gzipped += gzipSync(code, { level: 9 }).byteLength;
  }
  return { modules, raw, gzipped };
}

/** `wrangler deploy --dry-run`: the Workers engine's bundle, as deploy would upload it. */
function workersBundle() {
  const dir = join(out, "workers");
  execFileSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", dir], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  return measure(dir);
}

/** PartyKit's deploy bundle: the esbuild call `partykit deploy` makes, written to disk. */
async function partykitBundle() {
  const config = JSON.parse(readFileSync(join(root, "partykit.json"), "utf8"));
  const parties = Object.entries(config.parties ?? {});
  const contents = [
    `import WorkerSpec from './${config.main}'; export default WorkerSpec;`,
    ...parties.map(([name, path]) => `import ${name}Party from './${path}';\nexport const ${name} = ${name}Party;`),
  ].join("\n");
  const dir = join(out, "partykit");
  await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    absWorkingDir: root,
    format: "esm",
    bundle: true,
    target: "esnext",
    conditions: ["partykit", "workerd", "worker"],
    minify: true,
    define: { PARTYKIT_HOST: '"partykit-presence.example.partykit.dev"' },
    outfile: join(dir, "index.js"),
    logLevel: "error",
  });
  // Its `serve.build`: the dashboard, as `partykit deploy` builds it before the upload.
  const serve = config.serve?.build;
  if (serve) {
    await build({ absWorkingDir: root, entryPoints: [serve.entry], bundle: true, format: "esm", minify: serve.minify ?? false, outdir: join(out, "partykit-assets"), logLevel: "error" });
  }
  return measure(dir);
}

try {
  const rows = [
    ["Workers (wrangler deploy --dry-run)", workersBundle()],
    ["PartyKit (partykit deploy's esbuild call, minified)", await partykitBundle()],
  ];
  const kb = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const lines = [`server bundles as deploy builds them (budget ${kb(BUDGET)} gzipped; Cloudflare's free-plan limit ${kb(CLOUDFLARE_FREE_LIMIT)}, paid 10 MB):`];
  const over = [];
  for (const [name, size] of /** @type {Array<[string, ReturnType<typeof measure>]>} */ (rows)) {
    lines.push(`  ${name.padEnd(52)} ${kb(size.raw).padStart(10)} raw, ${kb(size.gzipped).padStart(9)} gzipped (${size.modules.map((file) => relative(".", file)).join(", ")})`);
    if (size.gzipped > BUDGET) over.push(`${name}: ${kb(size.gzipped)} gzipped is over the ${kb(BUDGET)} budget`);
    if (size.gzipped > CLOUDFLARE_FREE_LIMIT) over.push(`${name}: over Cloudflare's free-plan limit`);
  }
  console.log(lines.join("\n"));
  const file = option("write");
  if (file !== null && over.length === 0) {
    writeSection(file, "deploy-size", `npm run check:deploy -- --write ${file}`, `\`\`\`text\n${lines.join("\n")}\n\`\`\``);
    console.log(`wrote the sizes into ${file}`);
  }
  if (over.length > 0) {
    console.error(over.join("\n"));
    process.exitCode = 1;
  }
} catch (error) {
  const detail = /** @type {{ stderr?: Buffer; stdout?: Buffer }} */ (error);
  console.error(`a deploy build failed: ${error instanceof Error ? error.message : error}\n${detail.stdout?.toString() ?? ""}${detail.stderr?.toString() ?? ""}`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
