// @ts-check
/**
 * Runs one Miniflare (workerd without wrangler's dev proxy: one open file per socket, where
 * `wrangler dev` takes about four and dies near 5,000 sockets on this machine) for the
 * bench's Workers engine, in its own process so the bench can watch and kill its workerd.
 * `node miniflare-host.mjs SCRIPT PORT PERSIST_DIR VARS_JSON`; prints `ready` once it answers.
 * On SIGUSR2 it loads SCRIPT again (the bench rebuilt it with changed code), as a deploy does:
 * every socket drops; it prints `reloaded BUILD` (the build named in the script's first line).
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { Miniflare } from "miniflare";

const [scriptPath = "", port = "0", persist = "", varsJson = "{}"] = process.argv.slice(2);
const options = {
  modules: true,
  scriptPath,
  modulesRoot: dirname(scriptPath),
  compatibilityDate: "2026-04-26",
  host: "127.0.0.1",
  port: Number(port),
  durableObjects: { Main: "ChannelRoom", Directory: "DirectoryRoom", Index: "IndexRoom", Empty: "EmptyRoom", Counts: "CountsRoom", Naive: "NaiveRoom" },
  durableObjectsPersist: persist,
  bindings: JSON.parse(varsJson),
};
const mf = new Miniflare(options);
await mf.ready;
console.log("ready");
const stop = () => mf.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("SIGUSR2", () => {
  const build = /build (\d+)/.exec(readFileSync(scriptPath, "utf8").slice(0, 100))?.[1] ?? "?";
  mf.setOptions(options).then(
    () => console.log(`reloaded ${build}`),
    (error) => console.error("reload failed", error),
  );
});
