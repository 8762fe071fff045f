import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigEnv } from "../../party/config.ts";
import { ClientMessage, ServerMessage } from "../../party/protocol.ts";
import { renderProtocolDoc } from "../support/protocol-doc.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DOC = resolve(ROOT, "docs/protocol.md");

describe("docs/protocol.md", () => {
  it("is what the zod schemas say (run `npm run docs` to refresh it)", () => {
    const expected = renderProtocolDoc();
    if (process.env.UPDATE_DOCS) writeFileSync(DOC, expected);
    expect(readFileSync(DOC, "utf8")).toBe(expected);
  });

  it("describes every client and server message", () => {
    const doc = readFileSync(DOC, "utf8");
    for (const option of [...ClientMessage.options, ...ServerMessage.options]) {
      expect(option.description, `message ${option.shape.type.value} needs .describe()`).toBeTruthy();
      expect(doc).toContain(`| \`${option.shape.type.value}\` |`);
    }
  });
});

describe("README.md", () => {
  it("documents every configuration variable", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    for (const name of Object.keys(ConfigEnv.shape)) expect(readme).toContain(name);
  });
});
