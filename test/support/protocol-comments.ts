/**
 * The doc comments of party/protocol/*.ts, read with the TypeScript compiler, so that
 * docs/protocol.md says of each type and field what its schema's source says, in one place.
 * Keys: each exported const by name (`UserId`); each field by its const and path
 * (`HttpClientHeartbeat` › `ttlMs`, `HttpClientListResponse` › `content.cursor`); the options
 * of a discriminated union by their `type` (`ServerMessage.sync` › `seq`). A field's doc is
 * looked up in the const itself, then in what it extends or spreads (`Counts.extend({…})`,
 * `...HereNowOptions.shape`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";

const PROTOCOL_DIR = resolve(import.meta.dirname, "../../party/protocol");

/** What the protocol's sources say of their schemas. */
export class ProtocolComments {
  /** Each exported const's doc comment. */
  readonly #types = new Map<string, string>();
  /** Each owner's fields' doc comments, by dotted path. */
  readonly #fields = new Map<string, Map<string, string>>();
  /** The consts an owner's fields come from besides its own, each below a path (`[]`: the owner's own level). */
  readonly #bases = new Map<string, Array<{ prefix: string[]; base: string }>>();

  constructor(dir = PROTOCOL_DIR) {
    for (const file of readdirSync(dir).filter((name) => name.endsWith(".ts")).sort()) {
      const source = ts.createSourceFile(file, readFileSync(join(dir, file), "utf8"), ts.ScriptTarget.ES2022, true);
      for (const statement of source.statements) {
        if (!ts.isVariableStatement(statement) || !statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
        for (const declaration of statement.declarationList.declarations) {
          if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
          const name = declaration.name.text;
          const doc = docOf(statement, source);
          if (doc) this.#types.set(name, doc);
          this.#visit(declaration.initializer, name, [], source);
        }
      }
    }
  }

  /** The doc comment of an exported const (a named type), or undefined. */
  type(name: string): string | undefined {
    return this.#types.get(name);
  }

  /** The doc comment of a field of `owner` at `path`, from the owner or what it extends. */
  field(owner: string, path: readonly string[], seen = new Set<string>()): string | undefined {
    if (seen.has(owner)) return undefined;
    seen.add(owner);
    const own = this.#fields.get(owner)?.get(path.join("."));
    if (own !== undefined) return own;
    for (const { prefix, base } of this.#bases.get(owner) ?? []) {
      if (prefix.length >= path.length || prefix.some((key, i) => path[i] !== key)) continue;
      const found = this.field(base, path.slice(prefix.length), new Set(seen));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  #visit(node: ts.Node, owner: string, path: string[], source: ts.SourceFile): void {
    if (path.length === 0 && ts.isCallExpression(node)) {
      // `Counts.extend({type: z.literal("sync"), …})`: the whole call belongs to that option.
      const shape = node.arguments.find(ts.isObjectLiteralExpression);
      const target = shape ? optionOwner(shape, owner) : owner;
      if (target !== owner) return ts.forEachChild(node, (child) => this.#visit(child, target, path, source));
    }
    if (ts.isIdentifier(node)) {
      // Another schema used here (extended, spread, an array's items): its fields' docs, below this path.
      if (/^[A-Z]/.test(node.text) && node.text !== owner) this.#addBase(owner, path, node.text);
      return;
    }
    if (ts.isPropertyAccessExpression(node)) return this.#visit(node.expression, owner, path, source);
    if (ts.isObjectLiteralExpression(node)) {
      const target = path.length === 0 ? optionOwner(node, owner) : owner;
      for (const property of node.properties) {
        if (ts.isSpreadAssignment(property)) {
          this.#visit(property.expression, target, path, source);
          continue;
        }
        if (!ts.isPropertyAssignment(property)) continue;
        const key = ts.isIdentifier(property.name) || ts.isStringLiteral(property.name) ? property.name.text : null;
        if (key === null) continue;
        const doc = docOf(property, source);
        const fieldPath = [...path, key];
        if (doc) {
          let fields = this.#fields.get(target);
          if (!fields) this.#fields.set(target, (fields = new Map()));
          if (!fields.has(fieldPath.join("."))) fields.set(fieldPath.join("."), doc);
        }
        this.#visit(property.initializer, target, fieldPath, source);
      }
      return;
    }
    ts.forEachChild(node, (child) => this.#visit(child, owner, path, source));
  }

  #addBase(owner: string, prefix: string[], base: string): void {
    const bases = this.#bases.get(owner) ?? [];
    if (!bases.some((b) => b.base === base && b.prefix.join(".") === prefix.join("."))) bases.push({ prefix, base });
    this.#bases.set(owner, bases);
  }
}

/** An option of a discriminated union (`{type: z.literal("sync"), …}`) is its own owner: `ServerMessage.sync`. */
function optionOwner(object: ts.ObjectLiteralExpression, owner: string): string {
  for (const property of object.properties) {
    if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name) || property.name.text !== "type") continue;
    const value = property.initializer;
    if (ts.isCallExpression(value) && value.getText().startsWith("z.literal(")) {
      const [literal] = value.arguments;
      if (literal && ts.isStringLiteral(literal)) return owner.endsWith(`.${literal.text}`) ? owner : `${owner}.${literal.text}`;
    }
  }
  return owner;
}

/** The text of the last `/** … *\/` comment right before a node, on one line. */
function docOf(node: ts.Node, source: ts.SourceFile): string | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const last = ranges.filter((range) => source.text.startsWith("/**", range.pos)).pop();
  if (!last) return undefined;
  const text = source.text
    .slice(last.pos + 3, last.end - 2)
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, "").trim())
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
  return text || undefined;
}
