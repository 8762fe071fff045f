/**
 * Vitest global setup of the integration-workers project: one shared `wrangler dev` (the
 * service on partyserver, rooms that hibernate), killed after. The tests of this project are
 * the integration tests of the service's contract; those of the client's packaging and
 * browsers run once, on PartyKit (see vitest.config.ts).
 */
import type { TestProject } from "vitest/node";
import { type DevServer, keepServerLog, startDevServer } from "./dev-server.ts";

let server: DevServer | undefined;

export async function setup(project: TestProject) {
  server = await startDevServer({ engine: "workers" });
  project.provide("host", server.host);
  project.provide("packedDir", "");
}

export async function teardown() {
  keepServerLog(server);
  await server?.stop();
}
