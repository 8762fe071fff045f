/**
 * Which type names a Markdown document uses, and which it defines, read from the text alone
 * (not from the generator that wrote it): what test/unit/protocol-doc.test.ts holds
 * docs/protocol.md to. A name is a PascalCase identifier (`WireMember`, `HttpClientResponse`):
 * capitalized and with a lowercase letter, so neither the notation's `T` nor `POST` is one.
 *
 * - Defined: `type Name = …` at the start of a line in a ```ts block.
 * - Used: any such identifier in a ```ts block outside comments and string literals, and in
 *   the prose any code span that is a type rendering: a name alone (`` `DisconnectResult` ``,
 *   `` `UserId[]` ``) or a rendering that starts with `{` or `[` (a table's
 *   `` `{ id: PushId; ok: boolean }` ``), again outside string literals.
 */

/** TypeScript's own generic, which the notation section explains. */
const BUILT_IN = new Set(["Record"]);

/** Capitalized, with a lowercase letter: `PushId`, not the notation's `T` or a method's `POST`. */
const NAME = /\b[A-Z][A-Z0-9]*[a-z][A-Za-z0-9]*\b/g;

/** A place a name was found: the line number (from 1) and the line's text. */
export type Place = { line: number; text: string };

/** Text without its string literals ("…", with escapes). */
function withoutStrings(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

/** Text of a ts block without its comments. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, " ");
}

/** Each ```ts block's lines (with their line numbers), and the prose lines outside every fenced block. */
function split(doc: string): { code: Place[]; prose: Place[] } {
  const code: Place[] = [];
  const prose: Place[] = [];
  let fence: string | null = null;
  doc.split("\n").forEach((text, i) => {
    const line = i + 1;
    const marker = /^\s*```(\w*)/.exec(text);
    if (marker) {
      fence = fence === null ? marker[1]! || "text" : null;
      return;
    }
    if (fence === null) prose.push({ line, text });
    else if (fence === "ts") code.push({ line, text });
  });
  return { code, prose };
}

/** The names a document defines, each with where. */
export function definedTypes(doc: string): Map<string, Place[]> {
  const defined = new Map<string, Place[]>();
  for (const place of split(doc).code) {
    const match = /^type ([A-Z][A-Za-z0-9]*)\b(?:<[^>]*>)? =/.exec(place.text);
    if (match) defined.set(match[1]!, [...(defined.get(match[1]!) ?? []), place]);
  }
  return defined;
}

/** The names a document uses, each with where. */
export function usedTypes(doc: string): Map<string, Place[]> {
  const used = new Map<string, Place[]>();
  const note = (name: string, place: Place) => {
    if (!BUILT_IN.has(name)) used.set(name, [...(used.get(name) ?? []), place]);
  };
  const { code, prose } = split(doc);
  // Comments may span lines: strip them from the whole block text, keeping the line breaks.
  const codeText = withoutComments(code.map((place) => place.text).join("\n")).split("\n");
  codeText.forEach((text, i) => {
    for (const [name] of withoutStrings(text).matchAll(NAME)) note(name, code[i]!);
  });
  for (const place of prose) {
    for (const [, span] of place.text.matchAll(/`([^`]+)`/g)) {
      const rendering = span!.trim();
      const isType = /^[A-Z][A-Za-z0-9]*(\[\])*$/.test(rendering) || /^[{[]/.test(rendering);
      if (!isType) continue;
      for (const [name] of withoutStrings(rendering).matchAll(NAME)) note(name, place);
    }
  }
  return used;
}

/** The names a document uses and does not define, with the first place each is used. */
export function undefinedTypes(doc: string): Array<{ name: string; first: Place }> {
  const defined = definedTypes(doc);
  return [...usedTypes(doc)].filter(([name]) => !defined.has(name)).map(([name, places]) => ({ name, first: places[0]! }));
}
