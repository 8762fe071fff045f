// @ts-check
/** Runs bench/room-heap.ts: the channel room's own heap per member, in Node (see that file). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

/** @typedef {{ n: number; heapPerMember: number; heapPerMemberAll: number; userDataPerMember: number }} RoomHeap */

/** @param {string} benchDir @param {number} n @param {number} window @returns {Promise<RoomHeap>} */
export async function roomHeap(benchDir, n, window) {
  const dir = mkdtempSync(join(tmpdir(), "presence-heap-"));
  try {
    const outfile = join(dir, "room-heap.mjs");
    await build({ entryPoints: [join(benchDir, "room-heap.ts")], bundle: true, platform: "node", format: "esm", target: "node20", outfile, logLevel: "error" });
    const out = execFileSync(process.execPath, ["--expose-gc", outfile, String(n), String(window)], { encoding: "utf8", timeout: 120_000 });
    return JSON.parse(out.trim().split("\n").pop() ?? "{}");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
