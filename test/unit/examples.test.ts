/**
 * The examples keep their convention, so `npm run example -- NAME` and the top README can rely on
 * it: every folder of examples/ has a server.mjs exporting `start` and `serviceVars` (PRESENCE_*
 * settings as strings), and a README.md naming its command; the top README shows every example.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleModule } from "../support/examples.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLES = join(ROOT, "examples");
const names = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe("examples/", () => {
  it("holds the scenarios of seeds 000, 002, 003 and 004", () => {
    expect(names).toEqual(expect.arrayContaining(["chat", "devices", "reply-notice", "multi-device"]));
  });

  it.each(names)("%s has a server.mjs exporting start and serviceVars (PRESENCE_* strings)", async (name) => {
    expect(existsSync(join(EXAMPLES, name, "server.mjs")), `examples/${name}/server.mjs`).toBe(true);
    const example = await exampleModule(name);
    expect(typeof example.start).toBe("function");
    expect(typeof example.serviceVars).toBe("object");
    for (const [key, value] of Object.entries(example.serviceVars)) {
      expect(key).toMatch(/^PRESENCE_[A-Z0-9_]+$/);
      expect(typeof value).toBe("string");
    }
  });

  it.each(names)("%s has a README naming its command", (name) => {
    const readme = join(EXAMPLES, name, "README.md");
    expect(existsSync(readme), `examples/${name}/README.md`).toBe(true);
    expect(readFileSync(readme, "utf8")).toContain(`npm run example -- ${name}`);
  });

  it("is listed in the top README, each example with its screenshot", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const name of names) {
      expect(readme).toContain(`(examples/${name}/)`);
      expect(readme).toContain(`(docs/screenshots/example-${name}.png)`);
    }
  });
});
