/**
 * Files generated from code: docs/protocol.md and party/wire/schemas.generated.ts from the zod
 * schemas, and docs/architecture.md's sections from the import rules and the call table. Each
 * test fails when its file or section is stale; `npm run generate` rewrites them.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigEnv } from "../../party/server/config.ts";
import { Calls, ClientMessage, ServerMessage } from "../../party/protocol/index.ts";
import { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY } from "../../party/wire/parties.ts";
import { renderProtocolDoc } from "../support/protocol-doc.ts";
import { renderSchemasModule } from "../support/wire-schemas.ts";
import { ARCHITECTURE_SECTIONS, type Section } from "../support/architecture-doc.ts";
import { sectionOf, withSection } from "../support/doc-sections.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const UPDATE = process.env.UPDATE_GENERATED === "1";

/** Compares a generated file with what it should hold now (and rewrites it with UPDATE_GENERATED=1). */
function expectCurrent(path: string, expected: string) {
  const file = resolve(ROOT, path);
  if (UPDATE) writeFileSync(file, expected);
  expect(readFileSync(file, "utf8"), `${path} is stale: run \`npm run generate\``).toBe(expected);
}

/** Compares a generated section of a file with what it should hold now (and rewrites it with UPDATE_GENERATED=1). */
function expectSection(path: string, section: Section) {
  const file = resolve(ROOT, path);
  const expected = withSection(readFileSync(file, "utf8"), section.name, section.source, section.render());
  if (UPDATE) writeFileSync(file, expected);
  const found = sectionOf(readFileSync(file, "utf8"), section.name);
  expect(found, `${path}'s ${section.name} section is stale: run \`npm run generate\``).toBe(sectionOf(expected, section.name));
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

describe("docs/architecture.md", () => {
  it.each(ARCHITECTURE_SECTIONS.map((section) => [section.name, section] as const))("has the %s section its code renders", (_name, section) => {
    expectSection("docs/architecture.md", section);
  });

  it("has no row for a call nobody makes: every call of protocol/calls.ts is made under party/", () => {
    const parties: Record<string, string> = { CHANNEL_PARTY, DIRECTORY_PARTY, INDEX_PARTY };
    const made = new Set<string>();
    const files = readdirSync(resolve(ROOT, "party"), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith(".ts"));
    for (const file of files) {
      const text = readFileSync(join(file.parentPath, file.name), "utf8");
      for (const match of text.matchAll(/\.call\(\s*(CHANNEL_PARTY|DIRECTORY_PARTY|INDEX_PARTY)\s*,[^;]*?,\s*"([\w-]+)"\s*,/g)) made.add(`${parties[match[1]!]} ${match[2]}`);
      // The channel core's calls are effects: `{ party: DIRECTORY_PARTY, room, name: "report", args }`.
      for (const match of text.matchAll(/party:\s*(CHANNEL_PARTY|DIRECTORY_PARTY|INDEX_PARTY)\s*,[^;]*?name:\s*"([\w-]+)"/g)) made.add(`${parties[match[1]!]} ${match[2]}`);
    }
    const table = Object.entries(Calls).flatMap(([party, calls]) => Object.keys(calls).map((name) => `${party} ${name}`));
    expect(table.filter((call) => !made.has(call)), "calls in the table that no code makes").toEqual([]);
  });
});

describe("README.md", () => {
  it("documents every configuration variable", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    for (const name of Object.keys(ConfigEnv.shape)) expect(readme).toContain(name);
  });
});
