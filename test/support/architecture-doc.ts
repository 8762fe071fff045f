/**
 * The generated sections of docs/architecture.md: the import rules (test/support/layout-rules.ts)
 * and the calls between parties (party/protocol/calls.ts), each rendered from the code that
 * holds them. Used by test/unit/generated.test.ts (and `npm run generate`).
 */
import { Calls, type CallSpec } from "../../party/protocol/calls.ts";
import { renderImportRules } from "./layout-rules.ts";

/** A generated section: its marker name, the code it comes from, and how to render it. */
export type Section = { name: string; source: string; render: () => string };

/** The call table: one row per call of every party, in the order of protocol/calls.ts. */
export function renderCallTable(calls: Record<string, Record<string, CallSpec>> = Calls): string {
  const rows = Object.entries(calls).flatMap(([party, byName]) =>
    Object.entries(byName).map(([name, spec]) => `| \`${party}\` | \`${name}\` | ${spec.from} | ${spec.what} |`),
  );
  return ["| party | call | from | what |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** docs/architecture.md's generated sections. */
export const ARCHITECTURE_SECTIONS: Section[] = [
  { name: "import-rules", source: "test/support/layout-rules.ts", render: () => renderImportRules() },
  { name: "call-table", source: "party/protocol/calls.ts", render: () => renderCallTable() },
];
