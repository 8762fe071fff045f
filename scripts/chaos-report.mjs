// @ts-check
/**
 * `npm run report:chaos`: runs the chaos project (`vitest run --project chaos`) and, when every
 * test passed, writes the CHAOS-SUMMARY line each test prints into docs/reliability.md's
 * generated `chaos` section, so the figures there always come from a run. Exits with the
 * tests' status.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "./doc-section.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();
const child = spawn("npx", ["vitest", "run", "--project", "chaos"], { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});
const code = await new Promise((done) => child.once("exit", (status) => done(status ?? 1)));
const seconds = Math.round((Date.now() - started) / 1000);
const summaries = output
  .replace(/\x1b\[[0-9;]*m/g, "")
  .split("\n")
  .filter((line) => line.includes("CHAOS-SUMMARY "))
  .map((line) => line.slice(line.indexOf("CHAOS-SUMMARY ") + "CHAOS-SUMMARY ".length).trim());
if (code !== 0) {
  console.error(`chaos tests failed (exit ${code}): docs/reliability.md left as it was`);
  process.exit(Number(code));
}
if (summaries.length === 0) {
  console.error("no CHAOS-SUMMARY lines in the output: docs/reliability.md left as it was");
  process.exit(1);
}
const rows = summaries.map((line) => {
  const [name, ...rest] = line.split(" ");
  return `| ${name} | ${rest.join(" ").replaceAll("|", "\\|")} |`;
});
const body = [`All chaos tests passed in ${seconds} s.`, "", "| test | figures, as the test printed them |", "| --- | --- |", ...rows].join("\n");
writeSection(join(root, "docs/reliability.md"), "chaos", "npm run report:chaos", body);
console.log("wrote docs/reliability.md");
