/**
 * Vitest global setup of the integration project: one shared `partykit dev` (killed after),
 * and the package packed and installed into a scratch project, as a user would install it.
 */
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { type DevServer, keepServerLog, startDevServer } from "./dev-server.ts";
import { type PackedProject, packAndInstall } from "./packed.ts";

let server: DevServer | undefined;
let packed: PackedProject | undefined;

export async function setup(project: TestProject) {
  packed = packAndInstall();
  server = await startDevServer();
  project.provide("host", server.host);
  project.provide("packedDir", packed.dir);
}

export async function teardown() {
  keepServerLog(server);
  await server?.stop();
  if (packed) rmSync(packed.dir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    host: string;
    /** A scratch project with the packed package installed (see test/support/packed.ts). */
    packedDir: string;
  }
}
