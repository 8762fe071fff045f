/**
 * Generated sections of a document: the text between `<!-- NAME:begin -->` and
 * `<!-- NAME:end -->`, the same markers scripts/doc-section.mjs writes figures between. These
 * sections are made from code, with no date or commit in them, so a unit test can compare them
 * (test/unit/generated.test.ts; `npm run generate` rewrites them).
 */

/** Where section `name`'s text lies in `text` (between its markers); throws when the markers are missing. */
function bounds(text: string, name: string): { from: number; to: number } {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const at = text.indexOf(begin);
  const to = text.indexOf(end);
  if (at < 0 || to < at) throw new Error(`no ${begin} … ${end} section`);
  return { from: at + begin.length, to };
}

/** The text of section `name` (what lies between its markers). */
export function sectionOf(text: string, name: string): string {
  const { from, to } = bounds(text, name);
  return text.slice(from, to);
}

/** `text` with its section `name` holding `body`, under a line that says where it comes from. */
export function withSection(text: string, name: string, source: string, body: string): string {
  const { from, to } = bounds(text, name);
  const made = `<!-- generated from ${source} by \`npm run generate\`: do not edit by hand -->`;
  return `${text.slice(0, from)}\n${made}\n${body.trim()}\n${text.slice(to)}`;
}
