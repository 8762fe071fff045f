/**
 * Renders docs/protocol.md from its template (test/support/protocol-doc.template.md) and the
 * zod schemas in party/protocol, with the doc comments of their sources, so the document
 * cannot drift from the code. Used by test/unit/generated.test.ts (and `npm run generate`).
 *
 * The template's placeholders:
 * - `{{type Name}}`: the definition of the protocol's schema `Name` (`type Name = …;` in a ts
 *   block, with each field's doc comment and limits); `{{def Name}}`: the same under a heading,
 *   with the schema's own doc comment;
 * - `{{messages ClientMessage}}`, `{{messages ServerMessage}}`: the table of a message union;
 * - `{{value NAME}}`: a constant (a protocol export, a setting's default, a few of the room's);
 * - `{{more-types}}`: the definition of every named type the document uses and does not define
 *   elsewhere (each schema with a `.meta({id})` and a doc comment), A to Z;
 * - `{{error-codes}}`, `{{close-codes}}`, `{{config}}`: those tables.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { MAX_OUTGOING_BYTES } from "../../party/channel/outgoing.ts";
import { ConfigEnv } from "../../party/server/config.ts";
import { DEFAULT_PUSH_TIMEOUT_MS } from "../../party/server/pushes.ts";
import { MAX_JSON_DEPTH } from "../../party/wire/json.ts";
import { MAX_WINDOW } from "../../party/wire/limits.ts";
import * as protocol from "../../party/protocol/index.ts";
import { CLOSE_CODES, ClientMessage, ERROR_CODES, ServerMessage } from "../../party/protocol/index.ts";
import { ProtocolComments } from "./protocol-comments.ts";

const TEMPLATE = resolve(import.meta.dirname, "protocol-doc.template.md");

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema | false;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  description?: string;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  $defs?: Record<string, JsonSchema>;
};

/** Lines longer than this are broken into a block, one field a line. */
const INLINE_WIDTH = 72;

const pad = (n: number) => " ".repeat(n);
const refName = (ref: string) => ref.split("/").pop()!;
const wrap = (type: string) => (type.includes(" | ") ? `(${type})` : type);
const escapeCell = (text: string) => text.replace(/\|/g, "\\|");

/** The JSON Schema of a zod schema with zod's anonymous recursive definitions (`__schema0`) named after the schema that aliases them (`JsonValue`). */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const root = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const defs = root.$defs ?? {};
  const aliases = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    const target = def.$ref ? refName(def.$ref) : null;
    if (target?.startsWith("__schema") && !name.startsWith("__")) aliases.set(target, name);
  }
  if (aliases.size === 0) return root;
  const text = JSON.stringify(root, (key, value) => {
    if (key === "$ref" && typeof value === "string" && aliases.has(refName(value))) return `#/$defs/${aliases.get(refName(value))}`;
    return value;
  });
  const renamed = JSON.parse(text) as JsonSchema;
  for (const [anonymous, name] of aliases) {
    const { $ref: _alias, ...own } = renamed.$defs![name]!;
    renamed.$defs![name] = { ...renamed.$defs![anonymous], ...own };
    delete renamed.$defs![anonymous];
  }
  return renamed;
}

/** A schema's limits in words, for the `// …` after a field (null: none). */
function limitsOf(schema: JsonSchema): string | null {
  const parts: string[] = [];
  const range = (lo: number | undefined, hi: number | undefined, unit: string, units: string) => {
    if (lo !== undefined && hi !== undefined) parts.push(lo === hi ? `${lo} ${lo === 1 ? unit : units}` : `${lo}–${hi} ${units}`);
    else if (hi !== undefined) parts.push(`at most ${hi} ${hi === 1 ? unit : units}`);
    else if (lo !== undefined && lo > 0) parts.push(`at least ${lo} ${lo === 1 ? unit : units}`);
  };
  if (schema.type === "string") {
    range(schema.minLength, schema.maxLength, "character", "characters");
    if (schema.pattern) parts.push(`matching /${schema.pattern}/`);
  }
  if (schema.type === "integer" || schema.type === "number") {
    const integer = schema.type === "integer";
    const safe = (n: number | undefined) => (n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n);
    let lo = safe(schema.minimum);
    let hi = safe(schema.maximum);
    let loText = lo === undefined ? undefined : `≥ ${lo}`;
    let hiText = hi === undefined ? undefined : `≤ ${hi}`;
    if (schema.exclusiveMinimum !== undefined) {
      lo = integer ? schema.exclusiveMinimum + 1 : undefined;
      loText = integer ? `≥ ${schema.exclusiveMinimum + 1}` : `> ${schema.exclusiveMinimum}`;
    }
    if (schema.exclusiveMaximum !== undefined) {
      hi = integer ? schema.exclusiveMaximum - 1 : undefined;
      hiText = integer ? `≤ ${schema.exclusiveMaximum - 1}` : `< ${schema.exclusiveMaximum}`;
    }
    if (lo !== undefined && hi !== undefined) parts.push(`${lo}–${hi}`);
    else if (loText ?? hiText) parts.push((loText ?? hiText)!);
  }
  if (schema.type === "array" && !schema.prefixItems) range(schema.minItems, schema.maxItems, "item", "items");
  if (schema.type === "object" && typeof schema.additionalProperties === "object") {
    const values = limitsOf(schema.additionalProperties);
    if (values) parts.push(`values ${values}`);
  }
  if (schema.type === "object" && schema.properties && schema.additionalProperties === false) parts.push("no other fields");
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.length > 0 ? parts.join(", ") : null;
}

/** Renders schemas as TypeScript-like types and keeps track of the named types used and defined. */
class TypeRenderer {
  readonly comments = new ProtocolComments();
  /** Every named schema (`.meta({id})`) met so far, by name. */
  readonly defs = new Map<string, JsonSchema>();
  /** Named types a rendering used. */
  readonly used = new Set<string>();
  /** Named types the document defines. */
  readonly defined = new Set<string>();

  /** The JSON Schema of a zod schema (a named one resolved to its definition); its named parts are remembered. */
  json(schema: z.ZodType): JsonSchema {
    const root = jsonSchemaOf(schema);
    for (const [name, def] of Object.entries(root.$defs ?? {})) this.defs.set(name, def);
    const name = root.$ref ? refName(root.$ref) : undefined;
    return name && root.$defs?.[name] ? root.$defs[name] : root;
  }

  use(name: string): string {
    this.used.add(name);
    return name;
  }

  /** On one line: `{ a: T; b?: U }`. */
  inline(schema: JsonSchema): string {
    if (schema.$ref) return this.use(refName(schema.$ref));
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
    const union = schema.anyOf ?? schema.oneOf;
    if (union) return union.map((option) => this.inline(option)).join(" | ");
    if (Array.isArray(schema.type)) return schema.type.join(" | ");
    switch (schema.type) {
      case "array": {
        if (schema.prefixItems) {
          const required = schema.minItems ?? schema.prefixItems.length;
          return `[${schema.prefixItems.map((item, i) => `${this.inline(item)}${i >= required ? "?" : ""}`).join(", ")}]`;
        }
        return `${wrap(this.inline(schema.items || {}))}[]`;
      }
      case "object": {
        if (schema.properties) {
          const required = new Set(schema.required ?? []);
          const fields = Object.entries(schema.properties).map(([name, field]) => `${name}${required.has(name) ? "" : "?"}: ${this.inline(field)}`);
          return fields.length === 0 ? "{}" : `{ ${fields.join("; ")} }`;
        }
        if (typeof schema.additionalProperties === "object") return `Record<${this.keyOf(schema)}, ${this.inline(schema.additionalProperties)}>`;
        return "object";
      }
      case undefined:
        return "unknown";
      default:
        return schema.type;
    }
  }

  /** The key type of a record. */
  keyOf(schema: JsonSchema): string {
    return schema.propertyNames?.$ref ? this.use(refName(schema.propertyNames.$ref)) : "string";
  }

  /**
   * Over several lines where it helps: an object whose fields have docs or limits, or that is
   * too long for a line, gets one field a line with its doc comment (`owner` and `path` find
   * it in the sources) and its limits; a union of such objects one option a line.
   */
  block(schema: JsonSchema, owner: string, path: string[], indent: number): string {
    if (schema.enum && !schema.$ref) {
      const oneLine = this.inline(schema);
      return oneLine.length <= INLINE_WIDTH ? oneLine : schema.enum.map((value) => `\n${pad(indent + 2)}| ${JSON.stringify(value)}`).join("");
    }
    const union = schema.anyOf ?? schema.oneOf;
    if (union && !schema.$ref) {
      const options = union.map((option) => this.block(option, optionOwner(owner, option, path), path, indent + 4));
      if (options.every((option) => !option.includes("\n")) && options.join(" | ").length <= INLINE_WIDTH) return options.join(" | ");
      return options.map((option) => `\n${pad(indent + 2)}| ${option}`).join("");
    }
    if (schema.type === "array" && !schema.prefixItems && schema.items) {
      const item = this.block(schema.items, owner, path, indent);
      return item.includes("\n") ? `${item}[]` : `${wrap(item)}[]`;
    }
    if (schema.type !== "object" || !schema.properties || Object.keys(schema.properties).length === 0 || schema.$ref) return this.inline(schema);
    const required = new Set(schema.required ?? []);
    let annotated = false;
    const lines = Object.entries(schema.properties).map(([name, field]) => {
      const fieldPath = [...path, name];
      const doc = this.comments.field(owner, fieldPath) ?? (field.$ref ? undefined : field.description);
      const limits = limitsOf(field);
      if (doc || limits) annotated = true;
      const type = this.block(field, owner, fieldPath, indent + 2);
      const comment = doc ? `${pad(indent + 2)}/** ${doc} */\n` : "";
      return `${comment}${pad(indent + 2)}${name}${required.has(name) ? "" : "?"}: ${type};${limits ? ` // ${limits}` : ""}`;
    });
    const oneLine = this.inline(schema);
    if (!annotated && !lines.some((line) => line.includes("\n")) && oneLine.length <= INLINE_WIDTH) return oneLine;
    return `{\n${lines.join("\n")}\n${pad(indent)}}`;
  }

  /** `type Name = …;` for a schema, its limits after it. */
  definition(name: string, schema: JsonSchema): string {
    this.defined.add(name);
    const body = this.block(schema, name, [], 0);
    const limits = limitsOf(schema);
    return `type ${name} =${body.startsWith("\n") ? "" : " "}${body};${limits ? ` // ${limits}` : ""}`;
  }

  /** `{{type Name}}`: the protocol's schema `Name` as a ts block. */
  typeBlock(name: string): string {
    const schema = (protocol as Record<string, unknown>)[name];
    if (!(schema instanceof z.ZodType)) throw new Error(`{{type ${name}}}: party/protocol exports no schema ${name}`);
    return `\`\`\`ts\n${this.definition(name, this.json(schema))}\n\`\`\``;
  }

  /** `{{def Name}}`: a heading, the schema's doc comment and its definition. */
  defBlock(name: string): string {
    const doc = this.comments.type(name);
    if (!doc) throw new Error(`{{def ${name}}}: ${name} needs a doc comment in party/protocol`);
    return `### ${name}\n\n${doc}\n\n${this.typeBlock(name)}`;
  }

  /** Every named type used and not yet defined, and those they use in turn, A to Z, each with its doc comment. */
  moreTypes(): string {
    const sections = new Map<string, string>();
    for (;;) {
      const next = [...this.used].filter((name) => !this.defined.has(name)).sort();
      if (next.length === 0) break;
      for (const name of next) {
        const def = this.defs.get(name);
        if (!def) throw new Error(`docs/protocol.md uses the type ${name}, which no schema in party/protocol names`);
        const doc = this.comments.type(name);
        if (!doc) throw new Error(`${name} needs a doc comment in party/protocol: docs/protocol.md defines it with it`);
        sections.set(name, `### ${name}\n\n${doc}\n\n\`\`\`ts\n${this.definition(name, def)}\n\`\`\``);
      }
    }
    return [...sections.keys()]
      .sort()
      .map((name) => sections.get(name)!)
      .join("\n\n");
  }

  /** A message union as a table: its type, its other fields on one line, and its description. */
  messageTable(union: typeof ClientMessage | typeof ServerMessage): string {
    const rows = union.options.map((option) => {
      const schema = this.json(option);
      const type = String(schema.properties?.type?.const);
      const { type: _drop, ...rest } = schema.properties ?? {};
      const fields = Object.keys(rest).length === 0 ? "—" : `\`${escapeCell(this.inline({ ...schema, properties: rest }))}\``;
      return `| \`${type}\` | ${fields} | ${option.description ?? ""} |`;
    });
    return ["| type | other fields | meaning |", "| --- | --- | --- |", ...rows].join("\n");
  }
}

/** The owner of a union's option for doc lookups: `ServerMessage.sync` for `{type: "sync", …}`. */
function optionOwner(owner: string, option: JsonSchema, path: string[]): string {
  const type = option.properties?.type?.const;
  return path.length === 0 && typeof type === "string" ? `${owner}.${type}` : owner;
}

/** The constants `{{value NAME}}` may name. */
function values(): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(protocol)) if (typeof value === "number" || typeof value === "string") out[name] = value;
  for (const [name, field] of Object.entries((z.toJSONSchema(ConfigEnv, { io: "input" }) as JsonSchema).properties ?? {})) {
    if (field.default !== undefined) out[name] = String(field.default);
  }
  return {
    ...out,
    MAX_JSON_DEPTH,
    MAX_WINDOW,
    DEFAULT_PUSH_TIMEOUT_MS,
    MAX_OUTGOING_KIB: MAX_OUTGOING_BYTES / 1024,
    MAX_BATCH_BODY_MIB: protocol.MAX_BATCH_BODY_BYTES / (1024 * 1024),
  };
}

/** docs/protocol.md as it should be now. */
export function renderProtocolDoc(): string {
  const types = new TypeRenderer();
  const known = values();
  const config = types.json(ConfigEnv);
  const simple: Record<string, () => string> = {
    "error-codes": () =>
      ["| code | meaning |", "| --- | --- |", ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`)].join("\n"),
    "close-codes": () =>
      ["| code | name | meaning |", "| --- | --- | --- |", ...Object.entries(CLOSE_CODES).map(([name, { code, meaning }]) => `| ${code} | \`${name}\` | ${meaning} |`)].join("\n"),
    config: () =>
      [
        "| variable | default | meaning |",
        "| --- | --- | --- |",
        ...Object.entries(config.properties ?? {}).map(([name, field]) => `| \`${name}\` | ${field.default === undefined ? "—" : String(field.default)} | ${field.description ?? ""} |`),
      ].join("\n"),
  };
  const text = readFileSync(TEMPLATE, "utf8").replace(/\{\{([a-z-]+)(?: ([A-Za-z_]+))?\}\}/g, (placeholder, kind: string, arg: string | undefined) => {
    if (kind === "type" && arg) return types.typeBlock(arg);
    if (kind === "def" && arg) return types.defBlock(arg);
    if (kind === "messages" && (arg === "ClientMessage" || arg === "ServerMessage")) return types.messageTable(arg === "ClientMessage" ? ClientMessage : ServerMessage);
    if (kind === "value" && arg) {
      if (!(arg in known)) throw new Error(`${placeholder}: no such value`);
      return String(known[arg]);
    }
    if (kind === "more-types") return placeholder;
    if (!arg && simple[kind]) return simple[kind]();
    throw new Error(`unknown placeholder ${placeholder} in ${TEMPLATE}`);
  });
  // Named types the prose mentions (`DisconnectResult`) are defined too.
  for (const [, name] of text.matchAll(/`([A-Z][A-Za-z0-9]*)`/g)) {
    const schema = (protocol as Record<string, unknown>)[name!];
    if (!types.defs.has(name!) && schema instanceof z.ZodType && z.globalRegistry.get(schema)?.id === name) types.json(schema);
    if (types.defs.has(name!)) types.use(name!);
  }
  return text.replace("{{more-types}}", () => types.moreTypes());
}
