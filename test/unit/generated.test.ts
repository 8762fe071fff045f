/**
 * Files generated from the zod schemas: docs/protocol.md and party/wire/schemas.generated.ts.
 * Each test fails when its file is stale; `npm run generate` rewrites both.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigEnv } from "../../party/server/config.ts";
import { ClientMessage, ServerMessage } from "../../party/protocol/index.ts";
import { renderProtocolDoc } from "../support/protocol-doc.ts";
import { renderSchemasModule } from "../support/wire-schemas.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const UPDATE = process.env.UPDATE_GENERATED === "1";

/** Compares a generated file with what it should hold now (and rewrites it with UPDATE_GENERATED=1). */
function expectCurrent(path: string, expected: string) {
  const file = resolve(ROOT, path);
  if (UPDATE) writeFileSync(file, expected);
  expect(readFileSync(file, "utf8"), `${path} is stale: run \`npm run generate\``).toBe(expected);
}

describe("docs/protocol.md", () => {
  it("is what the zod schemas say", () => {
    expectCurrent("docs/protocol.md", renderProtocolDoc());
  });

  it("describes every client and server message", () => {
    const doc = readFileSync(resolve(ROOT, "docs/protocol.md"), "utf8");
    for (const option of [...ClientMessage.options, ...ServerMessage.options]) {
      expect(option.description, `message ${option.shape.type.value} needs .describe()`).toBeTruthy();
      expect(doc).toContain(`| \`${option.shape.type.value}\` |`);
    }
  });
});

describe("party/wire/schemas.generated.ts", () => {
  it("is what the zod schemas say", () => {
    expectCurrent("party/wire/schemas.generated.ts", renderSchemasModule());
  });
});

describe("README.md", () => {
  it("documents every configuration variable", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    for (const name of Object.keys(ConfigEnv.shape)) expect(readme).toContain(name);
  });
});
