/**
 * Renders party/wire/schemas.generated.ts from the zod schemas in protocol.ts: each schema
 * as JSON Schema data, with zod's own messages, for `check.ts`. Used by
 * test/unit/generated.test.ts (and `npm run generate`), which fails when the file is stale.
 */
import { z } from "zod";
import type { Schema } from "../../party/wire/check.ts";
import * as protocol from "../../party/protocol/index.ts";

/** The schemas the client and the handshake check without zod. */
export const GENERATED_ROOTS = {
  ChannelName: protocol.ChannelName,
  UserId: protocol.UserId,
  PushId: protocol.PushId,
  ConnectQuery: protocol.ConnectQuery,
  ServerMessage: protocol.ServerMessage,
  HereNowResponse: protocol.HereNowResponse,
  ErrorResponse: protocol.ErrorResponse,
  StatsResponse: protocol.StatsResponse,
  HistoryResponse: protocol.HistoryResponse,
  TokenClaims: protocol.TokenClaims,
  UsersResponse: protocol.UsersResponse,
  PushResponse: protocol.PushResponse,
  DisconnectResponse: protocol.DisconnectResponse,
  BanStatusResponse: protocol.BanStatusResponse,
  BanLiftedResponse: protocol.BanLiftedResponse,
  HttpClientResponse: protocol.HttpClientResponse,
  HttpClientBatchResponse: protocol.HttpClientBatchResponse,
  HttpClientRemovedResponse: protocol.HttpClientRemovedResponse,
  HttpClientListResponse: protocol.HttpClientListResponse,
  WebhookPayload: protocol.WebhookPayload,
} satisfies Record<string, z.ZodType>;

/** zod check kinds and the JSON Schema keyword each becomes (arrays use the `Items` ones). */
const KEYWORDS: Record<string, [string, string]> = {
  min_length: ["minLength", "minItems"],
  max_length: ["maxLength", "maxItems"],
  string_format: ["pattern", "pattern"],
};

type Json = Record<string, unknown>;

/** zod's custom message per keyword, kept with the schema so the checker says the same words. */
function messagesOf(zodSchema: z.ZodType, json: Json): Record<string, string> | null {
  const checks = (zodSchema._zod.def as { checks?: Array<{ _zod: { def: { check: string; error?: (issue: unknown) => unknown } } }> }).checks ?? [];
  const msg: Record<string, string> = {};
  for (const { _zod } of checks) {
    const keywords = KEYWORDS[_zod.def.check];
    const text = _zod.def.error?.({});
    if (!keywords || typeof text !== "string") continue;
    msg[json.type === "array" ? keywords[1] : keywords[0]] = text;
  }
  return Object.keys(msg).length > 0 ? msg : null;
}

/** Drops what checking does not need: descriptions, defaults, the 2^53 bounds zod adds to integers. */
function prune(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null) return schema;
  const { type } = schema as Json;
  if (Array.isArray(type)) {
    // `type: ["number", "null"]` (a nullable): the checker takes one type per schema, so a union of them.
    return { anyOf: type.map((one) => prune({ ...(schema as Json), type: one })) };
  }
  const out: Json = {};
  for (const [key, child] of Object.entries(schema)) {
    if (["$schema", "description", "default", "title"].includes(key)) continue;
    if (key === "additionalProperties" && child === false) continue; // zod strips unknown keys, it does not refuse them
    if ((key === "maximum" || key === "minimum") && Math.abs(child as number) === Number.MAX_SAFE_INTEGER) continue;
    if (key === "type" && "const" in schema) continue;
    if (key === "properties") out[key] = Object.fromEntries(Object.entries(child as Json).map(([name, field]) => [name, prune(field)]));
    else if (key === "anyOf" || key === "oneOf") out[key] = (child as unknown[]).map(prune);
    else if (key === "items" || key === "additionalProperties" || key === "propertyNames") out[key] = prune(child);
    else out[key] = child;
  }
  return out;
}

/** The JSON Schema data of every root, and the named definitions each reaches. */
export function generatedSchemas(): { defs: Record<string, Schema>; roots: Record<string, { schema: Schema; uses: string[] }> } {
  const defs: Record<string, Schema> = {};
  const roots: Record<string, { schema: Schema; uses: string[] }> = {};
  for (const [name, schema] of Object.entries(GENERATED_ROOTS)) {
    const json = z.toJSONSchema(schema, {
      io: "input",
      unrepresentable: "any",
      override: (ctx) => {
        // A frame was JSON.parse'd: whatever it holds where JsonValue stands is JSON.
        if (ctx.zodSchema === protocol.JsonValue) {
          for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[key];
          return;
        }
        const msg = messagesOf(ctx.zodSchema as unknown as z.ZodType, ctx.jsonSchema as Json);
        if (msg) (ctx.jsonSchema as Json).msg = msg;
      },
    }) as Json & { $defs?: Record<string, unknown> };
    const { $defs = {}, ...root } = json;
    for (const [defName, def] of Object.entries($defs)) {
      if (defName.startsWith("__schema")) continue; // JsonValue's own recursive body, which checking never needs
      const pruned = prune(def) as Schema;
      if (defs[defName] && JSON.stringify(defs[defName]) !== JSON.stringify(pruned)) throw new Error(`two schemas named ${defName}`);
      defs[defName] = pruned;
    }
    roots[name] = { schema: prune(root) as Schema, uses: [] };
  }
  // Each root's closure of definitions: JsonValue's own recursive definition is not reached.
  for (const root of Object.values(roots)) {
    const used = new Set<string>();
    const visit = (value: unknown) => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (typeof value !== "object" || value === null) return;
      for (const [key, child] of Object.entries(value)) {
        if (key === "$ref" && typeof child === "string") {
          const ref = child.slice(8);
          if (!used.has(ref)) {
            used.add(ref);
            visit(defs[ref]);
          }
        } else visit(child);
      }
    };
    visit(root.schema);
    root.uses = [...used].sort();
  }
  const reached = new Set(Object.values(roots).flatMap((root) => root.uses));
  for (const key of Object.keys(defs)) if (!reached.has(key)) delete defs[key];
  return { defs, roots };
}

/**
 * party/wire/schemas.generated.ts as it should be now: each definition a constant, each
 * root its schema and the definitions it reaches, so a bundle carries only what it checks.
 */
export function renderSchemasModule(): string {
  const { defs, roots } = generatedSchemas();
  const lines = [
    "// Generated from party/protocol/index.ts by test/support/wire-schemas.ts: do not edit.",
    "// Run `npm run generate`; a unit test fails when this file is stale.",
    'import type { Defs, Schema } from "./check.ts";',
  ];
  for (const [name, def] of Object.entries(defs).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push("", `const $${name}: Schema = ${JSON.stringify(def)};`);
  for (const [name, root] of Object.entries(roots)) {
    lines.push(
      "",
      `/** \`${name}\` from protocol.ts, as data for \`check\`. */`,
      `export const ${name}Schema: Schema = ${JSON.stringify(root.schema)};`,
      `/** The definitions \`${name}Schema\` refers to. */`,
      `export const ${name}Defs: Defs = { ${root.uses.map((use) => `${use}: $${use}`).join(", ")} };`,
    );
  }
  return `${lines.join("\n")}\n`;
}
