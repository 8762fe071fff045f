/**
 * What each folder may import, as code: test/unit/layout.test.ts holds every import to these
 * rules, and test/unit/generated.test.ts renders them as the table in docs/architecture.md
 * ("What each folder may import"), so the table cannot say anything the test does not hold.
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** One import of a source file: where it leads (a repo path, or a package name) and whether it is for types only. */
export type Import = { from: string; target: string; typeOnly: boolean; line: number };

/**
 * A folder's rule: what it may import at run time, and what only as types. An entry that ends
 * with `/` is a folder of this repo (a target in it matches); any other is a package (the
 * package itself or a path in it matches, `partykit/server` for instance).
 */
export type Rule = { runtime: string[]; types?: string[] };

const SERVICES = ["party/channel/", "party/directory/", "party/index/", "party/edge/", "party/server/", "party/protocol/", "party/wire/"];

/** What each folder may import, by folder (each ends with `/`; a file follows the longest folder that holds it). */
export const RULES: Record<string, Rule> = {
  "party/wire/": { runtime: ["party/wire/"] },
  "party/protocol/": { runtime: ["party/protocol/", "party/wire/", "zod"] },
  "party/server/": { runtime: ["party/server/", "party/protocol/", "party/wire/", "zod", "standardwebhooks"] },
  "party/edge/": { runtime: ["party/edge/", "party/server/", "party/protocol/", "party/wire/", "zod", "jose"] },
  "party/channel/": { runtime: ["party/channel/", "party/server/", "party/protocol/", "party/wire/", "zod"] },
  "party/directory/": { runtime: ["party/directory/", "party/server/", "party/protocol/", "party/wire/"] },
  "party/index/": { runtime: ["party/index/", "party/server/", "party/protocol/", "party/wire/"] },
  "party/adapters/partykit/": { runtime: ["party/adapters/partykit/", ...SERVICES], types: ["partykit/server"] },
  "party/adapters/workers/": { runtime: ["party/adapters/workers/", ...SERVICES, "partyserver"] },
  "client/": { runtime: ["client/", "party/wire/", "partysocket", "react", "vue", "jose", "standardwebhooks"], types: ["party/protocol/"] },
  "dashboard/": { runtime: ["dashboard/", "client/", "party/wire/", "partysocket"], types: ["party/protocol/"] },
};

/** The imports of a file: `import`/`export … from`, side-effect imports and `import()`, each as a repo path or a package name. */
export function importsOf(file: string, text = readFileSync(resolve(ROOT, file), "utf8")): Import[] {
  const found: Import[] = [];
  const pattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of text.matchAll(pattern)) {
    const spec = match[3] ?? match[4]!;
    const at = match.index + (match[1] === undefined ? 0 : match[0].indexOf(match[1]));
    const line = text.slice(0, at).split("\n").length;
    const target = spec.startsWith(".") ? relative(ROOT, resolve(ROOT, file, "..", spec)) : spec;
    found.push({ from: file, target, typeOnly: match[2] !== undefined, line });
  }
  return found;
}

/** The folder rule that governs a file: the longest folder of RULES that holds it. */
export function ruleFor(file: string): [string, Rule] | undefined {
  return Object.entries(RULES)
    .filter(([folder]) => file.startsWith(folder))
    .sort(([a], [b]) => b.length - a.length)[0];
}

/** Whether an import's target is what a rule entry allows. */
const within = (target: string, entry: string) => (entry.endsWith("/") ? target.startsWith(entry) : target === entry || target.startsWith(`${entry}/`));

/** Every import that breaks its folder's rule, as a readable line. */
export function violations(imports: Import[]): string[] {
  const broken: string[] = [];
  for (const imported of imports) {
    const found = ruleFor(imported.from);
    if (!found) continue;
    const [folder, rule] = found;
    const allowed = [...rule.runtime, ...(imported.typeOnly ? (rule.types ?? []) : [])];
    if (allowed.some((entry) => within(imported.target, entry))) continue;
    const asTypes = (rule.types ?? []).some((entry) => within(imported.target, entry));
    broken.push(`${imported.from}:${imported.line} imports ${imported.target}${asTypes ? " at run time (only `import type` is allowed)" : ""}, which ${folder} may not`);
  }
  return broken;
}

/** The rules as the markdown table of docs/architecture.md: one row per folder, in RULES' order. */
export function renderImportRules(rules: Record<string, Rule> = RULES): string {
  const list = (entries: string[] = []) => entries.map((entry) => `\`${entry}\``).join(", ");
  const row = (cells: string[]) => `|${cells.map((cell) => (cell === "" ? " " : ` ${cell} `)).join("|")}|`;
  return [
    row(["from", "may import at run time", "and types from"]),
    row(["---", "---", "---"]),
    ...Object.entries(rules).map(([folder, rule]) => row([list([folder]), list(rule.runtime), list(rule.types)])),
  ].join("\n");
}
