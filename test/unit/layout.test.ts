/**
 * The layout's rules, enforced: what each folder may import (the rules are in
 * test/support/layout-rules.ts; docs/architecture.md shows them as a generated table), that
 * only the PartyKit adapter imports `partykit/server`, that nothing the client, the server
 * helper, the React and Vue hooks or the dashboard ships reaches zod or server code at run time
 * (checked on what esbuild actually bundles), and that no file under party/, client/ or
 * dashboard/ imports a Node built-in.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { importsOf, ruleFor, violations } from "../support/layout-rules.ts";

const ROOT = resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const FILES = ["party", "client", "dashboard"].flatMap(sourceFiles);
const IMPORTS = FILES.flatMap((file) => importsOf(file));

describe("the layout", () => {
  it("gives every file under party/, client/ and dashboard/ a folder rule", () => {
    expect(FILES.filter((file) => !ruleFor(file))).toEqual([]);
  });

  it("keeps every import within its folder's rule", () => {
    expect(violations(IMPORTS)).toEqual([]);
  });

  it.each([
    ["partykit/server", "party/adapters/partykit/"],
    ["partyserver", "party/adapters/workers/"],
  ])("lets only its adapter import the engine %s", (engine, adapter) => {
    const importers = IMPORTS.filter((i) => i.target === engine || i.target.startsWith(`${engine}/`)).map((i) => i.from);
    expect(importers.length).toBeGreaterThan(0);
    expect(importers.filter((file) => !file.startsWith(adapter))).toEqual([]);
  });

  it("imports no Node built-in under party/, client/ or dashboard/ (they run on workerd, in browsers and in Deno)", () => {
    const builtins = IMPORTS.filter((i) => i.target.startsWith("node:") || ["fs", "path", "os", "crypto", "events", "buffer", "stream", "http", "net"].includes(i.target));
    expect(builtins.map((i) => `${i.from}:${i.line} ${i.target}`)).toEqual([]);
  });

  it.each([
    ["a client file that imports zod", "client/x.ts", 'import { z } from "zod";', /client\/x.ts:1 imports zod/],
    ["a client file that imports protocol/ at run time", "client/x.ts", 'import { ClientMessage } from "../party/protocol/index.ts";', /only `import type` is allowed/],
    ["a wire file that imports server code", "party/wire/x.ts", 'import type { Config } from "../server/config.ts";', /party\/wire\/x.ts:1 imports party\/server\/config.ts/],
    ["a wire file that imports protocol types (wire/ is self-contained: protocol/ imports it)", "party/wire/x.ts", 'import type { Member } from "../protocol/index.ts";', /party\/wire\/x.ts:1 imports party\/protocol\/index.ts, which party\/wire\/ may not/],
    ["a channel file that imports another party", "party/channel/x.ts", 'import { DirectoryState } from "../directory/directory.ts";', /imports party\/directory\/directory.ts/],
    ["a core file that imports the engine", "party/channel/x.ts", 'import type * as Party from "partykit/server";', /imports partykit\/server/],
    ["the edge importing a party at run time, on line 3", "party/edge/x.ts", '/** doc */\n\nexport { IndexService } from "../index/service.ts";', /party\/edge\/x.ts:3 imports party\/index\/service.ts/],
  ])("refuses %s", (_what, file, text, why) => {
    const found = violations(importsOf(file, text));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(why);
  });

  it("lets type-only imports of the protocol into the client, and the client into the dashboard", () => {
    expect(violations(importsOf("client/x.ts", 'import type { Member } from "../party/protocol/index.ts";'))).toEqual([]);
    expect(violations(importsOf("dashboard/x.ts", 'import { PresenceClient } from "../client/index.ts";'))).toEqual([]);
  });
});

/** The files the first fenced block under "## Layout" of docs/architecture.md names, as repo paths (folders end with `/`, files sit indented under them). */
function documentedFiles(): string[] {
  const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Layout"));
  const block = section.slice(section.indexOf("```\n") + 4, section.indexOf("\n```", section.indexOf("```\n") + 4));
  const folders: Array<{ indent: number; path: string }> = [];
  const files: string[] = [];
  for (const line of block.split("\n")) {
    const match = /^(\s*)(\S+)/.exec(line);
    if (!match) continue;
    const indent = match[1]!.length;
    while (folders.length > 0 && folders[folders.length - 1]!.indent >= indent) folders.pop();
    const path = folders.map((folder) => folder.path).join("") + match[2]!;
    if (match[2]!.endsWith("/")) folders.push({ indent, path: match[2]! });
    else files.push(path);
  }
  return files;
}

describe("docs/architecture.md", () => {
  it("lists every file under party/, client/ and dashboard/, and no file that is gone", () => {
    const documented = documentedFiles();
    expect(documented.length).toBeGreaterThan(50);
    expect(FILES.filter((file) => !documented.includes(file)), "files missing from the doc's layout").toEqual([]);
    expect(documented.filter((file) => !FILES.includes(file)), "files in the doc's layout that do not exist").toEqual([]);
  });

  it("names every export of party/server/host.ts, and every member of its interfaces, under \"The host port\"", () => {
    const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
    const start = doc.indexOf("## The host port");
    const section = doc.slice(start, doc.indexOf("\n#", start + 1));
    const host = readFileSync(join(ROOT, "party/server/host.ts"), "utf8");
    const names = [...host.matchAll(/^export (?:interface|type|function|class|const) (\w+)/gm)].map((match) => match[1]!);
    for (const [, body] of host.matchAll(/^export interface \w+[^{]*\{\n([\s\S]*?)^\}/gm)) {
      names.push(...[...body!.matchAll(/^ {2}(?:readonly )?(\w+)[<(?:]/gm)].map((match) => match[1]!));
    }
    expect(names.length).toBeGreaterThan(30);
    expect([...new Set(names)].filter((name) => !section.includes(`\`${name}`)), "not named in the host port section").toEqual([]);
  });
});

describe("what the browser and app servers load", () => {
  it.each([["client/index.ts"], ["client/server.ts"], ["client/react.ts"], ["client/vue.ts"], ["client/device.ts"], ["client/goeasy.ts"], ["dashboard/main.ts"]])(
    "%s bundles no zod and no server code",
    async (entry) => {
      const result = await build({
        absWorkingDir: ROOT,
        entryPoints: [entry],
        bundle: true,
        write: false,
        metafile: true,
        format: "esm",
        platform: "browser",
        external: ["react", "vue"],
        logLevel: "silent",
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.length).toBeGreaterThan(1);
      expect(inputs.filter((input) => input.includes("node_modules/zod/"))).toEqual([]);
      const ours = inputs.filter((input) => !input.startsWith("node_modules/"));
      expect(ours.filter((input) => !["client/", "dashboard/", "party/wire/"].some((folder) => input.startsWith(folder)))).toEqual([]);
    },
    30_000,
  );
});
