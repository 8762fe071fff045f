/** Vitest global setup: one shared `partykit dev` for the integration tests, killed after. */
import type { TestProject } from "vitest/node";
import { type DevServer, startDevServer } from "./dev-server.ts";

let server: DevServer | undefined;

export async function setup(project: TestProject) {
  server = await startDevServer();
  project.provide("host", server.host);
}

export async function teardown() {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    host: string;
  }
}
