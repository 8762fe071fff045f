/**
 * Packs the package (`npm pack`, which builds it) and installs the tarball into a scratch
 * project, as a user would. The integration global setup does it once; the package test and
 * the browser test use what it installed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** A scratch project with the packed package installed. */
export type PackedProject = { dir: string; tarball: string };

/** Packs and installs; also installs what a consumer brings: react, react-dom and their types (for the hook), vue (for the composables), ws (for Node 20). */
export function packAndInstall(): PackedProject {
  const dir = mkdtempSync(join(tmpdir(), "presence-packed-"));
  const npm = (args: string[], cwd: string) =>
    execFileSync("npm", args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } }).toString();
  npm(["pack", "--silent", "--pack-destination", dir], ROOT);
  const tarball = join(dir, readdirSync(dir).find((name) => name.endsWith(".tgz"))!);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "presence-consumer", private: true, type: "module" }, null, 2));
  const versions = JSON.parse(npm(["ls", "react", "react-dom", "@types/react", "@types/react-dom", "vue", "ws", "--json"], ROOT)).dependencies as Record<string, { version: string }>;
  const pinned = Object.entries(versions).map(([name, { version }]) => `${name}@${version}`);
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, ...pinned], dir);
  return { dir, tarball };
}
