/**
 * The examples' stand-in for `import … from "partykit-presence/server"` and
 * `"partykit-presence/device"` on Node. In your app, import those names from the installed
 * package. Here the package is its TypeScript sources, which Node 20 cannot import, so they are
 * bundled for Node with esbuild once, when an example's server first imports this file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ENTRIES } from "./kit.mjs";

const result = await build({
  stdin: {
    contents: 'export * from "partykit-presence/server";\nexport { createPresenceDevice } from "partykit-presence/device";\n',
    resolveDir: import.meta.dirname,
    loader: "js",
  },
  alias: ENTRIES,
  bundle: true,
  write: false,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "silent",
});
const dir = mkdtempSync(join(tmpdir(), "presence-example-"));
const file = join(dir, "partykit-presence.mjs");
writeFileSync(file, result.outputFiles[0].text);

/** @type {typeof import("../client/server.ts") & typeof import("../client/device.ts")} */
const presence = await import(pathToFileURL(file).href).finally(() => rmSync(dir, { recursive: true, force: true }));

export const { createPresenceApi, createPresenceToken, verifyWebhook, PresenceHttpError, createPresenceDevice } = presence;
