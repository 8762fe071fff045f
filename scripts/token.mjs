// @ts-check
/**
 * `npm run token -- --user Jack [--channels "room-*,lobby"] [--data '{"name":"Jack"}']
 * [--data-writable] [--client-type web] [--observer] [--ttl 3600] [--issuer I] [--audience A]`:
 * prints a client token signed with PRESENCE_AUTH_SECRET (from the environment, --secret, or
 * .env beside partykit.json), for trying the service locally with auth on. It runs
 * `createPresenceToken` from client/tokens.ts, bundled on the fly with esbuild.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const usage = "usage: npm run token -- --user ID | --observer [--channels a,b*] [--data JSON] [--data-writable] [--client-type T] [--ttl SECONDS] [--issuer I] [--audience A] [--secret S]";

/** @type {Record<string, string | true>} */
const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i] ?? "";
  if (!arg.startsWith("--")) fail(`unexpected argument ${arg}`);
  const key = arg.slice(2);
  if (key === "observer" || key === "data-writable") args[key] = true;
  else if (argv[i + 1] === undefined) fail(`missing value for ${arg}`);
  else args[key] = /** @type {string} */ (argv[++i]);
}

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

/** PRESENCE_AUTH_SECRET from --secret, the environment, or .env. */
function secret() {
  if (typeof args.secret === "string") return args.secret;
  if (process.env.PRESENCE_AUTH_SECRET) return process.env.PRESENCE_AUTH_SECRET;
  const dotenv = join(root, ".env");
  if (existsSync(dotenv)) {
    const line = readFileSync(dotenv, "utf8").split("\n").find((l) => l.startsWith("PRESENCE_AUTH_SECRET="));
    if (line) return line.slice("PRESENCE_AUTH_SECRET=".length).trim().replace(/^["']|["']$/g, "");
  }
  return fail("no secret: set PRESENCE_AUTH_SECRET (environment or .env) or pass --secret");
}

const str = (/** @type {string} */ key) => (typeof args[key] === "string" ? /** @type {string} */ (args[key]) : undefined);
let data;
if (str("data") !== undefined) {
  try {
    data = JSON.parse(/** @type {string} */ (str("data")));
  } catch {
    fail("--data must be JSON");
  }
}
const options = {
  userId: str("user"),
  data,
  dataWritable: args["data-writable"] === true ? true : undefined,
  channels: str("channels")?.split(",").map((c) => c.trim()).filter(Boolean),
  clientType: str("client-type"),
  observer: args.observer === true ? true : undefined,
  ttlSeconds: str("ttl") === undefined ? undefined : Number(str("ttl")),
  issuer: str("issuer"),
  audience: str("audience"),
};

const cache = join(root, "node_modules/.cache/presence");
mkdirSync(cache, { recursive: true });
const bundled = join(cache, "tokens.mjs");
const result = await build({ absWorkingDir: root, entryPoints: ["client/tokens.ts"], bundle: true, format: "esm", platform: "node", external: ["jose"], write: false, logLevel: "error" });
writeFileSync(bundled, result.outputFiles[0]?.text ?? "");
const { createPresenceToken } = await import(pathToFileURL(bundled).href);
try {
  console.log(await createPresenceToken(options, secret()));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
