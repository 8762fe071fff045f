/**
 * The Workers engine's entry in a folder of its own (test/.tmp/), so a test can change its code
 * while `wrangler dev` runs it: wrangler rebuilds and reloads the worker, and every socket of
 * every room drops, as a deploy does on Cloudflare. The entry re-exports the service's worker
 * and sets one constant that each reload changes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** A wrangler config whose worker a test can reload with changed code. */
export type ReloadableWorker = {
  /** The wrangler config to start `wrangler dev` with. */
  config: string;
  /** Writes the entry again with a new build number: wrangler reloads the worker. */
  reload(): void;
};

export function reloadableWorker(): ReloadableWorker {
  const dir = join(ROOT, "test/.tmp", `reload-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, "worker.ts");
  const worker = join(ROOT, "party/adapters/workers/worker.ts");
  let build = 0;
  const write = () =>
    writeFileSync(
      entry,
      `// Written by test/support/reloadable-worker.ts: build ${++build}.\n` +
        `export * from ${JSON.stringify(worker)};\nexport { default } from ${JSON.stringify(worker)};\n` +
        `(globalThis as Record<string, unknown>).__presenceBuild = ${build};\n`,
    );
  write();
  const config = join(dir, "wrangler.json");
  writeFileSync(
    config,
    JSON.stringify({
      name: "partykit-presence-reload",
      main: "worker.ts",
      compatibility_date: "2026-04-26",
      durable_objects: {
        bindings: [
          { name: "Main", class_name: "ChannelRoom" },
          { name: "Directory", class_name: "DirectoryRoom" },
          { name: "Index", class_name: "IndexRoom" },
        ],
      },
      migrations: [{ tag: "v1", new_sqlite_classes: ["ChannelRoom", "DirectoryRoom", "IndexRoom"] }],
    }),
  );
  return { config, reload: write };
}
