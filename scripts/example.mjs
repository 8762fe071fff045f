/**
 * `npm run example -- <name>`: runs examples/<name>. Starts the service (`partykit dev`, state
 * under .partykit/) on port 1999 with the example's `serviceVars`, or uses PRESENCE_HOST if set;
 * waits until it answers; starts the example's app server on PORT (default 3000); prints the URL;
 * stops both on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const EXAMPLES = join(ROOT, "examples");
const SERVICE_PORT = 1999;

/** The examples: each folder of examples/ with a server.mjs. */
const names = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(EXAMPLES, entry.name, "server.mjs")))
  .map((entry) => entry.name)
  .sort();

const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`${name ? `No example "${name}".` : "Which example?"} Run one of:\n${names.map((n) => `  npm run example -- ${n}`).join("\n")}`);
  process.exit(1);
}

const example = await import(pathToFileURL(join(EXAMPLES, name, "server.mjs")).href);
const vars = example.serviceVars ?? {};

let service = null;
let app = null;
let stopping = false;
let presenceHost = process.env.PRESENCE_HOST;
if (presenceHost) {
  const needed = Object.keys(vars);
  console.log(`Using the service at ${presenceHost}${needed.length ? `; it must be started with ${needed.join(", ")} as in examples/${name}/server.mjs` : ""}.`);
} else {
  presenceHost = `127.0.0.1:${SERVICE_PORT}`;
  const args = ["dev", "--disable-request-cf-fetch", "--no-hotkeys", "--port", String(SERVICE_PORT), ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}=${value}`])];
  service = spawn(process.execPath, [join(ROOT, "node_modules/partykit/dist/bin.mjs"), ...args], { cwd: ROOT, detached: true, stdio: ["ignore", "inherit", "inherit"] });
  service.once("exit", (code, signal) => {
    if (!stopping) {
      console.error(`partykit dev exited (${signal ?? code}); is port ${SERVICE_PORT} already in use?`);
      process.exit(1);
    }
  });
}

async function stop() {
  if (stopping) return;
  stopping = true;
  await app?.close();
  if (service && service.exitCode === null) {
    const exited = new Promise((done) => service.once("exit", done));
    process.kill(-service.pid, "SIGTERM");
    await exited;
  }
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

await waitForService(presenceHost);
app = await example.start({ presenceHost, port: Number(process.env.PORT ?? 3000) });
console.log(`\nexamples/${name}: open ${app.url}  (the service: http://${presenceHost}; Ctrl-C stops both)\n`);

/** Polls the service until it answers at all (with auth on, herenow answers 401: that counts). */
async function waitForService(host) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fetch(`http://${host}/herenow?channel=ready-check`, { signal: AbortSignal.timeout(5000) });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the service at ${host} did not answer within 60 s: ${error}`);
      await new Promise((done) => setTimeout(done, 250));
    }
  }
}
