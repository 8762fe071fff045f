/**
 * A small checker for the JSON Schema subset that zod emits for the protocol. The client and
 * the handshake check values against `schemas.generated.ts` (made from the zod schemas in
 * protocol/) with it, so the browser bundle carries the rules as data instead of zod.
 */

/** The JSON Schema keywords the protocol's schemas use, plus `msg`: zod's own wording per keyword. */
export type Schema = {
  type?: "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
  properties?: Record<string, Schema>;
  required?: string[];
  /** For records: the schema of every value. */
  additionalProperties?: Schema;
  /** For records: the schema of every key. */
  propertyNames?: Schema;
  /** Every item's schema (after `prefixItems`); false: no items past them. */
  items?: Schema | false;
  /** Tuples: the schema of each leading item. */
  prefixItems?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  msg?: Record<string, string>;
};

/** Named schemas that `$ref: "#/$defs/NAME"` points at. */
export type Defs = Record<string, Schema>;

const patterns = new Map<string, RegExp>();

/** The first problem of `value` against `schema`, in words that name the field, or null when it fits. */
export function check(schema: Schema, value: unknown, defs: Defs, path = ""): string | null {
  if (schema.$ref) return check(defs[schema.$ref.slice(8)] ?? {}, value, defs, path);
  const at = path || "value";
  const said = (keyword: string, fallback: string) => schema.msg?.[keyword] ?? `${at} ${fallback}`;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return checkUnion(union, value, defs, path);
  if (schema.const !== undefined && value !== schema.const) return said("const", `must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value as never)) {
    return said("enum", `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  switch (schema.type) {
    case undefined:
      return null;
    case "string": {
      if (typeof value !== "string") return said("type", "must be a string");
      if (schema.minLength !== undefined && characters(value, schema.minLength) < schema.minLength) return said("minLength", `must have at least ${schema.minLength} characters`);
      if (schema.maxLength !== undefined && characters(value, schema.maxLength) > schema.maxLength) return said("maxLength", `must have at most ${schema.maxLength} characters`);
      if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) return said("pattern", `must match ${schema.pattern}`);
      return null;
    }
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) return said("type", "must be a number");
      if (schema.type === "integer" && !Number.isSafeInteger(value)) return said("type", "must be an integer");
      if (schema.minimum !== undefined && value < schema.minimum) return said("minimum", `must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) return said("maximum", `must be at most ${schema.maximum}`);
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return said("exclusiveMinimum", `must be more than ${schema.exclusiveMinimum}`);
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return said("exclusiveMaximum", `must be less than ${schema.exclusiveMaximum}`);
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : said("type", "must be true or false");
    case "null":
      return value === null ? null : said("type", "must be null");
    case "array": {
      if (!Array.isArray(value)) return said("type", "must be an array");
      if (schema.minItems !== undefined && value.length < schema.minItems) return said("minItems", `must have at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return said("maxItems", `must have at most ${schema.maxItems} items`);
      const prefix = schema.prefixItems ?? [];
      for (let i = 0; i < value.length; i++) {
        const item = i < prefix.length ? prefix[i] : schema.items;
        if (item === false) return said("items", `must have at most ${prefix.length} items`);
        const problem = item ? check(item, value[i], defs, `${path}[${i}]`) : null;
        if (problem) return problem;
      }
      return null;
    }
    case "object":
      return checkObject(schema, value, defs, path, said);
  }
}

function checkObject(schema: Schema, value: unknown, defs: Defs, path: string, said: (keyword: string, fallback: string) => string): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return said("type", "must be an object");
  const record = value as Record<string, unknown>;
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(record, key)) return `${join(path, key)} is missing`;
  }
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (!Object.hasOwn(record, key)) continue;
    const problem = check(property, record[key], defs, join(path, key));
    if (problem) return problem;
  }
  if (schema.additionalProperties || schema.propertyNames) {
    for (const key of Object.keys(record)) {
      if (schema.properties && Object.hasOwn(schema.properties, key)) continue;
      const problem =
        (schema.propertyNames && check(schema.propertyNames, key, defs, `key ${JSON.stringify(key)} of ${path || "value"}`)) ||
        (schema.additionalProperties && check(schema.additionalProperties, record[key], defs, join(path, key)));
      if (problem) return problem;
    }
  }
  return null;
}

/**
 * A value fits a union if it fits one branch. When it fits none, the branch whose `type`
 * constant it names explains why (a tagged message), or else the first branch does.
 */
function checkUnion(branches: Schema[], value: unknown, defs: Defs, path: string): string | null {
  let first: string | null = null;
  for (const branch of branches) {
    const problem = check(branch, value, defs, path);
    if (problem === null) return null;
    first ??= problem;
  }
  const tag = (value as { type?: unknown } | null)?.type;
  const tagged = branches.find((branch) => resolve(branch, defs).properties?.type?.const === tag);
  if (tagged) return check(tagged, value, defs, path);
  const tags = branches.map((branch) => resolve(branch, defs).properties?.type?.const).filter((t) => t !== undefined);
  if (tags.length > 0) return `${join(path, "type")} must be one of ${tags.map((t) => JSON.stringify(t)).join(", ")}`;
  return first;
}

function resolve(schema: Schema, defs: Defs): Schema {
  return schema.$ref ? resolve(defs[schema.$ref.slice(8)] ?? {}, defs) : schema;
}

/**
 * A string's length as JSON Schema and zod count it: in code points (an emoji is one), not
 * UTF-16 units. A code point is one or two units, so only a string of between `limit` and
 * twice `limit` units needs counting; the others are on the same side of `limit` either way.
 */
function characters(value: string, limit: number): number {
  if (value.length < limit || value.length > 2 * limit) return value.length;
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function regex(pattern: string): RegExp {
  let compiled = patterns.get(pattern);
  if (!compiled) patterns.set(pattern, (compiled = new RegExp(pattern)));
  return compiled;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
