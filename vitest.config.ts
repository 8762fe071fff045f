import { defineConfig } from "vitest/config";

/** The service's contract, run on each engine; the client's packaging, Deno and browsers run once (PartyKit). */
const CONTRACT = ["test/integration/**/*.test.ts"];
const ONCE = ["test/integration/package.test.ts", "test/integration/deno.test.ts", "test/integration/deploy-build.test.ts"];

export default defineConfig({
  test: {
    projects: [
      // A room alarm that throws on the in-memory host fails the test that caused it.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], setupFiles: ["test/support/unit-setup.ts"] } },
      {
        test: {
          name: "integration",
          // The browser test shares the integration server: one dev server on a 2-core machine.
          // The examples start their own, with each example's serviceVars (test/support/examples.ts).
          include: [...CONTRACT, "test/browser/**/*.test.ts", "test/examples/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          env: { PRESENCE_ENGINE: "partykit" },
          testTimeout: 30_000,
          hookTimeout: 150_000,
          // One dev server on a 2-core machine: files run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "integration-workers",
          // And what only the Workers engine can show: hibernation, engine-answered pings.
          include: [...CONTRACT, "test/workers/**/*.test.ts"],
          exclude: ONCE,
          globalSetup: ["test/support/global-setup-workers.ts"],
          env: { PRESENCE_ENGINE: "workers" },
          testTimeout: 30_000,
          hookTimeout: 150_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "chaos",
          include: ["test/chaos/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 150_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
